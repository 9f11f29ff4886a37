import "server-only";
/**
 * Run by shortcuts.e2e.test.ts as an unprivileged user (rootless mode): in a lab for LESSON, solves
 * every step before STEP, runs STEP's check, its solution, and the check again; prints one JSON line.
 *   node --import tsx --import ./scripts/hooks.mjs server/testing/lesson-probe.ts LESSON STEP
 */
import { loadConfig } from "../config.ts";
import { startServices } from "../services.ts";

const [lesson, step] = process.argv.slice(2) as [string, string];
const services = await startServices(loadConfig());
const { mgr, runner } = services;
const { lab } = await mgr.create({ lesson });
try {
  for (const s of runner.lessons.stepIds(lesson) ?? []) {
    if (s === step) break;
    const r = await runner.runSolution(lab, lesson, s);
    if (!r.ok) throw new Error(`the solution of ${s} failed: ${r.output}`);
  }
  const labSetgroups = (await lab.exec("cat /proc/1/setgroups")).stdout.trim();
  const before = await runner.runCheck(lab, lesson, step);
  const sol = await runner.runSolution(lab, lesson, step);
  const after = await runner.runCheck(lab, lesson, step, sol.answer !== undefined ? { answer: sol.answer } : {});
  console.log(JSON.stringify({ mode: mgr.mode, labSetgroups, before, after }));
} finally {
  await mgr.destroy(lab.id);
  await services.close();
}
