import "server-only";
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

export class NoSuchScriptError extends Error {
  constructor(
    readonly code: "unknown_lesson" | "unknown_step" | "no_check" | "no_solution",
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
}

export class LessonRunner {
  private readonly setupByLab = new WeakMap<LabHandle, ScriptResult[]>();

  constructor(readonly lessons: LessonLibrary) {}

  private stepScripts(lessonId: string, stepId: string) {
    if (!this.lessons.has(lessonId)) throw new NoSuchScriptError("unknown_lesson", `There is no lesson "${lessonId}".`);
    const s = this.lessons.scripts(lessonId, stepId);
    if (!s) throw new NoSuchScriptError("unknown_step", `Lesson "${lessonId}" has no step "${stepId}".`);
    return s;
  }

  /** Runs a step's check: exit 0 passes; the first line it prints is the learner's feedback. */
  async runCheck(lab: LabHandle, lessonId: string, stepId: string): Promise<CheckResult> {
    const { check } = this.stepScripts(lessonId, stepId);
    if (check === null) throw new NoSuchScriptError("no_check", `Step "${stepId}" has nothing to check.`);
    const r = await lab.exec(check, { timeoutMs: CHECK_TIMEOUT_MS });
    if (r.timedOut) return { passed: false, feedback: "The check timed out." };
    const passed = r.code === 0;
    return { passed, feedback: firstLine(r.stdout) || (passed ? "Passed." : "Not yet.") };
  }

  /** Runs a step's solution, which brings the lab into the state the step's check wants. */
  async runSolution(lab: LabHandle, lessonId: string, stepId: string): Promise<ScriptResult> {
    const { solution } = this.stepScripts(lessonId, stepId);
    if (solution === null) throw new NoSuchScriptError("no_solution", `Step "${stepId}" has no solution.`);
    return result(await lab.exec(solution, { timeoutMs: SCRIPT_TIMEOUT_MS }));
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
      const r = result(await lab.exec(s, { timeoutMs: SCRIPT_TIMEOUT_MS }));
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

function result(r: ExecResult): ScriptResult {
  const output = (r.stdout + r.stderr).slice(-OUTPUT_MAX);
  return { ok: r.code === 0 && !r.timedOut, code: r.code, timedOut: r.timedOut, output };
}

/** The first non-empty line, without control characters (it is shown as text), at most FEEDBACK_MAX long. */
export function firstLine(out: string): string {
  for (const l of out.split("\n")) {
    // eslint-disable-next-line no-control-regex
    const t = l.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "").trim();
    if (t) return t.length > FEEDBACK_MAX ? t.slice(0, FEEDBACK_MAX - 1) + "…" : t;
  }
  return "";
}
