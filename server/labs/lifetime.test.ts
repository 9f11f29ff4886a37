import assert from "node:assert/strict";
import { test } from "node:test";
import { LabLifetime } from "./lifetime.ts";

test("a deadline its owner warns about (a class's end) ends the lab without a lab warning; idle still warns", () => {
  const t0 = 1_000_000;
  const owned = new LabLifetime({ idleMs: null, maxMs: null, deadline: t0 + 60_000, ownerWarns: true }, t0);
  assert.equal(owned.tick(t0 + 59_000, 120_000), null, "no warning: the class warns");
  assert.deepEqual(owned.tick(t0 + 60_000, 120_000), { kind: "end", reason: "deadline" });
  const plain = new LabLifetime({ idleMs: null, maxMs: null, deadline: t0 + 60_000 }, t0);
  assert.deepEqual(plain.tick(t0 + 59_000, 120_000), { kind: "warn", at: t0 + 60_000, reason: "deadline" });
  const idle = new LabLifetime({ idleMs: 30_000, maxMs: null, deadline: t0 + 600_000, ownerWarns: true }, t0);
  assert.deepEqual(idle.tick(t0 + 10_000, 120_000), { kind: "warn", at: t0 + 30_000, reason: "idle" }, "an idle timeout still warns");
});
