import "server-only";
import type { Token, Tokens } from "marked";
import { parseInfo, type HiddenKind } from "./codeinfo.ts";
import { readFrontmatter } from "./frontmatter.ts";
import { createMarked, lineCount, nestedCodeBlocks, plainText, renderTokens, type CodeToken } from "./markdown.ts";
import { emptyRaw, noWidgets, type RawLesson, type RawStep, type Script } from "./model.ts";
import { observeSlotHtml, parseExplore, parsePrediction } from "./widgets.ts";

const md = createMarked();

const STEP_COMMENT = /^<!--\s*step:\s*(.*?)\s*-->$/;
const FINISH_COMMENT = /^<!--\s*finish\s*-->$/;
const ANY_MARKER = /<!--\s*(step:|finish\b)/;

interface Section {
  kind: "intro" | "step" | "finish";
  tokens: Token[];
  step?: RawStep;
  /** A prediction whose observe block has not come yet: run blocks until then are its commands. */
  openPrediction?: number;
}

const SHOWN = ["run", "copy", "plain"];

/**
 * Reads one nslab lesson file (docs/lessons.md) into the raw model: frontmatter fields, the
 * introduction, steps (split at `## ` headings carrying `<!-- step: id -->`), scripts and hints,
 * each with its source line. Reports only what stops it from reading; schema.ts checks the rest.
 */
export function parseLessonFile(text: string, o: { file: string; folder: string; lang: string }): RawLesson {
  const raw = emptyRaw("nslab", o.folder, o.file, o.lang);
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const fm = readFrontmatter(lines, o.file);
  raw.meta = fm.fields;
  raw.metaLine = fm.line;
  raw.errors.push(...fm.errors);
  raw.metaUnreadable = fm.errors.length > 0;

  const tokens = md.lexer(lines.slice(fm.bodyStart).join("\n"));
  const sections: Section[] = [{ kind: "intro", tokens: [] }];
  let section = sections[0]!;
  let line = fm.bodyStart + 1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const at = line;
    line += lineCount(t.raw);
    if (t.type === "heading" && t.depth === 2) {
      // the marker comment may follow after blank lines
      let j = i + 1;
      let jLine = line;
      while (tokens[j]?.type === "space") jLine += lineCount(tokens[j++]!.raw);
      const next = tokens[j];
      const marker = next?.type === "html" ? next.raw.trim() : "";
      const stepM = STEP_COMMENT.exec(marker);
      if (FINISH_COMMENT.test(marker)) {
        section = { kind: "finish", tokens: [t] };
      } else {
        const step: RawStep = {
          id: stepM ? stepM[1]! : null,
          title: plainText((t as Tokens.Heading).tokens),
          file: o.file,
          line: at,
          html: "",
          hints: [],
          checks: [],
          solutions: [],
          setups: [],
          ...noWidgets(),
        };
        raw.steps.push(step);
        section = { kind: "step", tokens: [], step };
      }
      if (sections.some((s) => s.kind === "finish"))
        raw.errors.push({ file: o.file, line: at, message: "the <!-- finish --> section must be the last: no ## heading may follow it" });
      if (stepM || FINISH_COMMENT.test(marker)) {
        line = jLine + lineCount(next!.raw);
        i = j;
      }
      sections.push(section);
      continue;
    }
    if (t.type === "html" && ANY_MARKER.test(t.raw)) {
      raw.errors.push({ file: o.file, line: at, message: "a <!-- step: id --> or <!-- finish --> comment must come right after a ## heading, alone on its line" });
      continue;
    }
    if (t.type === "code" && t.codeBlockStyle !== "indented") {
      const code = t as Tokens.Code;
      raw.blocks.push({ info: code.lang ?? "", file: o.file, line: at });
      const info = parseInfo(code.lang ?? "", { anyLanguage: true });
      if (!("error" in info) && !SHOWN.includes(info.kind)) {
        hidden(raw, section, info.kind as HiddenKind, code, at, o.file);
        continue;
      }
      if (!("error" in info) && info.kind === "run" && section.step) {
        section.step.flow.push({ kind: "run", line: at });
        if (section.openPrediction !== undefined) (code as CodeToken).nslabPredict = section.openPrediction;
      }
    } else if (t.type === "list" || t.type === "blockquote") {
      nestedCodeBlocks(t, at, lines, (code, l) => {
        raw.blocks.push({ info: code.lang ?? "", file: o.file, line: l });
        const info = parseInfo(code.lang ?? "", { anyLanguage: true });
        if (!("error" in info) && !SHOWN.includes(info.kind))
          raw.misplaced.push({ kind: info.kind as HiddenKind, where: t.type === "list" ? "a list" : "a blockquote", file: o.file, line: l });
        else if (!("error" in info) && info.kind === "run" && section.step) {
          section.step.flow.push({ kind: "run", line: l });
          if (section.openPrediction !== undefined) (code as CodeToken).nslabPredict = section.openPrediction;
        }
      });
    }
    section.tokens.push(t);
  }

  for (const s of sections) {
    const html = renderTokens(md, s.tokens, tokens.links);
    if (s.kind === "intro") raw.introHtml = html;
    else if (s.kind === "finish") raw.finishHtml = html;
    else s.step!.html = html;
  }
  return raw;
}

