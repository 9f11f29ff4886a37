import "server-only";
import path from "node:path";
import type { Tokens } from "marked";
import { parseInfo, type HiddenKind } from "./codeinfo.ts";
import { JsonSyntaxError, parseJsonWithLines, toValue, type JsonEntry, type JsonNode } from "./jsonlines.ts";
import * as files from "./files.ts";
import { killercodaExtension, rewriteFences } from "./killercoda-markdown.ts";
import { codeBlockHtml, createMarked, lineCount, nestedCodeBlocks } from "./markdown.ts";
import { noWidgets, emptyRaw, type RawLesson, type Script, type ScriptKind } from "./model.ts";

/**
 * Loads a Killercoda/Katacoda scenario folder (index.json + Markdown + scripts) into the same raw
 * model as an nslab lesson: `verify` is the step's check, `background` runs as setup, an optional
 * `solutionN.sh` beside `verifyN.sh` is the solution, `foreground` is offered as a run block at the
 * top of its step. index.json problems are reported at the line of the offending key.
 */

const md = createMarked(killercodaExtension);

const TOP_KEYS = ["title", "description", "difficulty", "time", "details", "backend", "interface", "environment", "icon", "nslab"];
const NSLAB_KEYS = ["order", "minutes", "namespaces", "prerequisites"];
const STEP_KEYS = ["title", "text", "verify", "background", "foreground"];
const INTRO_KEYS = ["title", "text", "background", "foreground"];
const FINISH_KEYS = ["title", "text", "background", "foreground"];
const BACKEND_KEYS = ["imageid"];
/** Killercoda images that are one plain Linux host, which is what a lab is */
const PLAIN_IMAGE = /^(ubuntu|debian)[\w.-]*$/;
/** without "time": an estimate, so the catalogue can still say how long it takes */
const MINUTES_PER_STEP = 5;
const DEFAULT_ORDER = 1000; // scenarios without an nslab block come after the course

export interface ScenarioOptions {
  folder: string; // the folder's name, which is the lesson id
  display(abs: string): string; // how to name a file in messages
}

