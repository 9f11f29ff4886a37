/**
 * The operator's API and the access modes on a real server: code mode (no code, a wrong code, the
 * right one), guessing locked out per address, the operator key (wrong keys locked out too), the
 * lab list, ending a lab, a deadline set by the operator, and drain (no new labs, /readyz 503, the
 * existing lab runs on, then resume). Without a key, the admin API does not exist.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, testServer } from "../testing/harness.ts";

const KEY = "an-operator-key-for-tests-0001";
let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: "room-a-2026,room-b-2026", NSLAB_OPERATOR_KEY: KEY });
});
after(async () => s?.close());

test("code mode: a lab needs one of the codes; guessing is locked out per address", async () => {
  const none = await api(s.url, "POST", "/api/labs", undefined, {});
  assert.deepEqual([none.status, none.json.error], [401, "code_required"]);
  const ok = await api(s.url, "POST", "/api/labs", undefined, { code: "room-b-2026" });
  assert.equal(ok.status, 201);
  let last;
  for (let i = 0; i < 12; i++) {
    last = await api(s.url, "POST", "/api/labs", undefined, { code: `guess-${i}-xx` });
    if (last.status !== 403) break;
  }
  assert.deepEqual([last!.status, last!.json.error], [429, "locked_out"], "after 10 wrong codes");
  assert.ok(last!.json.retryAfterMs > 0);
  const right = await api(s.url, "POST", "/api/labs", undefined, { code: "room-a-2026" });
  assert.equal(right.status, 429, "while locked out even the right code waits");
  assert.equal((await api(s.url, "GET", "/api/admin/status", KEY)).status, 429, "the operator key shares the lock-out of this address");
  // the lab made before still works
  assert.equal((await api(s.url, "GET", `/api/labs/${ok.json.id}`, ok.json.token)).status, 200);
});

test("the operator: list, lifetime, end, drain", async () => {
  const o = await testServer({ NSLAB_OPERATOR_KEY: KEY });
  try {
    assert.equal((await api(o.url, "GET", "/api/admin/labs")).status, 401);
    assert.equal((await api(o.url, "GET", "/api/admin/labs", "not-the-key-at-all")).status, 401);
    const lab = (await api(o.url, "POST", "/api/labs", undefined, {})).json;
    const list = await api(o.url, "GET", "/api/admin/labs", KEY);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.list.map((l: { id: string }) => l.id), [lab.id]);
    const entry = list.json.list[0];
    assert.equal(entry.clientIp, "127.0.0.1");
    assert.equal(entry.expiryReason, "idle");
    assert.ok(entry.memoryBytes === null || entry.memoryBytes > 0);
    assert.equal(JSON.stringify(list.json).includes(lab.token), false, "no token in the list");

    const deadline = new Date(Date.now() + 3600_000).toISOString();
    const put = await api(o.url, "PUT", `/api/admin/labs/${lab.id}/lifetime`, KEY, { deadline, idleTimeout: null, maxLifetime: null });
    assert.equal(put.status, 200);
    assert.deepEqual([put.json.expiresAt, put.json.expiryReason], [deadline, "deadline"]);
    assert.equal((await api(o.url, "PUT", `/api/admin/labs/${lab.id}/lifetime`, KEY, { deadline: "soon" })).status, 400);

    // drain: no new labs, not ready, the existing lab runs on
    const drained = await api(o.url, "POST", "/api/admin/drain", KEY, {});
    assert.deepEqual([drained.status, drained.json.draining, drained.json.labs], [200, true, 1]);
    const refused = await api(o.url, "POST", "/api/labs", undefined, {});
    assert.deepEqual([refused.status, refused.json.error], [503, "draining"]);
    assert.equal((await fetch(`${o.url}/readyz`)).status, 503);
    assert.equal((await api(o.url, "GET", `/api/labs/${lab.id}`, lab.token)).json.state, "running");
    // end it: the drain (waiting) sees no lab left
    const waiting = api(o.url, "POST", "/api/admin/drain", KEY, { wait: 20 });
    assert.equal((await api(o.url, "DELETE", `/api/admin/labs/${lab.id}`, KEY)).status, 204);
    assert.equal((await waiting).json.labs, 0);
    const gone = await api(o.url, "GET", `/api/labs/${lab.id}`, lab.token);
    assert.deepEqual([gone.status, gone.json.reason], [410, "operator"]);
    assert.match(gone.json.message, /ended by the server's operator/);
    const resumed = await api(o.url, "DELETE", "/api/admin/drain", KEY);
    assert.equal(resumed.json.draining, false);
    assert.equal((await fetch(`${o.url}/readyz`)).status, 200);
    const again = await api(o.url, "POST", "/api/labs", undefined, {});
    assert.equal(again.status, 201);
    await api(o.url, "DELETE", `/api/labs/${again.json.id}`, again.json.token);
  } finally {
    await o.close();
  }
});

test("without an operator key there is no admin API", async () => {
  const o = await testServer({});
  try {
    assert.equal((await api(o.url, "GET", "/api/admin/labs", "anything-at-all-1234")).status, 404);
  } finally {
    await o.close();
  }
});
