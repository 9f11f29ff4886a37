// Verifies lessons end to end in real labs (CI runs this; so does `npm test` through
// server/lessons/lessons.e2e.test.ts): for each lesson given (default: all), a fresh lab made for
// it (which runs its setup), then for each step in order: the check must fail, the solution runs,
// the check must pass. One line per step, a summary, exit 1 on any failure. Needs root.
//
//   node --import tsx --import ./scripts/hooks.mjs scripts/verify-lessons.ts [lesson-id ...]
import { verifySetup, verifyStep, type Verdict } from "../server/lessons/verify.ts";
import { startServices } from "../server/services.ts";
import { verifierConfig } from "../server/testing/instance.ts";

if (process.getuid?.() !== 0) {
  console.error("verify-lessons: labs with real namespaces, cgroups and uid ranges need root; run it as root (CI does).");
  process.exit(1);
}

const services = await startServices(verifierConfig());
const { mgr, lessons, runner } = services;
// verifying everything also means every lesson loads: one with errors would be missing from the list
const errors = process.argv.length > 2 ? [] : lessons.errors();
for (const e of errors) console.error(`${e.file}:${e.line}: ${e.message}`);
const known = lessons.list().map((m) => m.id);
const ids = process.argv.length > 2 ? process.argv.slice(2) : known;
const unknown = ids.filter((id) => !known.includes(id));
if (unknown.length) {
  console.error(`verify-lessons: no such lesson${unknown.length > 1 ? "s" : ""} (or not loadable): ${unknown.join(", ")}. Lessons: ${known.join(", ")}`);
  await services.close();
  process.exit(1);
}

let failed = 0;
let passed = 0;
const line = (ok: boolean, what: string, v: Verdict) => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "PASS" : "FAIL"} ${what} (${(v.ms / 1000).toFixed(1)} s): ${v.message}`);
};
const stop = async () => {
  await services.close();
  process.exit(130);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

try {
  for (const id of ids) {
    const t0 = Date.now();
    let lab;
    try {
      ({ lab } = await mgr.create({ lesson: id }));
    } catch (e) {
      line(false, `${id} (lab)`, { ok: false, message: `the lab could not be created: ${(e as Error).message}`, ms: Date.now() - t0 });
      continue;
    }
    try {
      const setup = verifySetup(runner, lab, id);
      line(setup.ok, `${id} (setup)`, setup);
      for (const step of lessons.stepIds(id) ?? []) {
        const v = await verifyStep(runner, lab, id, step).catch((e: Error): Verdict => ({ ok: false, message: `error: ${e.message}`, ms: 0 }));
        line(v.ok, `${id}/${step}`, v);
      }
    } finally {
      await mgr.destroy(lab.id);
    }
  }
} finally {
  await services.close();
}

console.log(`\nverify-lessons: ${ids.length} lesson${ids.length === 1 ? "" : "s"}, ${passed} passed, ${failed} failed${errors.length ? `, ${errors.length} lesson problem${errors.length === 1 ? "" : "s"} (above)` : ""}`);
process.exit(failed || errors.length ? 1 : 0);
