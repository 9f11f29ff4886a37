/**
 * Lab lifetime with a shortened idle timeout (6 s, warned 4 s before), on a real server with real
 * labs: an idle lab is warned, then put away (its processes, cgroups and uid range gone, its page
 * told why, its status 410 with the reason); an active one is kept; "I'm still here" (keepalive)
 * withdraws the warning; an owner's deadline ends a lab; a disconnected shell lives as long as its
 * lab.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import type { LabSnapshot, ServerControl } from "../../lib/protocol.ts";
import { loadConfig } from "../config.ts";
import { api, createLab, TermClient, testServer } from "../testing/harness.ts";
import { cgroupMounts } from "./recovery.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_IDLE_TIMEOUT: "6s", NSLAB_EXPIRY_WARNING: "4s", NSLAB_MAX_LABS: "8" });
});
after(async () => s?.close());

const controls = (t: TermClient, type: string) => t.controls.filter((c) => c.type === type);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function initOf(lab: { id: string; token: string }): Promise<{ pid: number; uid: number }> {
  const snap = (await api(s.url, "GET", `/api/labs/${lab.id}/processes`, lab.token)).json as LabSnapshot;
  const init = snap.processes.find((p) => p.nspid.length === 2 && p.nspid[1] === 1)!;
  return { pid: init.hostPid, uid: init.uidHost };
}

function cgroupDirs(id: string): string[] {
  return cgroupMounts(fs.readFileSync("/proc/self/mountinfo", "utf8"))
    .map((m) => path.join(m, s.config.cgroupParent, id))
    .filter((d) => fs.existsSync(d));
}

function processesOf(uid: number): number[] {
  const out: number[] = [];
  for (const n of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const st = fs.readFileSync(`/proc/${n}/status`, "latin1");
      if (!/^State:\s+[ZX]/m.test(st) && Number(/^Uid:\s+(\d+)/m.exec(st)?.[1]) === uid) out.push(Number(n));
    } catch {}
  }
  return out;
}

test("the default: idle 30 min, at most 4 h, warned 2 min before; a detached shell lasts as long as its lab", () => {
  const c = loadConfig({ NODE_ENV: "test" });
  assert.deepEqual([c.idleTimeoutMs, c.maxLifetimeMs, c.expiryWarningMs, c.graceMs], [30 * 60_000, 4 * 3600_000, 2 * 60_000, 0]);
  assert.equal(loadConfig({ NODE_ENV: "test", NSLAB_IDLE_TIMEOUT: "45m", NSLAB_MAX_LIFETIME: "8h" }).maxLifetimeMs, 8 * 3600_000);
  assert.throws(() => loadConfig({ NODE_ENV: "test", NSLAB_IDLE_TIMEOUT: "soon" }), /duration/);
});

test("an idle lab is warned, then put away with everything it held; an active one is kept", async () => {
  const idle = await createLab(s.url);
  const active = await createLab(s.url);
  const idleInit = await initOf(idle);
  assert.ok(cgroupDirs(idle.id).length > 0 || s.mgr.cgroups.version === 0, "the idle lab has cgroups");
  const ti = new TermClient(s.url, idle);
  const ta = new TermClient(s.url, active);
  await Promise.all([ti.opened, ta.opened]);
  await ti.until((c) => /[#$] $/.test(c.output), "a prompt");
  // the active lab: a command every 1.5 s, and a second terminal that stays disconnected
  await ta.run("export MARK=kept");
  const detached = new TermClient(s.url, active);
  await detached.opened;
  await detached.until((c) => !!c.ready, "ready");
  const detachedId = detached.ready!.terminal;
  await detached.run("export DETACHED=still-here");
  detached.close();
  let typing = true;
  const typer = (async () => {
    while (typing) {
      if (ta.ws.readyState === ta.ws.OPEN) ta.send("echo tick\r");
      await sleep(1500);
    }
  })();
  try {
    // warned while ~4 s are left, then put away, with its reason
    await ti.until((c) => controls(c, "lab-expiring").length > 0, "the expiry warning", 15_000);
    const warn = controls(ti, "lab-expiring")[0] as Extract<ServerControl, { type: "lab-expiring" }>;
    assert.equal(warn.reason, "idle");
    const left = Date.parse(warn.at) - Date.now();
    assert.ok(left > 0 && left <= 4_500, `warned ${left} ms before`);
    const st = (await api(s.url, "GET", `/api/labs/${active.id}`, active.token)).json;
    assert.equal(st.expiryReason, "idle");
    await ti.until((c) => c.controls.some((x) => x.type === "closed"), "the end", 15_000);
    const closed = ti.controls.find((x) => x.type === "closed") as Extract<ServerControl, { type: "closed" }>;
    assert.deepEqual([closed.reason, closed.ended], ["lab-destroyed", "idle"]);
    assert.match(closed.message, /nothing happened in it for a while/);

    // everything it held is gone: processes, cgroups, uid range
    // the page is told first; the teardown (reaping, cgroup removal) follows within moments
    for (let i = 0; i < 200 && (fs.existsSync(`/proc/${idleInit.pid}`) || processesOf(idleInit.uid).length || cgroupDirs(idle.id).length); i++) await sleep(50);
    assert.equal(fs.existsSync(`/proc/${idleInit.pid}`), false, "its init is gone");
    assert.deepEqual(processesOf(idleInit.uid), [], "nothing runs under its uid");
    assert.deepEqual(cgroupDirs(idle.id), [], "its cgroups are removed in every hierarchy");
    const gone = await api(s.url, "GET", `/api/labs/${idle.id}`, idle.token);
    assert.deepEqual([gone.status, gone.json.error, gone.json.reason], [410, "lab_ended", "idle"]);
    assert.match(gone.json.message, /progress is kept/);
    assert.equal((await api(s.url, "GET", `/api/labs/${idle.id}`, "x".repeat(32))).status, 404, "only its own token learns why");

    // its uid range serves the next lab
    const next = await createLab(s.url);
    assert.equal((await initOf(next)).uid, idleInit.uid, "the freed uid range is handed out again");
    await api(s.url, "DELETE", `/api/labs/${next.id}`, next.token);

    // the active lab outlived the idle timeout, never warned; its disconnected shell is still there
    await sleep(1000);
    assert.equal((await api(s.url, "GET", `/api/labs/${active.id}`, active.token)).json.state, "running");
    assert.equal(controls(ta, "lab-expiring").length, 0);
    const back = new TermClient(s.url, active, `&terminal=${detachedId}`);
    await back.opened;
    assert.equal((await back.run("echo $DETACHED")).trim(), "still-here", "the same shell, after being disconnected");
    back.close();
  } finally {
    typing = false;
    await typer;
    ta.close();
    ti.close();
    await api(s.url, "DELETE", `/api/labs/${active.id}`, active.token);
  }
});

test("\"I'm still here\": a keepalive withdraws the warning and keeps the lab", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => controls(c, "lab-expiring").length > 0, "the expiry warning", 15_000);
  const r = await api(s.url, "POST", `/api/labs/${lab.id}/keepalive`, lab.token);
  assert.equal(r.status, 200);
  assert.ok(Date.parse(r.json.expiresAt) - Date.now() > 5_000, "the expiry moved a full idle timeout away");
  await t.until((c) => controls(c, "lab-extended").length > 0, "the warning withdrawn", 5_000);
  await sleep(3000);
  assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).json.state, "running", "6 s after it was first warned");
  t.close();
  await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token);
});

test("the owner's hook: a deadline (a class's end) ends the lab whatever its activity, with its reason", async () => {
  const lab = await createLab(s.url);
  assert.equal(s.mgr.setLifetime(lab.id, { deadline: Date.now() + 2500, idleMs: null }), true);
  const st = (await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).json;
  assert.equal(st.expiryReason, "deadline");
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => controls(c, "lab-expiring").some((x) => (x as { reason: string }).reason === "deadline"), "the warning", 5_000);
  await t.until((c) => c.controls.some((x) => x.type === "closed"), "the end", 10_000);
  const gone = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.deepEqual([gone.status, gone.json.reason], [410, "deadline"]);
  assert.equal(s.mgr.setLifetime("0123456789abcdef", { deadline: null }), false);
  t.close();
});
