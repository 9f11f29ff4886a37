/**
 * Every lesson end to end in real labs (what scripts/verify-lessons.ts does, as node:test
 * subtests): per lesson a fresh lab made for it, then per step in order the check must fail, the
 * solution runs, the check must pass. Nothing is skipped: a lesson that does not load, a step
 * without a check or solution, or running without root is a failure.
 *
 * NSLAB_E2E_LESSONS (comma-separated lesson ids) runs only those lessons: the VM suite
 * (test/vm/) runs the cgroup lessons on cgroup v2 that way, where everything is 50-100x slower.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { LabHandle } from "../labs/types.ts";
import { startServices, type Services } from "../services.ts";
import { verifierConfig } from "../testing/instance.ts";
import { LessonLibrary } from "./library.ts";
import { verifySetup, verifyStep } from "./verify.ts";

// the lessons the server would serve (one library to list them; the services load their own)
const catalog = new LessonLibrary(verifierConfig({ isolated: false }).lessonsDir);

test("every lesson loads, so that every lesson is verified below", () => {
  assert.deepEqual(catalog.errors().map((e) => `${e.file}:${e.line}: ${e.message}`), []);
});

if (process.getuid?.() !== 0) {
  test("lessons end to end", () => {
    assert.fail("the lesson end-to-end tests create real labs (namespaces, cgroups, uid ranges) and need root; run npm test as root, as CI does");
  });
} else {
  let services: Services;
  before(async () => {
    services = await startServices(verifierConfig());
  });
  after(async () => {
    await services?.close();
  });

  const only = process.env.NSLAB_E2E_LESSONS?.split(",").filter(Boolean);
  if (only) {
    test("the lessons NSLAB_E2E_LESSONS names exist", () => {
      assert.deepEqual(only.filter((id) => !catalog.list().some((m) => m.id === id)), []);
    });
  }
  for (const meta of catalog.list().filter((m) => !only || only.includes(m.id))) {
    describe(`lesson ${meta.id}`, () => {
      let lab: LabHandle;
      before(async () => {
        ({ lab } = await services.mgr.create({ lesson: meta.id }));
      });
      after(async () => {
        if (lab) await services.mgr.destroy(lab.id);
      });

      test("setup", () => {
        const v = verifySetup(services.runner, lab, meta.id);
        assert.ok(v.ok, v.message);
      });
      for (const step of catalog.stepIds(meta.id) ?? []) {
        test(`step ${step}: the check fails, the solution makes it pass`, async () => {
          const v = await verifyStep(services.runner, lab, meta.id, step);
          assert.ok(v.ok, v.message);
        });
      }
    });
  }
}
