import "server-only";
import type { Marked } from "marked";
import { EXPLORE_TABS } from "../../lib/lessons.ts";
import { escapeHtml } from "./markdown.ts";
import type { BlockProblem, RawExplore, RawPrediction } from "./model.ts";

/**
 * The text of the widget blocks a lesson shows (docs/lessons.md): `predict` (a question before a
 * command, answered by choosing or typing) and `explore` (open the Explorer at a tab, with a
 * caption). Each becomes an element with data attributes that app/components/lesson turns into a
 * widget; the page still reads well without it. The right answer of a prediction never reaches the
 * HTML: the page shows what the kernel did, which the prediction's `observe` script reports.
 */

export const MAX_CHOICES = 6;
const CHOICE = /^\s*[-*]\s+\[( |x|X)\]\s*(.*)$/;
const ANSWER = /^answer:\s*(.*)$/i;
const TAB = /^tab:\s*(.*)$/i;

/** A `predict` block; `first` is the line of its first text line (for messages). */
export function parsePrediction(md: Marked, text: string, o: { line: number; first: number; index: number }): RawPrediction {
  const problems: BlockProblem[] = [];
  const question: string[] = [];
  const choices: { text: string; right: boolean; line: number }[] = [];
  let answer: string | null = null;
  let answerLine = 0;
  text.split("\n").forEach((l, i) => {
    const line = o.first + i;
    const c = CHOICE.exec(l);
    const a = ANSWER.exec(l.trim());
    if (c) choices.push({ text: c[2]!.trim(), right: c[1] !== " ", line });
    else if (a) {
      if (answer !== null) problems.push({ line, message: "a prediction has at most one answer: line" });
      answer = a[1]!.trim();
      answerLine = line;
      if (!answer) problems.push({ line, message: "answer: needs a value (or leave the line out)" });
    } else if (choices.length && l.trim()) problems.push({ line, message: "the choices (- [ ] ...) must come last in a predict block" });
    else question.push(l);
  });
  const q = question.join("\n").trim();
  if (!q) problems.push({ line: o.line, message: "the predict block has no question" });
  const kind = choices.length ? "choice" : "text";
  if (kind === "choice") {
    if (choices.length < 2) problems.push({ line: choices[0]!.line, message: "a multiple-choice prediction needs at least 2 choices (or write answer: for a short answer)" });
    if (choices.length > MAX_CHOICES) problems.push({ line: choices[MAX_CHOICES]!.line, message: `a prediction has at most ${MAX_CHOICES} choices` });
    if (choices.filter((c) => c.right).length > 1) problems.push({ line: choices.filter((c) => c.right)[1]!.line, message: "at most one choice is marked [x] (the one the kernel should show)" });
    for (const c of choices) if (!c.text) problems.push({ line: c.line, message: "a choice has no text" });
    if (answer !== null) problems.push({ line: answerLine, message: "answer: is for short-answer predictions; mark the right choice with [x] instead" });
  }
  const right = choices.findIndex((c) => c.right);
  const attrs = `class="nslab-predict" data-nslab-predict data-index="${o.index}" data-kind="${kind}"${kind === "choice" ? ` data-choices="${choices.length}"` : ""}`;
  const list = choices.map((c, i) => `<li data-choice="${i + 1}">${md.parseInline(c.text) as string}</li>\n`).join("");
  const html = `<div ${attrs}>\n<div data-part="question">${md.parse(q) as string}</div>\n${kind === "choice" ? `<ol data-part="choices">\n${list}</ol>\n` : ""}</div>\n`;
  return { line: o.line, kind, html, choices: choices.length, correct: right >= 0 ? right + 1 : null, answer, problems };
}

/** An `explore` block: `tab: NAME` on its first line, then the caption. */
export function parseExplore(md: Marked, text: string, o: { line: number; first: number; index: number }): RawExplore {
  const problems: BlockProblem[] = [];
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trim());
  const m = at >= 0 ? TAB.exec(lines[at]!.trim()) : null;
  let tab: string | null = null;
  if (!m) problems.push({ line: o.first + Math.max(at, 0), message: `an explore block starts with a line tab: ${EXPLORE_TABS.join("|")}` });
  else if (!(EXPLORE_TABS as readonly string[]).includes(m[1]!.trim())) problems.push({ line: o.first + at, message: `unknown Explorer tab "${m[1]!.trim()}" (known: ${EXPLORE_TABS.join(", ")})` });
  else tab = m[1]!.trim();
  const caption = (m ? lines.slice(at + 1) : lines).join("\n").trim();
  if (!caption) problems.push({ line: o.line, message: "the explore block has no caption (say what to look at)" });
  const html = `<div class="nslab-explore" data-nslab-explore data-index="${o.index}" data-tab="${escapeHtml(tab ?? "")}">\n<div data-part="caption">${md.parse(caption) as string}</div>\n</div>\n`;
  return { line: o.line, tab, html, problems };
}

/** Where a prediction's observation appears: after the commands it is about (its `observe` block). */
export function observeSlotHtml(index: number): string {
  return `<div data-nslab-observe data-index="${index}"></div>\n`;
}