export function loadScenario(dir: string, o: ScenarioOptions): RawLesson {
  const indexFile = o.display(files.join(dir, "index.json"));
  const raw = emptyRaw("killercoda", o.folder, indexFile, "en");
  raw.metaNames = {
    id: "the folder name",
    title: "title",
    summary: "description",
    minutes: "time (or nslab.minutes)",
    order: "nslab.order",
    namespaces: "nslab.namespaces",
    prerequisites: "nslab.prerequisites",
  };
  const err = (line: number, message: string, file = indexFile) => raw.errors.push({ file, line, message });
  const scenario = new ScenarioFiles(files.resolve(dir), o.display, err);
  raw.metaUnreadable = true; // until index.json turns out to be an object
  let root: JsonNode;
  try {
    root = parseJsonWithLines(files.readText(files.join(dir, "index.json")));
  } catch (e) {
    if (e instanceof JsonSyntaxError) err(e.line, `index.json is not valid JSON: ${e.message}`);
    else err(1, `cannot read index.json: ${(e as Error).message}`);
    return raw;
  }
  const top = object(root, "index.json", err, TOP_KEYS);
  if (!top) return raw;
  raw.metaUnreadable = false;

  raw.meta.set("id", { value: o.folder, line: 1 });
  raw.meta.set("order", { value: DEFAULT_ORDER, line: 1 });
  raw.meta.set("namespaces", { value: [], line: 1 });
  raw.meta.set("prerequisites", { value: [], line: 1 });
  const title = top.get("title");
  if (title) raw.meta.set("title", { value: toValue(title.node), line: title.keyLine });
  // Killercoda needs only title, details and backend: description and time are optional there
  const desc = top.get("description");
  raw.meta.set("summary", desc ? { value: toValue(desc.node), line: desc.keyLine } : { value: "", line: 1 });
  const time = top.get("time");
  const minutes = time ? /(\d+)/.exec(String(toValue(time.node))) : null;
  // "time": "10 minutes" in Killercoda; without a number the schema reports it at this line
  if (time) raw.meta.set("minutes", { value: minutes ? Number(minutes[1]) : toValue(time.node), line: time.keyLine });
  const backend = top.get("backend");
  if (backend) checkBackend(raw, backend, indexFile);
  const ext = top.get("nslab");
  if (ext) {
    const fields = object(ext.node, "nslab", err, NSLAB_KEYS);
    for (const [k, e] of fields ?? []) raw.meta.set(k, { value: toValue(e.node), line: e.keyLine });
  }

  const details = top.get("details");
  if (!details) return err(1, "index.json has no details (intro, steps, finish)"), raw;
  const d = object(details.node, "details", err, ["intro", "steps", "finish", "assets"]);
  if (!d) return raw;
  const assets = d.get("assets");
  if (assets) err(assets.keyLine, "details.assets is not supported: a lab has no host to copy files to (put the files in a background script)");
  const intro = d.get("intro");
  if (intro) {
    const f = object(intro.node, "details.intro", err, INTRO_KEYS);
    if (f) {
      raw.introHtml = foreground(scenario, f) + render(raw, scenario, f, "details.intro", intro.keyLine);
      const bg = scenario.script(f.get("background"), "setup");
      if (bg) raw.introSetups.push(bg);
    }
  }

  const steps = d.get("steps");
  if (!steps || steps.node.kind !== "array") err(steps?.keyLine ?? details.keyLine, "details.steps must be a list of steps");
  else
    steps.node.items.forEach((item, i) => {
      const n = i + 1;
      const f = object(item, `details.steps[${i}]`, err, STEP_KEYS);
      if (!f) return;
      const t = f.get("title");
      const stepTitle = t ? toValue(t.node) : `Step ${n}`;
      if (typeof stepTitle !== "string" || !stepTitle.trim()) err(t?.keyLine ?? item.line, `details.steps[${i}].title must be a non-empty string`);
      const verify = scenario.script(f.get("verify"), "check");
      const solution = verify ? scenario.solutionBeside(f.get("verify")!) : null;
      const bg = scenario.script(f.get("background"), "setup");
      raw.steps.push({
        id: `step${n}`,
        title: typeof stepTitle === "string" ? stepTitle.trim() : "",
        file: indexFile,
        line: item.line,
        html: foreground(scenario, f) + render(raw, scenario, f, `details.steps[${i}]`, item.line),
        hints: [],
        checks: verify ? [verify] : [],
        solutions: solution ? [solution] : [],
        setups: bg ? [bg] : [],
        ...noWidgets(),
      });
    });

  const finish = d.get("finish");
  if (finish) {
    const f = object(finish.node, "details.finish", err, FINISH_KEYS);
    if (f) {
      raw.finishHtml = foreground(scenario, f) + render(raw, scenario, f, "details.finish", finish.keyLine);
      const bg = f.get("background");
      if (bg && scenario.read(bg, "details.finish.background"))
        note(raw, bg.keyLine, "details.finish.background is not run: nslab runs background scripts when the lab is made, and the finish page has no lab step after it");
    }
  }
  if (!raw.meta.has("minutes")) raw.meta.set("minutes", { value: Math.max(1, raw.steps.length) * MINUTES_PER_STEP, line: 1 });
  return raw;
}

function note(raw: RawLesson, line: number, message: string): void {
  raw.notes.push({ file: raw.file, line, message });
}

/** The backend is Killercoda's choice of VM image. A lab is always one namespace lab on this host. */
function checkBackend(raw: RawLesson, backend: JsonEntry, file: string): void {
  if (backend.node.kind !== "object") {
    raw.errors.push({ file, line: backend.keyLine, message: "backend must be an object like { \"imageid\": \"ubuntu\" }" });
    return;
  }
  for (const [k, e] of backend.node.entries) {
    if (!BACKEND_KEYS.includes(k)) {
      note(raw, e.keyLine, `backend.${k} is ignored (nslab runs every scenario in a namespace lab on its own host)`);
      continue;
    }
    const image = toValue(e.node);
    if (typeof image !== "string" || !PLAIN_IMAGE.test(image))
      note(raw, e.keyLine, `backend.imageid ${JSON.stringify(image)} is ignored: the scenario runs in a namespace lab with this host's programs, not on that image, so commands it expects (kubectl, docker, ...) may be missing`);
  }
}

