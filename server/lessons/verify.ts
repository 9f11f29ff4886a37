import "server-only";
import type { Lang } from "../../lib/languages.ts";
import type { ExploreTarget } from "../../lib/lessons.ts";
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

/** A wrong answer for steps that ask for one: the check must refuse it (and an empty one). */
const WRONG_ANSWERS = ["", "0"];

/**
 * One step: in every language of the lesson, the check fails; the solution runs; in every language
 * the check passes. A step with an answer is checked with wrong answers first and then with the
 * one its solution printed. Then each prediction's observe script must report what the kernel did
 * (the choice marked [x], or the answer: value, when the lesson gives one), and each explore
 * block's highlight script must find things that exist in the lab.
 */
export async function verifyStep(runner: LessonRunner, lab: LabHandle, lessonId: string, stepId: string): Promise<Verdict> {
  const t0 = Date.now();
  const done = (ok: boolean, message: string): Verdict => ({ ok, message, ms: Date.now() - t0 });
  const s = runner.lessons.scripts(lessonId, stepId);
  if (!s) return done(false, "no such step");
  if (s.check === null) return done(false, "the step has no check, so nothing can be verified");
  if (s.solution === null) return done(false, "the step has no solution, so its check cannot be verified");
  const meta = runner.lessons.get(lessonId)!.meta;
  const langs: Lang[] = meta.languages;
  // a Killercoda scenario has one language, English; an nslab lesson answers in each of its own
  const speaks = (text: string, lang: Lang, what: string) => (meta.format === "nslab" ? languageProblem(text, lang, what) : null);
  for (const lang of langs)
    for (const answer of s.hasAnswer ? WRONG_ANSWERS : [undefined]) {
      const before = await runner.runCheck(lab, lessonId, stepId, { lang, ...(answer !== undefined ? { answer } : {}) });
      if (before.passed) return done(false, `the check passes before the solution ran (${lang}${answer !== undefined ? `, answer "${answer}"` : ""}: "${before.feedback}")`);
      const bad = speaks(before.feedback, lang, "the check's feedback before the solution");
      if (bad) return done(false, bad);
    }
  const sol = await runner.runSolution(lab, lessonId, stepId);
  const solNote = sol.ok ? "" : `the solution ${sol.timedOut ? "timed out" : `exited with ${sol.code}`} (${tail(sol.output)}); `;
  if (s.hasAnswer && !sol.answer) return done(false, `${solNote}the step asks for an answer, but its solution printed none (the last line it prints is the answer)`);
  let feedback = "";
  for (const lang of langs) {
    const after = await runner.runCheck(lab, lessonId, stepId, { lang, ...(sol.answer !== undefined ? { answer: sol.answer } : {}) });
    if (!after.passed) return done(false, `${solNote}the check still fails after the solution (${lang}): "${after.feedback}"`);
    const bad = speaks(after.feedback, lang, "the check's feedback after the solution");
    if (bad) return done(false, bad);
    if (lang === "en") feedback = after.feedback;
  }
  if (!sol.ok) return done(false, `${solNote}although the check then passed`);
  const notes: string[] = [];
  for (const [i, p] of s.predictions.entries())
    for (const lang of langs) {
      const o = await runner.runObserve(lab, lessonId, stepId, i, { lang });
      const what = `prediction ${i + 1} (${lang})`;
      if (!o.observed) return done(false, `${what}: its observe script saw nothing after the solution: "${o.text}"`);
      if (p.correct !== null && o.answer !== String(p.correct)) return done(false, `${what}: the lesson marks choice ${p.correct} as right, but the kernel did ${o.answer}: ${o.text}`);
      if (p.answer !== null && norm(o.answer!) !== norm(p.answer)) return done(false, `${what}: the lesson expects "${p.answer}", but the kernel answered "${o.answer}": ${o.text}`);
      if (!o.text) return done(false, `${what}: its observe script says what the kernel did (line 1) but not what that means (line 2)`);
      const bad = speaks(o.text, lang, `${what}: the observation`);
      if (bad) return done(false, bad);
      if (lang === "en") notes.push(`predicted ${o.answer}`);
    }
  for (const [i, x] of s.explores.entries()) {
    const h = await runner.runHighlight(lab, lessonId, stepId, i);
    if (!h.found) return done(false, `explore ${i + 1}: its highlight script found nothing after the solution: "${h.message}"`);
    const missing = await missingTargets(lab, h.targets);
    if (missing) return done(false, `explore ${i + 1} (${x.tab}): these targets do not exist in the lab: ${missing}`);
    notes.push(`${h.targets.length} highlighted`);
  }
  return done(true, feedback + (notes.length ? ` [${notes.join(", ")}]` : ""));
}

/**
 * Feedback must be in the page's language: Chinese text on a zh-CN page (scripts answer through
 * `say EN ZH`), no Chinese on an English one. Null when it is.
 */
export function languageProblem(text: string, lang: Lang, what: string): string | null {
  const han = /\p{Script=Han}/u.test(text);
  if (lang === "zh-CN" && !han) return `${what} is not in Chinese on the zh-CN page (use say "English" "中文"): "${text}"`;
  if (lang === "en" && han) return `${what} is in Chinese on the English page: "${text}"`;
  return null;
}

const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");

/** Asks the lab whether each target a highlight script named exists; returns the missing ones, or "". */
async function missingTargets(lab: LabHandle, targets: ExploreTarget[]): Promise<string> {
  const tests = targets.map((t) => {
    switch (t.kind) {
      case "pid":
        return `[ -d /proc/${t.pid} ] || echo "pid ${t.pid}"`;
      case "mounts":
        return t.pids.map((p) => `[ -d /proc/${p} ] || echo "mounts ${p}"`).join("; ");
      case "ns":
        return `{ for p in /proc/[0-9]*; do readlink $p/ns/${t.type}; done 2>/dev/null; grep -o '${t.type}:\\[[0-9]*\\]' /proc/1/mountinfo; } | grep -qxF '${t.type}:[${t.ino}]' || echo "ns ${t.type} ${t.ino}"`;
      case "mount":
        return `cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -q '^${t.id} ' || echo "mount ${t.id}"`;
      case "peer":
        return `cat /proc/[0-9]*/mountinfo 2>/dev/null | grep -qE ' (shared|master):${t.group}( |$)' || echo "peer ${t.group}"`;
    }
  });
  const r = await lab.exec(tests.join("\n"), { timeoutMs: 10_000 });
  return r.stdout.trim().split("\n").filter(Boolean).join(", ");
}

function tail(s: string): string {
  const t = s.trim().split("\n").slice(-3).join(" | ");
  return t ? t.slice(-300) : "no output";
}
