/**
 * Admission under load, from several loopback addresses (127.0.0.2, .3, ... are all this host, and
 * the server sees each as a different client): the per-address live cap and rate limit, a full
 * server queueing learners, positions that update live, the queue served in order as labs free,
 * and every queued learner ending up with a working lab.
 */
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import type { CreateLabResponse, QueueView } from "../../lib/protocol.ts";
import { testServer } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_MAX_LABS: "4", NSLAB_LABS_PER_CLIENT: "2", NSLAB_LABS_PER_MINUTE: "3" });
});
after(async () => s?.close());

/** An HTTP call from a given loopback address. */
function from(ip: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<{ status: number; json: any; headers: http.IncomingHttpHeaders }> {
  const u = new URL(s.url + path);
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        localAddress: ip,
        agent: false,
        headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
      },
      (res) => {
        let t = "";
        res.on("data", (d) => (t += d));
        res.on("end", () => resolve({ status: res.statusCode!, json: t ? JSON.parse(t) : null, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const create = (ip: string) => from(ip, "POST", "/api/labs", { body: {} });
const remove = (ip: string, lab: CreateLabResponse) => from(ip, "DELETE", `/api/labs/${lab.id}`, { token: lab.token });

test("per address: at most 2 live labs, at most 3 new labs a minute; other addresses unaffected", async () => {
  const a1 = await create("127.0.0.2");
  const a2 = await create("127.0.0.2");
  assert.deepEqual([a1.status, a2.status], [201, 201]);
  const a3 = await create("127.0.0.2");
  assert.deepEqual([a3.status, a3.json.error], [429, "too_many_labs"], "the live cap");
  await remove("127.0.0.2", a1.json);
  const a4 = await create("127.0.0.2");
  assert.equal(a4.status, 201, "room again after closing one (the 3rd this minute)");
  await remove("127.0.0.2", a4.json);
  const a5 = await create("127.0.0.2");
  assert.deepEqual([a5.status, a5.json.error], [429, "rate_limited"], "the 4th in a minute");
  assert.ok(a5.json.retryAfterMs > 0 && a5.json.retryAfterMs <= 60_000);
  assert.ok(Number(a5.headers["retry-after"]) >= 1);
  assert.match(a5.json.message, /starts in \d+ s/);
  const b = await create("127.0.0.3");
  assert.equal(b.status, 201, "another address is not slowed down");
  await remove("127.0.0.2", a2.json);
  await remove("127.0.0.3", b.json);
});

test("full: learners queue in order, see their place move, and each gets a lab as one frees", async () => {
  const holders: { ip: string; lab: CreateLabResponse }[] = [];
  for (let i = 0; i < 4; i++) {
    const ip = `127.0.1.${i + 1}`;
    const r = await create(ip);
    assert.equal(r.status, 201);
    holders.push({ ip, lab: r.json });
  }
  // six learners from six addresses arrive while it is full
  const waiting: { ip: string; ticket: string; view: QueueView }[] = [];
  for (let i = 0; i < 6; i++) {
    const ip = `127.0.2.${i + 1}`;
    const r = await create(ip);
    assert.equal(r.status, 202, `learner ${i + 1} is queued`);
    assert.equal(r.json.view.position, i + 1);
    waiting.push({ ip, ticket: r.json.ticket, view: r.json.view });
  }
  assert.equal(s.ops.admission.queueLength, 6);

  // everyone long-polls; each answer is their next view
  const served: string[] = [];
  const mine: { ip: string; lab: CreateLabResponse }[] = [];
  const learners = waiting.map(async (w) => {
    const positions = [w.view.position];
    let view = w.view;
    while (view.state === "waiting" || view.state === "starting") {
      const r = await from(w.ip, "GET", `/api/queue?seen=${view.version}`, { token: w.ticket });
      assert.equal(r.status, 200);
      view = r.json;
      if (view.state === "waiting" && view.position !== positions.at(-1)) positions.push(view.position);
    }
    assert.equal(view.state, "ready", `${w.ip}: ${view.message ?? ""}`);
    served.push(w.ip);
    const lab = view.lab!;
    mine.push({ ip: w.ip, lab });
    const st = await from(w.ip, "GET", `/api/labs/${lab.id}`, { token: lab.token });
    assert.deepEqual([st.status, st.json.state], [200, "running"], "the lab works with its token");
    return { ip: w.ip, lab, positions };
  });

  // labs free one at a time (the first holders', then the first served learners'): the head of
  // the queue gets each
  for (let i = 0; i < 6; i++) {
    const h = holders.shift() ?? mine.shift()!;
    assert.equal((await remove(h.ip, h.lab)).status, 204);
    for (let k = 0; k < 200 && served.length < i + 1; k++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(served.length, i + 1, `a lab freed: learner ${i + 1} served`);
    // the served learner's lab counts like any other; the next free slot comes from it later
  }
  const results = await Promise.all(learners);
  assert.deepEqual(served, waiting.map((w) => w.ip), "served in the order they came");
  // positions moved live: the last learner saw 6, 5, 4, 3, 2, 1
  assert.deepEqual(results.at(-1)!.positions, [6, 5, 4, 3, 2, 1]);
  assert.equal(s.ops.admission.queueLength, 0);
  for (const m of mine) await remove(m.ip, m.lab);
});