/** A script, hint or widget block at the top level of a section. */
function hidden(raw: RawLesson, section: Section, kind: HiddenKind, code: Tokens.Code, line: number, file: string): void {
  const step = section.step;
  const where = `the ${section.kind === "intro" ? "introduction" : "finish section"}`;
  if (kind === "setup" && section.kind === "intro") return void raw.introSetups.push({ kind, text: code.text, file, line });
  if (!step) return void raw.misplaced.push({ kind, where, file, line });
  const html = (h: string) => section.tokens.push({ type: "html", raw: h, text: h, block: true, pre: false } as Tokens.HTML);
  switch (kind) {
    case "hint":
      step.hints.push(renderHint(raw, code.text, line + 1, file));
      return;
    case "answer":
      step.answers.push({ html: md.parse(code.text) as string, empty: code.text.trim() === "", line });
      return;
    case "predict": {
      const p = parsePrediction(md, code.text, { line, first: line + 1, index: step.predictions.length });
      section.openPrediction = step.predictions.length;
      step.predictions.push(p);
      step.flow.push({ kind, line });
      html(p.html);
      return;
    }
    case "explore": {
      const e = parseExplore(md, code.text, { line, first: line + 1, index: step.explores.length });
      step.explores.push(e);
      step.flow.push({ kind, line });
      html(e.html);
      return;
    }
    case "observe":
      if (section.openPrediction !== undefined) html(observeSlotHtml(section.openPrediction));
      section.openPrediction = undefined;
      step.observes.push({ kind, text: code.text, file, line });
      step.flow.push({ kind, line });
      return;
    case "highlight":
      step.highlights.push({ kind, text: code.text, file, line });
      step.flow.push({ kind, line });
      return;
    default: {
      const script: Script = { kind, text: code.text, file, line };
      (kind === "check" ? step.checks : kind === "solution" ? step.solutions : step.setups).push(script);
    }
  }
}

/** A hint is Markdown of its own; its code blocks are checked like the step's. */
function renderHint(raw: RawLesson, text: string, firstLine: number, file: string): { html: string; empty: boolean; line: number } {
  const tokens = md.lexer(text);
  let line = firstLine;
  for (const t of tokens) {
    if (t.type === "code" && t.codeBlockStyle !== "indented") {
      raw.blocks.push({ info: (t as Tokens.Code).lang ?? "", file, line });
      const info = parseInfo((t as Tokens.Code).lang ?? "", { anyLanguage: true });
      if (!("error" in info) && !SHOWN.includes(info.kind))
        raw.misplaced.push({ kind: info.kind as HiddenKind, where: "a hint", file, line });
    }
    line += lineCount(t.raw);
  }
  return { html: renderTokens(md, tokens, tokens.links), empty: text.trim() === "", line: firstLine - 1 };
}
