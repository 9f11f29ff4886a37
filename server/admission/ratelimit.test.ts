import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryCounterStore, SlidingWindow } from "./ratelimit.ts";

test("at most `limit` per window, per key; the wait says when the next fits", () => {
  const w = new SlidingWindow(new MemoryCounterStore(), 3, 60_000);
  assert.equal(w.take("a", 0).ok, true);
  assert.equal(w.take("a", 10_000).ok, true);
  assert.deepEqual(w.take("a", 20_000), { ok: true, left: 0, retryAfterMs: 0 });
  const refused = w.take("a", 30_000);
  assert.deepEqual([refused.ok, refused.retryAfterMs], [false, 30_000], "the first of the three leaves the window at 60 s");
  assert.equal(w.take("b", 30_000).ok, true, "another key is counted apart");
  assert.equal(w.take("a", 60_000).ok, true, "one slid out");
  assert.equal(w.take("a", 60_001).ok, false);
  assert.equal(w.check("a", 70_000).ok, true, "check does not count");
});

test("refused attempts are not counted, and old keys are forgotten", () => {
  const store = new MemoryCounterStore(120_000);
  const w = new SlidingWindow(store, 1, 60_000);
  assert.equal(w.take("a", 0).ok, true);
  for (let t = 1; t < 60_000; t += 5_000) assert.equal(w.take("a", t).ok, false);
  assert.equal(w.take("a", 60_000).ok, true, "hammering did not push the window forward");
  for (let i = 0; i < 1000; i++) w.take(`ip${i}`, 100_000);
  w.take("late", 500_000);
  assert.equal(store.size, 1, "a sweep drops keys idle for longer than maxAge");
});
