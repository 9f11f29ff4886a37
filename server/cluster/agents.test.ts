import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { AgentPool, headroom, type AgentHealth } from "./agents.ts";
import { INTERNAL_HEADER } from "./secret.ts";

const base: AgentHealth = { name: "x", labs: 0, maxLabs: 10, pooled: 0, memAvailable: 8e9, memTotal: 16e9, load1: 0, cpus: 2, draining: false, overloaded: false };

test("headroom: the scarcer of slots and memory, weighed down by busy CPUs, never zeroed by load alone", () => {
  assert.equal(headroom({ ...base, labs: 10 }), 0, "full");
  assert.equal(headroom({ ...base, labs: 2 }), 0.5, "memory is the scarcer (half free) against 80% of slots");
  assert.ok(Math.abs(headroom({ ...base, labs: 8 }) - 0.2) < 1e-9);
  assert.ok(Math.abs(headroom({ ...base, labs: 2, load1: 8 }) - 0.25) < 1e-9, "a saturated CPU halves it");
  assert.ok(headroom({ ...base, labs: 0, load1: 50 }) > 0);
  assert.ok(headroom({ ...base, labs: 5 }, 5) === 0, "labs placed since the last report count");
});

/** An agent's health endpoint, answering `h` to the right secret only. */
async function fakeAgent(h: () => AgentHealth) {
  const srv = http.createServer((req, res) => {
    if (req.headers[INTERNAL_HEADER] !== "s".repeat(32)) return void res.writeHead(401).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(h()));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { srv, port: (srv.address() as AddressInfo).port };
}

test("placement prefers the most headroom, spreads a burst, and skips draining and overloaded agents", async () => {
  const h = { a: { ...base, labs: 1 }, b: { ...base, labs: 3 }, c: { ...base, draining: true }, d: { ...base, overloaded: true } };
  const agents = await Promise.all(Object.values(h).map((x) => fakeAgent(() => x)));
  const pool = new AgentPool(
    Object.keys(h).map((n, i) => ({ name: n, url: `http://127.0.0.1:${agents[i]!.port}` })),
    { secret: "s".repeat(32), intervalMs: 60_000, downAfter: 3 },
  );
  await pool.start();
  assert.deepEqual(pool.candidates().map((a) => a.name), ["a", "b"]);
  pool.placed("a");
  pool.placed("a");
  pool.placed("a");
  assert.deepEqual(pool.candidates().map((a) => a.name), ["b", "a"], "three placed on a since its report: b has more room now");
  pool.refused("b");
  assert.deepEqual(pool.candidates().map((a) => a.name), ["a"], "a 507 takes b out until its next report");
  pool.close();
  for (const a of agents) a.srv.close();
});

test("agents from DNS (a headless Service): a new address joins, one that left and stopped answering is marked down, then forgotten", async () => {
  const a = await fakeAgent(() => base);
  let ips = ["127.0.0.1"];
  const down: string[] = [];
  const pool = new AgentPool([], { secret: "s".repeat(32), intervalMs: 50, downAfter: 2, dns: { host: "agents.test", port: a.port }, resolve: async () => ips }, { down: (n) => void down.push(n) });
  await pool.start();
  assert.deepEqual(pool.list().map((x) => [x.name, x.up]), [[`127.0.0.1:${a.port}`, true]]);
  ips = [];
  a.srv.close();
  a.srv.closeAllConnections();
  const end = Date.now() + 20_000;
  while (pool.list().length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(down, [`127.0.0.1:${a.port}`], "its labs were marked lost before it was forgotten");
  assert.equal(pool.list().length, 0);
  pool.close();
});