type Err = (line: number, message: string, file?: string) => void;

/** The entries of an object node, reporting keys nslab does not know (at their own line). */
function object(node: JsonNode, what: string, err: Err, known: string[]): Map<string, JsonEntry> | null {
  if (node.kind !== "object") return err(node.line, `${what} must be an object`), null;
  for (const [k, e] of node.entries)
    if (!known.includes(k)) err(e.keyLine, `unknown key "${k}" in ${what} (nslab knows: ${known.join(", ")})`);
  return node.entries;
}

/** Files a scenario names, read from inside its folder only. */
class ScenarioFiles {
  constructor(
    private readonly dir: string,
    private readonly display: (abs: string) => string,
    private readonly err: Err,
  ) {}

  read(entry: JsonEntry | undefined, what: string): { text: string; file: string } | null {
    if (!entry) return null;
    const rel = toValue(entry.node);
    if (typeof rel !== "string" || !rel.trim()) return this.err(entry.keyLine, `${what} must name a file in the scenario folder`), null;
    const abs = files.resolve(this.dir, rel);
    if (path.isAbsolute(rel) || !abs.startsWith(this.dir + path.sep))
      return this.err(entry.keyLine, `${what} "${rel}" must be a path inside the scenario folder`), null;
    try {
      return { text: files.readText(abs), file: this.display(abs) };
    } catch {
      return this.err(entry.keyLine, `${what}: the file "${rel}" does not exist`), null;
    }
  }

  script(entry: JsonEntry | undefined, kind: ScriptKind): Script | null {
    const f = this.read(entry, kind === "check" ? "verify" : "background");
    return f ? { kind, text: f.text, file: f.file, line: 1 } : null;
  }

  /** nslab extension: verify1.sh -> solution1.sh, step1/verify.sh -> step1/solution.sh. */
  solutionBeside(verify: JsonEntry): Script | null {
    const rel = toValue(verify.node);
    if (typeof rel !== "string" || !/^verify/.test(path.basename(rel))) return null;
    const abs = files.resolve(this.dir, path.dirname(rel), path.basename(rel).replace(/^verify/, "solution"));
    if (!files.exists(abs)) return null;
    return { kind: "solution", text: files.readText(abs), file: this.display(abs), line: 1 };
  }
}

/** A foreground script is typed into the terminal by Killercoda; nslab offers it as a run block. */
function foreground(scenario: ScenarioFiles, f: Map<string, JsonEntry>): string {
  const fg = scenario.read(f.get("foreground"), "foreground");
  return fg && fg.text.trim() ? codeBlockHtml(fg.text.trim(), { kind: "run", lang: "bash", interrupt: false }) : "";
}

function render(raw: RawLesson, scenario: ScenarioFiles, f: Map<string, JsonEntry>, what: string, line0: number): string {
  const text = f.get("text");
  if (!text) {
    if (what !== "details.finish") raw.errors.push({ file: raw.file, line: line0, message: `${what} has no text (a Markdown file)` });
    return "";
  }
  const src = scenario.read(text, `${what}.text`);
  if (!src) return "";
  const { text: rewritten, errors } = rewriteFences(src.text, src.file);
  raw.errors.push(...errors);
  const tokens = md.lexer(rewritten);
  const lines = rewritten.split("\n");
  let line = 1;
  const note = (code: Tokens.Code, at: number) => {
    if (code.codeBlockStyle === "indented") return;
    raw.blocks.push({ info: code.lang ?? "", file: src.file, line: at });
    const info = parseInfo(code.lang ?? "", { anyLanguage: true });
    if (!("error" in info) && !["run", "copy", "plain"].includes(info.kind))
      raw.misplaced.push({ kind: info.kind as HiddenKind, where: "a scenario's text (its scripts are files named in index.json)", file: src.file, line: at });
  };
  for (const t of tokens) {
    if (t.type === "code") note(t as Tokens.Code, line);
    else nestedCodeBlocks(t, line, lines, note);
    line += lineCount(t.raw);
  }
  return md.parser(tokens);
}
