/**
 * The rate-limit windows in a real Redis (a throwaway redis-server on a unix socket,
 * server/testing/redis.ts): the same contract as the in-memory store, and what only a shared store
 * shows: two replicas (two clients, two Admission-sized windows) share one limit.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, before, describe, test } from "node:test";
import { counterStoreContract } from "./ratelimit.contract.ts";
import { SlidingWindow } from "./ratelimit.ts";
import { RedisCounterStore } from "./redis-counters.ts";
import { connectRedis } from "../redis.ts";
import { api, testServer } from "../testing/harness.ts";
import { redisMissing, startRedis, type TestRedis } from "../testing/redis.ts";

describe("redis counter store", { skip: redisMissing() }, () => {
  let r: TestRedis;
  before(async () => {
    r = await startRedis();
  });
  after(() => r?.stop());

  const store = async () => {
    const client = await connectRedis(r.url);
    // each test its own prefix: they share one server
    return Object.assign(new RedisCounterStore(client, { prefix: `t${crypto.randomBytes(4).toString("hex")}:` }), { close: async () => void (await client.quit()) });
  };
  counterStoreContract("redis", store);

  test("redis: two replicas share one window, and parallel takes from both stay within it", async () => {
    const [ca, cb] = [await connectRedis(r.url), await connectRedis(r.url)];
    try {
      const wa = new SlidingWindow(new RedisCounterStore(ca, { prefix: "shared:" }), 6, 60_000);
      const wb = new SlidingWindow(new RedisCounterStore(cb, { prefix: "shared:" }), 6, 60_000);
      const now = Date.now();
      const all = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? wa : wb).take("create:10.0.0.7", now)));
      assert.equal(all.filter((x) => x.ok).length, 6);
      assert.equal((await wa.check("create:10.0.0.7", now)).ok, false, "replica a sees b's events");
      const ttl = Number(r.cli("PTTL", "shared:create:10.0.0.7").trim());
      assert.ok(ttl > 0 && ttl <= 3600_000, `the key expires (PTTL ${ttl})`);
    } finally {
      await ca.quit();
      await cb.quit();
    }
  });

  test("two servers with NSLAB_REDIS_URL share an address's wrong-code count: the 11th guess is refused on either", async () => {
    const env = { NSLAB_REDIS_URL: r.url, NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: "workshop-2026" };
    const a = await testServer(env);
    const b = await testServer(env);
    try {
      for (let i = 0; i < 10; i++) {
        const res = await api((i % 2 ? a : b).url, "POST", "/api/labs", undefined, { code: `guess-${i}` });
        assert.equal(res.status, 403, JSON.stringify(res.json));
      }
      for (const s of [a, b]) {
        const res = await api(s.url, "POST", "/api/labs", undefined, { code: "workshop-2026" });
        assert.equal(res.status, 429, "five wrong guesses on each server count as ten");
        assert.equal(res.json.error, "locked_out");
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
