/**
 * The classroom against real labs: joining, progress from real checks, the dashboard socket,
 * watching a learner's own terminal, take-over only with consent, the broadcast, the end, and
 * class data across a server restart.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import type { JoinResponse, RosterResponse } from "../../lib/classes.ts";
import { ClassSock as Sock } from "../testing/classes.ts";
import { api, TermClient, testServer } from "../testing/harness.ts";

type Server = Awaited<ReturnType<typeof testServer>>;
let s: Server;
before(async () => {
  s = await testServer({ NSLAB_CLASS_END_WARNING_MS: "1500" });
});
after(async () => {
  await s?.close();
});

async function newClass(title = "Morning class") {
  const r = await api(s.url, "POST", "/api/classes", undefined, { title, lessons: ["uts-namespaces", "pid-namespaces"] });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json as { id: string; code: string; instructorKey: string; joinUrl: string; instructorUrl: string };
}
async function join(code: string, name: string, key?: string) {
  const r = await api(s.url, "POST", "/api/classes/join", undefined, { code, name, ...(key ? { key } : {}) });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.json));
  return r.json as JoinResponse;
}

test("a class: join, rejoin as the same learner, progress from a real check on the dashboard, export without formulas", async () => {
  const c = await newClass();
  assert.match(c.code, /^[2345679ACDEFGHJKMNPRTWXY]{6}$/);
  assert.ok(c.instructorUrl.endsWith(`#key=${c.instructorKey}`));
  assert.equal((await api(s.url, "GET", `/api/classes/${c.id}`)).status, 401);
  assert.equal((await api(s.url, "GET", `/api/classes/${c.id}`, "x".repeat(32))).status, 404);

  const dash = new Sock(s.url, `/api/classes/${c.id}/dashboard`, c.instructorKey);
  await dash.opened;
  const ada = await join(c.code.toLowerCase().replace(/(...)/, "$1-"), "=cmd|' /C calc'!A0");
  const bob = await join(c.code, "Bob");
  assert.notEqual(ada.lab.id, bob.lab.id);
  // a learner key is no instructor key, and a learner cannot see the roster
  assert.equal((await api(s.url, "GET", `/api/classes/${c.id}`, ada.key)).status, 404);
  const again = await join(c.code, "ignored", ada.key);
  assert.equal(again.learnerId, ada.learnerId);
  assert.equal(again.lab.id, ada.lab.id, "a rejoin gets the same lab while it runs");
  // ...with a fresh token: the class keeps none (the lab keeps hashes), and her earlier tab's works too
  assert.notEqual(again.lab.token, ada.lab.token);
  const status = (token: string) => api(s.url, "GET", `/api/labs/${ada.lab.id}`, token).then((r) => r.status);
  assert.equal(await status(ada.lab.token), 200);
  assert.equal(await status(again.lab.token), 200);
  // a lab honours its last 8 tokens: eight more rejoins, and the first one no longer opens it
  for (let i = 0; i < 8; i++) await join(c.code, "ignored", ada.key);
  assert.equal(await status(ada.lab.token), 404);
  const latest = await join(c.code, "ignored", ada.key);
  assert.equal(await status(latest.lab.token), 200);
  ada.lab = latest.lab; // what her page now holds

  // Ada runs the step's command in her terminal, then the check: the dashboard shows the pass
  const term = new TermClient(s.url, ada.lab);
  await term.opened;
  await term.until((t) => /# $/m.test(t.output), "a prompt");
  await term.run("uname -a");
  // the step asks for the kernel release uname printed (an answer only the kernel can give)
  const release = /^Linux \S+ (\S+) /m.exec(term.output)?.[1];
  assert.ok(release, term.output);
  const check = await api(s.url, "POST", `/api/labs/${ada.lab.id}/check`, ada.lab.token, { lesson: "uts-namespaces", step: "read-the-names", answer: release });
  assert.equal(check.json.passed, true, JSON.stringify(check.json));
  await dash.until(
    () => dash.has("learners", (m) => (m.learners as { id: string; passed: { step: string }[] }[]).some((l) => l.id === ada.learnerId && l.passed.some((p) => p.step === "read-the-names"))),
    "the pass on the dashboard",
  );
  const roster = (await api(s.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json as RosterResponse;
  const row = roster.learners.find((l) => l.id === ada.learnerId)!;
  assert.equal(row.checks, 1);
  assert.equal(row.lab?.alive, true);

  const csv = await fetch(`${s.url}/api/classes/${c.id}/export?format=csv`, { headers: { authorization: `Bearer ${c.instructorKey}` } }).then((r) => r.text());
  assert.match(csv, /,'=cmd\|' \/C calc'!A0,/, "a name that looks like a formula is text");
  assert.match(csv, /uts-namespaces,1,read-the-names,/);
  const json = (await api(s.url, "GET", `/api/classes/${c.id}/export?format=json`, c.instructorKey)).json;
  assert.deepEqual(json.learners.find((l: { id: string }) => l.id === ada.learnerId).passed.map((p: { step: string }) => p.step), ["read-the-names"]);

  // lock: no one new, but a learner with their key comes back; extend: a later end
  const later = Date.now() + 5 * 3600_000;
  assert.equal((await api(s.url, "PATCH", `/api/classes/${c.id}`, c.instructorKey, { locked: true, endsAt: later })).status, 200);
  assert.equal((await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Late" })).json.error, "class_locked");
  assert.equal((await join(c.code, "", bob.key)).learnerId, bob.learnerId);
  assert.equal(Date.parse(((await api(s.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json as RosterResponse).class.endsAt), later);
  term.close();
  dash.close();
  await api(s.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey);
});

test("wrong codes are rate-limited per address", async () => {
  let last = 0;
  for (let i = 0; i < 12; i++) last = (await api(s.url, "POST", "/api/classes/join", undefined, { code: "222222", name: "guess" })).status;
  assert.equal(last, 429);
  const c = await newClass("after guessing");
  const r = await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "legit" });
  assert.equal(r.status, 429, "even a right code waits: the guesser learns nothing");
  await api(s.url, "DELETE", `/api/classes/${c.id}?now=1`, c.instructorKey);
});

test("watching a learner's own shell is read-only; take-over needs consent and ends on revoke; the end destroys the labs", async () => {
  // a fresh address: the guessing test above used up 127.0.0.1's attempts
  const c = await newClass("Watch");
  const ada = await s.classes.join({ code: c.code, name: "Ada" }, "10.0.0.1");
  const ctl = new Sock(s.url, `/api/classes/${c.id}/learner`, ada.key);
  await ctl.opened;
  const term = new TermClient(s.url, ada.lab);
  await term.opened;
  await term.until((t) => t.ready !== undefined, "ready");
  ctl.json({ type: "position", lesson: "uts-namespaces", step: null, terminal: term.ready!.terminal });
  await term.until((t) => /# $/m.test(t.output), "a prompt");
  await term.run("echo ada-was-here");

  const watch = new Sock(s.url, `/api/classes/${c.id}/learners/${ada.learnerId}/watch`, c.instructorKey);
  await watch.opened;
  await watch.until(() => watch.text.includes("ada-was-here"), "the learner's screen, at once");
  await ctl.until(() => ctl.has("watchers", (m) => m.count === 1), "the learner sees a watcher");
  term.send("echo live-$((6*7))\r");
  await watch.until(() => watch.text.includes("live-42"), "live output of the same shell");
  watch.ws.send(Buffer.from("rm -rf /\r"));
  await watch.until(() => watch.has("error", (m) => m.code === "read_only"), "input refused");

  const drivePath = `/api/classes/${c.id}/learners/${ada.learnerId}/drive`;
  await assert.rejects(new Sock(s.url, drivePath, c.instructorKey).opened, /HTTP 403/);
  assert.equal((await api(s.url, "POST", `/api/classes/${c.id}/learners/${ada.learnerId}/ask`, c.instructorKey, { kind: "takeover" })).status, 202);
  await ctl.until(() => ctl.has("request", (m) => m.kind === "takeover"), "the learner is asked");
  ctl.json({ type: "answer", kind: "takeover", allow: true });
  await ctl.until(() => ctl.has("grants", (m) => m.takeover === true), "consent recorded");
  const drive = new Sock(s.url, drivePath, c.instructorKey);
  await drive.opened;
  drive.ws.send(Buffer.from("echo typed-by-$((1+1))-hands\r"));
  await term.until((t) => t.output.includes("typed-by-2-hands"), "the instructor's input in the learner's shell");
  ctl.json({ type: "revoke", kind: "takeover" });
  await drive.until(() => drive.closedWith === 4403, "the drive socket is closed on revoke");

  // showing her terminal to the class needs her consent too
  assert.equal((await api(s.url, "POST", `/api/classes/${c.id}/stage`, c.instructorKey, { source: "learner", learnerId: ada.learnerId })).status, 403);

  // the help queue: a raised hand with a message, resolved by the instructor
  ctl.json({ type: "hand", raised: true, message: "stuck\u001b[31m on step 2" });
  await ctl.until(() => ctl.has("hand", (m) => m.raised === true), "the hand is up");
  const help = ((await api(s.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json as RosterResponse).help;
  assert.deepEqual(help.map((h) => [h.name, h.message]), [["Ada", "stuck [31m on step 2"]]);
  assert.equal((await api(s.url, "POST", `/api/classes/${c.id}/help/${help[0]!.id}/resolve`, c.instructorKey, {})).status, 200);
  await ctl.until(() => ctl.msgs.filter((m) => m.type === "hand").at(-1)?.raised === false, "the hand is down");

  // the end: a warning, then every lab of the class is gone
  const labs = [ada.lab.id];
  assert.equal((await api(s.url, "DELETE", `/api/classes/${c.id}`, c.instructorKey)).status, 202);
  await ctl.until(() => ctl.has("ending"), "the warning");
  assert.ok(s.mgr.get(ada.lab.id)?.running, "labs live through the warning");
  await ctl.until(() => ctl.has("ended"), "the end", 10_000);
  await ctl.until(() => ctl.closedWith === 4100, "socket closed");
  for (const id of labs) assert.equal(s.mgr.get(id), undefined);
  await assert.rejects(s.classes.join({ code: c.code, name: "late" }, "10.0.0.3"), { code: "class_ended" });
  term.close();
});

test("class data survives a restart; a learner who comes back gets a fresh lab and keeps their progress", async () => {
  const dataDir = fs.mkdtempSync("/run/nslab-restart-");
  try {
    const a = await testServer({ NSLAB_DATA_DIR: dataDir });
    const r = await api(a.url, "POST", "/api/classes", undefined, { title: "Restart", lessons: ["uts-namespaces"] });
    const c = r.json as { id: string; code: string; instructorKey: string };
    const ada = await a.classes.join({ code: c.code, name: "Ada" }, "10.0.0.2");
    await api(a.url, "POST", `/api/labs/${ada.lab.id}/solve`, ada.lab.token, { lesson: "uts-namespaces", step: "read-the-names" });
    await a.close();

    const b = await testServer({ NSLAB_DATA_DIR: dataDir });
    try {
      const roster = (await api(b.url, "GET", `/api/classes/${c.id}`, c.instructorKey)).json as RosterResponse;
      assert.equal(roster.learners[0]?.name, "Ada");
      assert.deepEqual(roster.learners[0]?.passed.map((p) => [p.step, p.via]), [["read-the-names", "solve"]]);
      assert.equal(roster.learners[0]?.lab, null, "labs do not survive a restart");
      const back = await b.classes.join({ code: c.code, name: "x", key: ada.key }, "10.0.0.2");
      assert.equal(back.learnerId, ada.learnerId);
      assert.equal(back.freshLab, true);
      assert.notEqual(back.lab.id, ada.lab.id);
      const me = await api(b.url, "GET", `/api/classes/${c.id}/me`, ada.key);
      assert.equal(me.json.passed.length, 1);
    } finally {
      await b.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test("class labs follow the class window: its end is their deadline, moved by extend and end, with one warning (the class's)", async () => {
  const endsAt = Date.now() + 3600_000;
  const r = await api(s.url, "POST", "/api/classes", undefined, { title: "Window", lessons: ["uts-namespaces"], endsAt });
  const c = r.json as { id: string; code: string; instructorKey: string };
  const ada = await s.classes.join({ code: c.code, name: "Ada" }, "10.0.0.4");
  const policy = () => s.mgr.get(ada.lab.id)!.lifetime.current;
  // no idle timeout, no lifetime cap: the class's end, and nothing else
  assert.deepEqual([policy().idleMs, policy().maxMs, policy().deadline], [null, null, endsAt], "created with the class's end as its deadline");
  const status = await api(s.url, "GET", `/api/labs/${ada.lab.id}`, ada.lab.token);
  assert.equal(status.json.expiresAt, new Date(endsAt).toISOString(), "the lab's own status shows the class's end");

  const later = endsAt + 3600_000;
  assert.equal((await api(s.url, "PATCH", `/api/classes/${c.id}`, c.instructorKey, { endsAt: later })).status, 200);
  assert.equal(policy().deadline, later, "extending the class moves the deadline");

  // the instructor's demo lab follows it too
  const demoRes = await api(s.url, "POST", `/api/classes/${c.id}/instructor-lab`, c.instructorKey, {});
  assert.ok(demoRes.status < 300, JSON.stringify(demoRes.json));
  const demo = demoRes.json.lab as { id: string };
  assert.equal(s.mgr.get(demo.id)?.lifetime.current.deadline, later, "the demo lab's deadline is the class's end");
  const ctl = new Sock(s.url, `/api/classes/${c.id}/learner`, ada.key);
  await ctl.opened;
  const term = new TermClient(s.url, ada.lab);
  await term.opened;
  await term.until((t) => /# $/m.test(t.output), "a prompt");

  // ending: the labs' deadline is the end of the class's warning (1.5 s here, far inside the
  // server's 2-minute lab warning): the learner gets the class's warning and no lab warning
  const t0 = Date.now();
  assert.equal((await api(s.url, "DELETE", `/api/classes/${c.id}`, c.instructorKey)).status, 202);
  await ctl.until(() => ctl.has("ending"), "the class's warning");
  const labsEndAt = Date.parse((ctl.msgs.find((m) => m.type === "ending") as { labsEndAt: string }).labsEndAt);
  assert.equal(policy().deadline, labsEndAt, "ending early moves the deadline to the class's end");
  assert.ok(labsEndAt >= t0 && labsEndAt <= Date.now() + 1500);
  assert.equal(s.mgr.get(demo.id)?.lifetime.current.deadline, labsEndAt, "the demo lab's too");
  await term.until((t) => t.controls.some((m) => m.type === "closed"), "the lab's end", 15_000);
  const closed = term.controls.find((m) => m.type === "closed") as { ended?: string };
  assert.equal(closed.ended, "deadline", "the page is told its class ended");
  assert.equal(term.controls.some((m) => m.type === "lab-expiring"), false, "no second (lab) warning");
  for (let i = 0; i < 300 && s.mgr.get(ada.lab.id); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.mgr.get(ada.lab.id), undefined);
  const gone = await api(s.url, "GET", `/api/labs/${ada.lab.id}`, ada.lab.token);
  assert.deepEqual([gone.status, gone.json.reason], [410, "deadline"]);
  term.close();
  ctl.close();
});
