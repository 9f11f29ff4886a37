import "server-only";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClassRecord, ClassStore, LearnerRecord } from "./store.ts";

/**
 * What every ClassStore must do, as tests: sqlite.test.ts runs them against SQLite; a PostgreSQL
 * store (issue 15) runs the same ones.
 */
export function classStoreContract(name: string, make: () => Promise<ClassStore>): void {
  const klass = (over: Partial<ClassRecord> = {}): ClassRecord => ({
    id: "c0ffee0000000001",
    code: "ACDEFG",
    title: "Namespaces, morning",
    lessons: ["uts-namespaces", "pid-namespaces"],
    startsAt: 1_700_000_000_000,
    endsAt: 1_700_010_000_000,
    createdAt: 1_700_000_000_000,
    state: "open",
    locked: false,
    maxLearners: 100,
    instructorKeyHash: "aa".repeat(32),
    labsEndAt: null,
    endedAt: null,
    follow: null,
    ...over,
  });
  const learner = (over: Partial<LearnerRecord> = {}): LearnerRecord => ({
    id: "0123456789ab",
    classId: "c0ffee0000000001",
    name: "Ada",
    keyHash: "bb".repeat(32),
    joinedAt: 1_700_000_100_000,
    lastSeenAt: 1_700_000_100_000,
    lesson: null,
    step: null,
    stepSince: null,
    labId: null,
    ...over,
  });

  test(`${name}: classes are stored, found by id and code, and updated`, async () => {
    const s = await make();
    try {
      await s.createClass(klass());
      assert.deepEqual(await s.getClass("c0ffee0000000001"), klass());
      assert.equal((await s.classByCode("ACDEFG"))?.id, "c0ffee0000000001");
      assert.equal(await s.classByCode("ACDEFH"), null);
      await assert.rejects(s.createClass(klass({ id: "c0ffee0000000002" })), "a join code is unique");
      await s.updateClass("c0ffee0000000001", { locked: true, endsAt: 1_700_020_000_000, follow: { lesson: "uts-namespaces", step: "s1", at: 5 } });
      const c = await s.getClass("c0ffee0000000001");
      assert.equal(c?.locked, true);
      assert.equal(c?.endsAt, 1_700_020_000_000);
      assert.deepEqual(c?.follow, { lesson: "uts-namespaces", step: "s1", at: 5 });
      assert.equal((await s.unfinishedClasses()).length, 1);
      await s.updateClass("c0ffee0000000001", { state: "ended", endedAt: 1000 });
      assert.equal((await s.unfinishedClasses()).length, 0);
    } finally {
      await s.close();
    }
  });

  test(`${name}: learners, checks and first passes`, async () => {
    const s = await make();
    try {
      await s.createClass(klass());
      await s.addLearner(learner());
      await s.addLearner(learner({ id: "0123456789ac", name: "=HYPERLINK(\"x\")", joinedAt: 1_700_000_200_000 }));
      assert.deepEqual((await s.learners("c0ffee0000000001")).map((l) => l.name), ["Ada", '=HYPERLINK("x")']);
      await s.updateLearner("c0ffee0000000001", "0123456789ab", { lesson: "uts-namespaces", step: "s1", stepSince: 7, labId: "ab".repeat(8) });
      const ada = await s.getLearner("c0ffee0000000001", "0123456789ab");
      assert.equal(ada?.step, "s1");
      assert.equal(ada?.labId, "ab".repeat(8));

      const check = { classId: "c0ffee0000000001", learnerId: "0123456789ab", lesson: "uts-namespaces", step: "s1", kind: "check" as const, feedback: "" };
      assert.deepEqual(await s.recordCheck({ ...check, at: 10, passed: false }), { firstPass: false });
      assert.deepEqual(await s.recordCheck({ ...check, at: 20, passed: true }), { firstPass: true });
      assert.deepEqual(await s.recordCheck({ ...check, at: 30, passed: true }), { firstPass: false });
      assert.deepEqual(await s.recordPass("c0ffee0000000001", "0123456789ab", { lesson: "uts-namespaces", step: "s2", at: 40, via: "manual" }), { firstPass: true });
      assert.deepEqual(await s.passes("c0ffee0000000001"), [
        { learnerId: "0123456789ab", lesson: "uts-namespaces", step: "s1", at: 20, via: "check" },
        { learnerId: "0123456789ab", lesson: "uts-namespaces", step: "s2", at: 40, via: "manual" },
      ]);
      assert.deepEqual(await s.checkCounts("c0ffee0000000001"), [{ learnerId: "0123456789ab", checks: 3, failed: 1, lastAt: 30 }]);
      assert.equal((await s.checks("c0ffee0000000001")).length, 3);
    } finally {
      await s.close();
    }
  });

  test(`${name}: help requests are queued oldest first and resolved once`, async () => {
    const s = await make();
    try {
      await s.createClass(klass());
      await s.addLearner(learner());
      await s.addHelp({ id: "h2", classId: "c0ffee0000000001", learnerId: "0123456789ab", message: "later", raisedAt: 20, resolvedAt: null });
      await s.addHelp({ id: "h1", classId: "c0ffee0000000001", learnerId: "0123456789ab", message: "stuck", raisedAt: 10, resolvedAt: null });
      assert.deepEqual((await s.openHelp("c0ffee0000000001")).map((h) => h.id), ["h1", "h2"]);
      assert.equal(await s.resolveHelp("c0ffee0000000001", "h1", 30), true);
      assert.equal(await s.resolveHelp("c0ffee0000000001", "h1", 31), false);
      assert.deepEqual((await s.openHelp("c0ffee0000000001")).map((h) => h.id), ["h2"]);
      assert.equal((await s.allHelp("c0ffee0000000001")).length, 2);
    } finally {
      await s.close();
    }
  });

  test(`${name}: purging an ended class removes all its data`, async () => {
    const s = await make();
    try {
      await s.createClass(klass({ state: "ended", endedAt: 100 }));
      await s.addLearner(learner());
      await s.recordPass("c0ffee0000000001", "0123456789ab", { lesson: "uts-namespaces", step: "s1", at: 5, via: "manual" });
      assert.equal(await s.purgeEnded(50), 0);
      assert.equal(await s.purgeEnded(200), 1);
      assert.equal(await s.getClass("c0ffee0000000001"), null);
      assert.deepEqual(await s.learners("c0ffee0000000001"), []);
      assert.deepEqual(await s.passes("c0ffee0000000001"), []);
    } finally {
      await s.close();
    }
  });
}
