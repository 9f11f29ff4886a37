import assert from "node:assert/strict";
import { test } from "node:test";
import { Access } from "./access.ts";

test("open mode lets everyone in; code mode needs one of the codes", async () => {
  assert.deepEqual(await new Access({ mode: "open", codes: [], operatorKey: null }).admit("1.1.1.1"), { ok: true, via: "open" });
  const a = new Access({ mode: "code", codes: ["alpha-2026", "beta"], operatorKey: null });
  assert.deepEqual(await a.admit("1.1.1.1"), { ok: false, why: "missing" });
  assert.deepEqual(await a.admit("1.1.1.1", { code: "beta" }), { ok: true, via: "code" });
  assert.deepEqual(await a.admit("1.1.1.1", { code: "alpha-2026" }), { ok: true, via: "code" });
  assert.deepEqual(await a.admit("1.1.1.1", { code: "alpha-202" }), { ok: false, why: "wrong" });
  assert.deepEqual(await a.admit("1.1.1.1", { code: "beta " }), { ok: false, why: "wrong" });
});

test("guessing is limited per address, and a lock-out says how long", async () => {
  const a = new Access({ mode: "code", codes: ["right"], operatorKey: "k".repeat(32), guessLimit: 3, guessWindowMs: 60_000 });
  for (let i = 0; i < 3; i++) assert.equal((await a.admit("6.6.6.6", { code: `guess${i}` }, 1000 + i)).ok, false);
  const locked = await a.admit("6.6.6.6", { code: "right" }, 2000);
  assert.deepEqual([locked.ok, !locked.ok && locked.why], [false, "locked"], "even the right code is refused while locked");
  assert.ok(!locked.ok && locked.retryAfterMs! > 58_000);
  assert.equal((await a.admit("7.7.7.7", { code: "right" }, 2000)).ok, true, "another address is not affected");
  assert.equal((await a.operatorCheck("6.6.6.6", "k".repeat(32), 2000)).ok, false, "the operator key shares the count");
  assert.equal((await a.admit("6.6.6.6", { code: "right" }, 62_000)).ok, true, "after the window");
});

test("the operator key: off without one configured; constant-time compare of digests", async () => {
  assert.deepEqual(await new Access({ mode: "open", codes: [], operatorKey: null }).operatorCheck("1.1.1.1", "anything"), { ok: false, why: "missing" });
  const a = new Access({ mode: "open", codes: [], operatorKey: "s3cret-key-of-some-length" });
  assert.equal((await a.operatorCheck("1.1.1.1", "s3cret-key-of-some-length")).ok, true);
  assert.equal((await a.operatorCheck("1.1.1.1", "s3cret-key-of-some-lengtH")).ok, false);
  assert.equal((await a.operatorCheck("1.1.1.1", "")).ok, false);
  assert.equal((await a.operatorCheck("1.1.1.1", "x".repeat(5000))).ok, false, "any length is compared as a digest");
});

test("another credential kind (the classroom's class join) through a verifier", async () => {
  const a = new Access({ mode: "code", codes: ["w"], operatorKey: null });
  a.addVerifier("class", (v) => v === "join-123");
  assert.deepEqual(await a.admit("1.1.1.1", { kind: "class", value: "join-123" }), { ok: true, via: "class" });
  assert.deepEqual(await a.admit("1.1.1.1", { kind: "class", value: "join-124" }), { ok: false, why: "wrong" });
  assert.deepEqual(await a.admit("1.1.1.1", { kind: "nope", value: "x" }), { ok: false, why: "wrong" });
  assert.throws(() => a.addVerifier("code", () => true));
});

test("every refusal is reported by kind and reason (metrics), never with the value", async () => {
  const seen: string[] = [];
  const a = new Access({ mode: "code", codes: ["right-code"], operatorKey: "op-key-of-some-length", guessLimit: 2, denied: (what, why) => seen.push(`${what}:${why}`) });
  a.addVerifier("class", (v) => v === "H7KM3P");
  await a.admit("1.1.1.1", {});
  await a.admit("1.1.1.1", { code: "wrong" });
  assert.deepEqual(await a.admit("1.1.1.1", { kind: "class", value: "H7KM3P" }), { ok: true, via: "class" });
  await a.admit("1.1.1.1", { kind: "class", value: "222222" });
  await a.operatorCheck("1.1.1.1", "nope");
  assert.deepEqual(seen, ["code:missing", "code:wrong", "class:wrong", "operator:locked"]);
});
