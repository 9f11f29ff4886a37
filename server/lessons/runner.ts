import "server-only";
import { NS_TYPES, type NsType } from "../../lib/protocol.ts";
import { DEFAULT_LANG, type Lang } from "../../lib/languages.ts";
import type { ExploreTarget, HighlightResponse, ObserveResponse } from "../../lib/lessons.ts";
import type { ExecResult, LabHandle } from "../labs/types.ts";
import type { LessonLibrary } from "./library.ts";

/**
 * Runs a lesson's scripts in a lab: a step's check (feedback for the learner), its solution, and
 * the lesson's setup when a lab is created for it. Scripts come from the library, never from a
 * request.
 */

export const CHECK_TIMEOUT_MS = 10_000;
/** Solutions and setup may wait for what they start (a namespace, a server): a little longer. */
export const SCRIPT_TIMEOUT_MS = 30_000;
export const FEEDBACK_MAX = 300;
export const OUTPUT_MAX = 4000;

export const OBSERVE_TEXT_MAX = 600;
export const MAX_TARGETS = 64;

/** What the runner itself says, in the learner's language (a script speaks through `say`). */
const TEXT: Record<Lang, Record<"passed" | "notYet" | "timedOut" | "notObserved" | "observeTimedOut" | "unreadable" | "nothingFound", string>> = {
  en: {
    passed: "Passed.",
    notYet: "Not yet.",
    timedOut: "The check timed out.",
    notObserved: "Nothing to see yet: run the command first.",
    observeTimedOut: "Looking at the lab took too long. Try again.",
    unreadable: "The lab's answer could not be read.",
    nothingFound: "Nothing to show yet: do the step first.",
  },
  "zh-CN": {
    passed: "通过。",
    notYet: "还没有完成。",
    timedOut: "检查超时了。",
    notObserved: "还看不到结果：先运行命令。",
    observeTimedOut: "查看实验环境花的时间太长了，请再试一次。",
    unreadable: "无法读取实验环境给出的结果。",
    nothingFound: "还没有可以显示的内容：先完成这一步。",
  },
};

export interface RunOptions {
  /** The learner's language: scripts see it as $NSLAB_LANG and answer through `say EN ZH`. */
  lang?: Lang;
  /** What the learner typed for a step with an answer block ($NSLAB_ANSWER in the check). */
  answer?: string;
}

/**
 * The line put before every script: the learner's language, `say` (prints its first argument, or
 * its second on a Chinese page) and, for a check, the learner's answer. One line, so that a
 * script's own line numbers are off by one only.
 */
export function prelude(o: RunOptions = {}): string {
  const lang = o.lang ?? DEFAULT_LANG;
  const answer = o.answer === undefined ? "" : ` NSLAB_ANSWER=${shellQuote(cleanAnswer(o.answer))}; export NSLAB_ANSWER;`;
  return `NSLAB_LANG=${lang}; export NSLAB_LANG;${answer} say() { if [ "$NSLAB_LANG" = zh-CN ] && [ $# -ge 2 ]; then printf '%s\\n' "$2"; else printf '%s\\n' "$1"; fi; }\n`;
}

