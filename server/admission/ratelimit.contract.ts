import "server-only";
import assert from "node:assert/strict";
import { test } from "node:test";
import { SlidingWindow, type CounterStore } from "./ratelimit.ts";

/**
 * What every CounterStore must do, through the SlidingWindow that uses it: ratelimit.test.ts runs
 * it against the in-memory store, redis-counters.integration.test.ts against Redis.
 */
export function counterStoreContract(name: string, make: () => Promise<CounterStore & { close?(): Promise<void> }>): void {
  const using = async (fn: (s: CounterStore) => Promise<void>) => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.close?.();
    }
  };

  test(`${name}: at most \`limit\` per window, per key; the wait says when the next fits`, () =>
    using(async (s) => {
      const w = new SlidingWindow(s, 3, 60_000);
      assert.equal((await w.take("a", 0)).ok, true);
      assert.equal((await w.take("a", 10_000)).ok, true);
      const third = await w.take("a", 20_000);
      assert.deepEqual([third.ok, third.left, third.retryAfterMs], [true, 0, 0]);
      const refused = await w.take("a", 30_000);
      assert.deepEqual([refused.ok, refused.retryAfterMs, refused.id], [false, 30_000, null], "the first of the three leaves the window at 60 s");
      assert.equal((await w.take("b", 30_000)).ok, true, "another key is counted apart");
      assert.equal((await w.take("a", 60_000)).ok, true, "one slid out");
      assert.equal((await w.take("a", 60_001)).ok, false);
      assert.equal((await w.check("a", 70_000)).ok, true, "check does not count");
      await w.hit("c", 70_000);
      assert.equal((await w.check("c", 70_001)).left, 2, "hit counts without asking");
    }));

  test(`${name}: refused attempts are not counted; a released one no longer counts`, () =>
    using(async (s) => {
      const w = new SlidingWindow(s, 1, 60_000);
      assert.equal((await w.take("a", 0)).ok, true);
      for (let t = 1; t < 60_000; t += 5_000) assert.equal((await w.take("a", t)).ok, false);
      assert.equal((await w.take("a", 60_000)).ok, true, "hammering did not push the window forward");
      const two = new SlidingWindow(s, 2, 60_000);
      const first = await two.take("r", 1000);
      const second = await two.take("r", 1000);
      assert.equal((await two.take("r", 1000)).ok, false);
      await two.release("r", first.id);
      assert.deepEqual(await s.recent("r", 0), [1000], "only the other event at the same time is left");
      await two.release("r", second.id);
      assert.equal((await two.check("r", 1001)).left, 2);
    }));

  test(`${name}: parallel takes never get past the limit`, () =>
    using(async (s) => {
      const w = new SlidingWindow(s, 5, 60_000);
      const all = await Promise.all(Array.from({ length: 40 }, () => w.take("p", 5000)));
      assert.equal(all.filter((r) => r.ok).length, 5);
    }));
}
