/**
 * The warm pool during a burst: more requests in 10 s than the pool holds make it grow (up to four
 * times its size) and refill with several labs made at once; after the burst it shrinks back.
 * Against a real server with NSLAB_POOL=2.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, createLab, testServer } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_POOL: "2", NSLAB_MAX_LABS: "40", NSLAB_LABS_PER_MINUTE: "1000" });
});
after(async () => s?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a burst grows the pool and refills it in parallel; afterwards it shrinks back", async () => {
  for (let i = 0; i < 200 && s.mgr.pooled < 2; i++) await sleep(25);
  assert.equal(s.mgr.pooled, 2);
  // watch how many pool labs are being made at once, and how big the pool gets
  let mostAtOnce = 0;
  let biggest = 0;
  const watch = setInterval(() => {
    const m = s.mgr as unknown as { refilling: number };
    mostAtOnce = Math.max(mostAtOnce, m.refilling);
    biggest = Math.max(biggest, s.mgr.pooled);
  }, 2);
  const labs = await Promise.all(Array.from({ length: 8 }, () => createLab(s.url)));
  for (let i = 0; i < 400 && s.mgr.pooled < 8; i++) await sleep(25);
  clearInterval(watch);
  assert.ok(mostAtOnce >= 2, `pool labs made in parallel during the burst (at most ${mostAtOnce} at once)`);
  assert.equal(Math.max(biggest, s.mgr.pooled), 8, "the pool grew to 4 × NSLAB_POOL");
  for (const l of labs) await api(s.url, "DELETE", `/api/labs/${l.id}`, l.token);
  // 10 s without requests: back to NSLAB_POOL
  for (let i = 0; i < 100 && s.mgr.pooled > 2; i++) await sleep(250);
  assert.equal(s.mgr.pooled, 2, "back to its size after the burst");
});