/** An answer as a check sees it: one line, no control characters, trimmed. (The API refuses worse.) */
export function cleanAnswer(a: string): string {
  // eslint-disable-next-line no-control-regex
  return a.replace(/[\x00-\x1f\x7f]/g, " ").trim().slice(0, 200);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class NoSuchScriptError extends Error {
  constructor(
    readonly code: "unknown_lesson" | "unknown_step" | "no_check" | "no_solution" | "unknown_widget",
    message: string,
  ) {
    super(message);
  }
}

export interface CheckResult {
  passed: boolean;
  feedback: string;
}

export interface ScriptResult {
  ok: boolean; // exit 0 within the time limit
  code: number | null;
  timedOut: boolean;
  output: string; // stdout then stderr, the last OUTPUT_MAX characters
  /** For a step with an answer: the last line the solution printed, the answer it gives the check. */
  answer?: string;
}

export class LessonRunner {
  private readonly setupByLab = new WeakMap<LabHandle, ScriptResult[]>();

  private readonly checkMs: number;
  private readonly scriptMs: number;

  /**
   * `timeScale` (Config.scriptTimeScale, NSLAB_SCRIPT_TIME_SCALE): checks, solutions and setup may
   * take this many times their usual limit, on a machine where every process start is slow (the
   * VM suite runs under emulation with 15).
   */
  constructor(
    readonly lessons: LessonLibrary,
    o: { timeScale?: number } = {},
  ) {
    this.checkMs = CHECK_TIMEOUT_MS * (o.timeScale ?? 1);
    this.scriptMs = SCRIPT_TIMEOUT_MS * (o.timeScale ?? 1);
  }

  private stepScripts(lessonId: string, stepId: string) {
    if (!this.lessons.has(lessonId)) throw new NoSuchScriptError("unknown_lesson", `There is no lesson "${lessonId}".`);
    const s = this.lessons.scripts(lessonId, stepId);
    if (!s) throw new NoSuchScriptError("unknown_step", `Lesson "${lessonId}" has no step "${stepId}".`);
    return s;
  }

  /** Runs a step's check: exit 0 passes; the first line it prints is the learner's feedback. */
  async runCheck(lab: LabHandle, lessonId: string, stepId: string, o: RunOptions = {}): Promise<CheckResult> {
    const { check, hasAnswer } = this.stepScripts(lessonId, stepId);
    if (check === null) throw new NoSuchScriptError("no_check", `Step "${stepId}" has nothing to check.`);
    const t = TEXT[o.lang ?? DEFAULT_LANG];
    const r = await lab.exec(prelude({ lang: o.lang, ...(hasAnswer ? { answer: o.answer ?? "" } : {}) }) + check, { timeoutMs: this.checkMs });
    if (r.timedOut) return { passed: false, feedback: t.timedOut };
    const passed = r.code === 0;
    return { passed, feedback: firstLine(r.stdout) || (passed ? t.passed : t.notYet) };
  }

  /** Runs a step's solution, which brings the lab into the state the step's check wants. */
  async runSolution(lab: LabHandle, lessonId: string, stepId: string, o: RunOptions = {}): Promise<ScriptResult> {
    const { solution, hasAnswer } = this.stepScripts(lessonId, stepId);
    if (solution === null) throw new NoSuchScriptError("no_solution", `Step "${stepId}" has no solution.`);
    const r = await lab.exec(prelude({ lang: o.lang }) + solution, { timeoutMs: this.scriptMs });
    return { ...result(r), ...(hasAnswer ? { answer: cleanAnswer(lastLine(r.stdout)) } : {}) };
  }

  /**
   * Runs a prediction's observe script: exit 0 and the first line is the kernel's answer (the number
   * of a choice, or a short answer), the next lines say what happened; another exit status means
   * there is nothing to observe yet, and the first line says why.
   */
  async runObserve(lab: LabHandle, lessonId: string, stepId: string, index: number, o: RunOptions = {}): Promise<ObserveResponse> {
    const p = this.stepScripts(lessonId, stepId).predictions[index];
    if (!p) throw new NoSuchScriptError("unknown_widget", `Step "${stepId}" has no prediction ${index}.`);
    const t = TEXT[o.lang ?? DEFAULT_LANG];
    const r = await lab.exec(prelude({ lang: o.lang }) + p.observe, { timeoutMs: this.checkMs });
    if (r.timedOut) return { observed: false, answer: null, text: t.observeTimedOut };
    const lines = cleanLines(r.stdout);
    if (r.code !== 0) return { observed: false, answer: null, text: lines[0] ?? t.notObserved };
    const answer = lines[0] ?? "";
    const n = Number(answer);
    if (!answer || (p.kind === "choice" && !(Number.isInteger(n) && n >= 1 && n <= p.choices))) {
      console.error(`nslab lessons: the observe script of ${lessonId}/${stepId} prediction ${index} answered "${answer.slice(0, 80)}", not ${p.kind === "choice" ? `a choice from 1 to ${p.choices}` : "a value"}`);
      return { observed: false, answer: null, text: t.unreadable };
    }
    return { observed: true, answer, text: cut(lines.slice(1).join(" "), OBSERVE_TEXT_MAX) };
  }

  /** Runs an explore block's highlight script: exit 0 and one target per line (parseTargets). */
  async runHighlight(lab: LabHandle, lessonId: string, stepId: string, index: number, o: RunOptions = {}): Promise<HighlightResponse> {
    const x = this.stepScripts(lessonId, stepId).explores[index];
    if (!x) throw new NoSuchScriptError("unknown_widget", `Step "${stepId}" has no explore block ${index}.`);
    const t = TEXT[o.lang ?? DEFAULT_LANG];
    const r = await lab.exec(prelude({ lang: o.lang }) + x.highlight, { timeoutMs: this.checkMs });
    if (r.timedOut) return { found: false, message: t.observeTimedOut, targets: [] };
    if (r.code !== 0) return { found: false, message: firstLine(r.stdout) || t.nothingFound, targets: [] };
    const { targets, bad } = parseTargets(r.stdout);
    if (bad.length) console.error(`nslab lessons: the highlight script of ${lessonId}/${stepId} block ${index} printed lines that are not targets: ${bad.slice(0, 3).join(" | ")}`);
    return targets.length ? { found: true, message: "", targets } : { found: false, message: t.nothingFound, targets: [] };
  }

  /**
   * Runs every setup block of a lesson in order (the server hands this to the LabManager as what
   * to do when a lab is made for a lesson). A failing block is logged, not thrown: the learner
   * still gets a lab, and the results stay available to the verifier through setupResults().
   */
  async runSetup(lab: LabHandle, lessonId: string): Promise<ScriptResult[]> {
    const scripts = this.lessons.setupScripts(lessonId);
    if (scripts === null) throw new NoSuchScriptError("unknown_lesson", `There is no lesson "${lessonId}".`);
    const results: ScriptResult[] = [];
    for (const [i, s] of scripts.entries()) {
      const r = result(await lab.exec(prelude() + s, { timeoutMs: this.scriptMs }));
      if (!r.ok) console.error(`nslab lessons: setup block ${i + 1} of "${lessonId}" failed in lab ${lab.id} (${r.timedOut ? "timed out" : `exit ${r.code}`}): ${r.output.slice(-500)}`);
      results.push(r);
    }
    this.setupByLab.set(lab, results);
    return results;
  }

  /** What runSetup returned for this lab, if it ran. */
  setupResults(lab: LabHandle): ScriptResult[] | undefined {
    return this.setupByLab.get(lab);
  }
}

const NUM = /^[1-9][0-9]{0,9}$/;
const num = (s: string | undefined, max: number): number | null => (s !== undefined && NUM.test(s) && Number(s) <= max ? Number(s) : null);

/**
 * What a highlight script printed, one target per line: `pid N` (a PID in the lab), `ns TYPE INODE`
 * or `ns TYPE:[INODE]`, `mount ID`, `peer GROUP`, `mounts PID [PID]`. Empty lines are skipped;
 * anything else is returned in `bad`.
 */
export function parseTargets(out: string): { targets: ExploreTarget[]; bad: string[] } {
  const targets: ExploreTarget[] = [];
  const bad: string[] = [];
  for (const line of cleanLines(out)) {
    const w = line.split(/\s+/);
    let t: ExploreTarget | null = null;
    if (w[0] === "pid" && w.length === 2 && num(w[1], 4_194_304)) t = { kind: "pid", pid: num(w[1], 4_194_304)! };
    else if (w[0] === "ns" && (w.length === 2 || w.length === 3)) {
      const m = w.length === 2 ? /^([a-z]+):\[([0-9]+)\]$/.exec(w[1]!) : [null, w[1], w[2]];
      const ino = num(m?.[2] ?? undefined, 2 ** 32);
      if (m && (NS_TYPES as readonly string[]).includes(m[1]!) && ino) t = { kind: "ns", type: m[1] as NsType, ino };
    } else if (w[0] === "mount" && w.length === 2 && num(w[1], 2 ** 31)) t = { kind: "mount", id: num(w[1], 2 ** 31)! };
    else if (w[0] === "peer" && w.length === 2 && num(w[1], 2 ** 31)) t = { kind: "peer", group: num(w[1], 2 ** 31)! };
    else if (w[0] === "mounts" && (w.length === 2 || w.length === 3) && w.slice(1).every((x) => num(x, 4_194_304))) t = { kind: "mounts", pids: w.slice(1).map(Number) };
    if (t && targets.length < MAX_TARGETS) targets.push(t);
    else if (!t) bad.push(line.slice(0, 100));
  }
  return { targets, bad };
}

function result(r: ExecResult): ScriptResult {
  const output = (r.stdout + r.stderr).slice(-OUTPUT_MAX);
  return { ok: r.code === 0 && !r.timedOut, code: r.code, timedOut: r.timedOut, output };
}

/** The first non-empty line, without control characters (it is shown as text), at most FEEDBACK_MAX long. */
export function firstLine(out: string): string {
  return cut(cleanLines(out)[0] ?? "", FEEDBACK_MAX);
}

function lastLine(out: string): string {
  return cleanLines(out).at(-1) ?? "";
}

/** Non-empty lines, trimmed, without terminal escapes and control characters. */
function cleanLines(out: string): string[] {
  const lines: string[] = [];
  for (const l of out.split("\n")) {
    // eslint-disable-next-line no-control-regex
    const t = l.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "").trim();
    if (t) lines.push(t);
  }
  return lines;
}

function cut(t: string, max: number): string {
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}
