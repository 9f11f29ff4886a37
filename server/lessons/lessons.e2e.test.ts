/**
 * Every lesson end to end in real labs (what scripts/verify-lessons.ts does, as node:test
 * subtests): per lesson a fresh lab made for it, then per step in order the check must fail, the
 * solution runs, the check must pass. Nothing is skipped: a lesson that does not load, a step
 * without a check or solution, or running without root is a failure.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LabManager } from "../labs/manager.ts";
import type { LabHandle } from "../labs/types.ts";
import * as catalog from "./catalog.ts";
import { verifierConfig, verifySetup, verifyStep } from "./verify.ts";

test("every lesson loads, so that every lesson is verified below", () => {
  assert.deepEqual(catalog.errors().map((e) => `${e.file}:${e.line}: ${e.message}`), []);
});

if (process.getuid?.() !== 0) {
  test("lessons end to end", () => {
    assert.fail("the lesson end-to-end tests create real labs (namespaces, cgroups, uid ranges) and need root; run npm test as root, as CI does");
  });
} else {
  let mgr: LabManager;
  before(async () => {
    mgr = await LabManager.start(verifierConfig());
  });
  after(async () => {
    await mgr?.shutdown();
  });

  for (const meta of catalog.list()) {
    describe(`lesson ${meta.id}`, () => {
      let lab: LabHandle;
      before(async () => {
        lab = await mgr.create({ lesson: meta.id });
      });
      after(async () => {
        if (lab) await mgr.destroy(lab.id);
      });

      test("setup", () => {
        const v = verifySetup(lab, meta.id);
        assert.ok(v.ok, v.message);
      });
      for (const step of catalog.stepIds(meta.id) ?? []) {
        test(`step ${step}: the check fails, the solution makes it pass`, async () => {
          const v = await verifyStep(lab, meta.id, step);
          assert.ok(v.ok, v.message);
        });
      }
    });
  }
}
