/** The warm pool: a learner gets a ready lab whose shell is already at its first prompt. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { findValue } from "../testing/find-value.ts";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_POOL: "1" });
});
after(async () => s.close());

async function pooled(n: number) {
  for (let i = 0; i < 200 && s.mgr.pooled < n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(s.mgr.pooled, n);
}

test("a pooled lab is handed out with a fresh token, its waiting shell attached, and the pool refills", async () => {
  await pooled(1);
  assert.equal(s.mgr.count, 0, "pooled labs are nobody's");
  const lab = await createLab(s.url);
  assert.equal(s.mgr.count, 1);
  const t = new TermClient(s.url, lab, "&cols=100&rows=30");
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the prompt, from the scrollback");
  assert.equal(t.ready!.terminal, "t1");
  assert.ok(t.ready!.replayed > 0, "the first prompt was already there");
  assert.equal((await t.run("stty size")).trim(), "30 100", "resized to the client's size");
  assert.equal((await t.run("hostname")).trim(), lab.hostname);
  const second = new TermClient(s.url, lab);
  await second.opened;
  await second.until((c) => !!c.ready, "ready");
  assert.equal(second.ready!.terminal, "t2", "a second connection opens a new shell");
  await pooled(1);
  // the pool lab's old token (never given out) and other labs' tokens do not open it
  assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`, "x".repeat(32))).status, 404);
  // handed out with a fresh token, which the server keeps only as a hash
  for (const [name, root] of Object.entries({ lab: s.mgr.get(lab.id), mgr: s.mgr, terminals: s.terminals }))
    assert.equal(findValue(root, lab.token, name), null, `${name} holds the plaintext token`);
  t.close();
  second.close();
  assert.equal((await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token)).status, 204);
});

test("a pooled lab whose init died is never handed out: it is destroyed and the learner gets a live one", async () => {
  await pooled(1);
  const dead = s.mgr.all().find((l) => !s.mgr.list().includes(l))!;
  process.kill(dead.initPid, "SIGKILL");
  for (let i = 0; i < 400 && dead.running; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(dead.running, false, "the pooled lab's init is gone");
  assert.equal(s.mgr.pooled, 1, "still in the pool: only handing it out looks");
  const lab = await createLab(s.url);
  assert.notEqual(lab.id, dead.id);
  assert.equal(s.mgr.get(dead.id), undefined, "the dead lab was destroyed");
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "a prompt");
  assert.equal((await t.run("hostname")).trim(), lab.hostname);
  t.close();
  assert.equal((await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token)).status, 204);
});
