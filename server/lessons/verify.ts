import "server-only";
import type { LabHandle } from "../labs/types.ts";
import type { LessonRunner } from "./runner.ts";

/**
 * End-to-end verification of lessons in real labs, shared by scripts/verify-lessons.ts and
 * lessons.e2e.test.ts: in a fresh lab for the lesson (setup ran), each step's check must fail,
 * then pass once the step's solution ran. Steps run in order in one lab, as a learner would.
 */

export interface Verdict {
  ok: boolean;
  message: string;
  ms: number;
}

/** Did the lesson's setup run, and did every block succeed? */
export function verifySetup(runner: LessonRunner, lab: LabHandle, lessonId: string): Verdict {
  const t0 = Date.now();
  const results = runner.setupResults(lab);
  const n = runner.lessons.setupScripts(lessonId)?.length ?? 0;
  if (!results) return { ok: false, message: "the lab manager did not run the lesson's setup", ms: 0 };
  const bad = results.findIndex((r) => !r.ok);
  if (bad >= 0) {
    const r = results[bad]!;
    return { ok: false, message: `setup block ${bad + 1} of ${n} ${r.timedOut ? "timed out" : `exited with ${r.code}`}: ${tail(r.output)}`, ms: Date.now() - t0 };
  }
  return { ok: true, message: n ? `${n} setup block${n === 1 ? "" : "s"} ran` : "no setup", ms: Date.now() - t0 };
}

/** check fails -> solution -> check passes, for one step. */
export async function verifyStep(runner: LessonRunner, lab: LabHandle, lessonId: string, stepId: string): Promise<Verdict> {
  const t0 = Date.now();
  const done = (ok: boolean, message: string): Verdict => ({ ok, message, ms: Date.now() - t0 });
  const s = runner.lessons.scripts(lessonId, stepId);
  if (!s) return done(false, "no such step");
  if (s.check === null) return done(false, "the step has no check, so nothing can be verified");
  if (s.solution === null) return done(false, "the step has no solution, so its check cannot be verified");
  const before = await runner.runCheck(lab, lessonId, stepId);
  if (before.passed) return done(false, `the check passes before the solution ran ("${before.feedback}")`);
  const sol = await runner.runSolution(lab, lessonId, stepId);
  const after = await runner.runCheck(lab, lessonId, stepId);
  const solNote = sol.ok ? "" : `the solution ${sol.timedOut ? "timed out" : `exited with ${sol.code}`} (${tail(sol.output)}); `;
  if (!after.passed) return done(false, `${solNote}the check still fails after the solution: "${after.feedback}"`);
  if (!sol.ok) return done(false, `${solNote}although the check then passed`);
  return done(true, after.feedback);
}

function tail(s: string): string {
  const t = s.trim().split("\n").slice(-3).join(" | ");
  return t ? t.slice(-300) : "no output";
}
