import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryCounterStore, SlidingWindow } from "./ratelimit.ts";
import { counterStoreContract } from "./ratelimit.contract.ts";

counterStoreContract("memory", async () => new MemoryCounterStore());

test("memory: old keys are forgotten", async () => {
  const store = new MemoryCounterStore(120_000);
  const w = new SlidingWindow(store, 1, 60_000);
  for (let i = 0; i < 1000; i++) await w.take(`ip${i}`, 100_000);
  await w.take("late", 500_000);
  assert.equal(store.size, 1, "a sweep drops keys idle for longer than maxAge");
});
