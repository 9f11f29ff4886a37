/**
 * The socket that makes its lab (NEW_LAB_SOCKET, issue 9's cold lab): a page's first visit gets
 * its lab and its first terminal in one round trip. Its first message is exactly POST /api/labs's
 * answer; on 201 the socket is the lab's first terminal, otherwise it closes and makes nothing.
 * Against real labs.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LabCreatedControl } from "../../lib/protocol.ts";
import { api, testServer, TermClient } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
let coded: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_LABS_PER_CLIENT: "3", NSLAB_POOL: "0" });
  coded = await testServer({ NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: "workshop-2026", NSLAB_POOL: "0" });
});
after(async () => {
  await s.close();
  await coded.close();
});

const first = (t: TermClient) => t.controls[0] as LabCreatedControl | undefined;
const closed = (t: TermClient) => new Promise<number>((r) => (t.ws.readyState === t.ws.CLOSED ? r(-1) : t.ws.once("close", (code) => r(code))));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("the socket makes a lab, says so first (POST's 201 answer), and is that lab's first terminal", async () => {
  const t = new TermClient(s.url, null, "lesson=uts-namespaces&cols=100&rows=30");
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the prompt");
  const m = first(t)!;
  assert.equal(m.type, "lab", "the lab's message comes before anything else");
  assert.equal(m.status, 201);
  const lab = m.body as { id: string; token: string; hostname: string };
  assert.match(lab.id, /^[0-9a-f]{16}$/);
  assert.equal(t.controls[1]!.type, "ready", "then the terminal's ready");
  // the lab is a real one, the token is its, the lesson is set and the socket is its terminal t1
  const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.equal(st.status, 200);
  assert.equal(st.json.lesson, "uts-namespaces");
  assert.deepEqual(st.json.terminals.map((x: { id: string; attached: boolean }) => [x.id, x.attached]), [["t1", true]]);
  assert.equal((await t.run("hostname; stty size")).trim(), `${lab.hostname}\n30 100`);
  t.close();
  await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
});

test("a refusal is POST's answer as the first message, then a normal close, and no lab", async () => {
  const before = s.mgr.count;
  const bad = new TermClient(s.url, null, "lesson=..%2Fetc");
  const badClosed = closed(bad);
  await bad.opened;
  assert.equal(await badClosed, 1000);
  assert.equal(first(bad)!.status, 400);
  assert.equal((first(bad)!.body as { error: string }).error, "bad_request");
  const unknown = new TermClient(s.url, null, "lesson=99-no-such-lesson");
  await unknown.opened;
  assert.equal(await closed(unknown), 1000);
  assert.equal((first(unknown)!.body as { error: string }).error, "unknown_lesson");
  assert.equal(unknown.controls.length, 1, "nothing after the answer");

  // a workshop that needs a code: the page asks for it (and POSTs it), as after POST's 401
  const c = new TermClient(coded.url, null, "");
  await c.opened;
  assert.equal(await closed(c), 1000);
  assert.equal(first(c)!.status, 401);
  assert.equal(coded.mgr.count, 0, "no lab without the code");

  // the address's live labs: the same limit as POST's, in the same words
  const labs = [];
  let last: TermClient | undefined;
  for (let i = 0; i < 5; i++) {
    last = new TermClient(s.url, null, "");
    await last.opened;
    await last.until((x) => x.controls.length > 0, "an answer");
    if (first(last)!.status !== 201) break;
    labs.push(first(last)!.body as { id: string; token: string });
  }
  assert.equal(first(last!)!.status, 429);
  assert.equal((first(last!)!.body as { error: string }).error, "too_many_labs");
  assert.equal(await closed(last!), 1000);
  const post = await api(s.url, "POST", "/api/labs", undefined, {});
  assert.deepEqual(first(last!)!.body, post.json, "word for word POST's answer");
  for (const l of labs) await api(s.url, "DELETE", `/api/labs/${l.id}`, l.token);
  await until(() => s.mgr.count === before, "the labs deleted");
});

test("other origins are refused before anything is made (403)", async () => {
  await assert.rejects(new TermClient(s.url, null, "", "https://evil.example").opened, /403/);
  const same = new TermClient(s.url, null, "", s.url);
  await same.opened;
  await same.until((x) => x.controls.length > 0, "an answer");
  const lab = first(same)!.body as { id: string; token: string };
  same.close();
  await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
});

test("a lab made for a socket that closed before its answer is put away: nobody has its token", async () => {
  const before = s.mgr.count;
  const t = new TermClient(s.url, null, "");
  await t.opened;
  t.ws.terminate(); // gone before the lab is made (that takes milliseconds)
  await new Promise((r) => setTimeout(r, 300));
  await until(() => s.mgr.count === before, "no lab left behind");
});
