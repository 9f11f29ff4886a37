/**
 * kill -9 of a real server holding 20 live labs (each with a shell, some with a nested pid
 * namespace and a child cgroup of their own), then a restart with the same configuration: the
 * restart removes every cgroup the dead server left (in every hierarchy), kills anything still
 * running in them or under the instance's uid range, clears its state directory, and the uid
 * ranges serve new labs again.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import type { LabSnapshot } from "../../lib/protocol.ts";
import { api, createLab, TermClient } from "../testing/harness.ts";
import { isolatedEnv } from "../testing/instance.ts";
import { killServerProcesses, startServerProcess } from "../testing/server-process.ts";
import { cgroupMounts } from "./recovery.ts";

const LABS = 20;
const env: Record<string, string> = { ...isolatedEnv("recovery"), NSLAB_MAX_LABS: "24", NSLAB_POOL: "2" };
const uidBase = Number(env.NSLAB_UID_BASE);
const uidEnd = uidBase + 24 * 65536;
const children: ChildProcess[] = [];

function startApiServer(extra: Record<string, string> = {}) {
  return startServerProcess({ ...env, ...extra });
}

/** Lab cgroup directories under this instance's parent, in every hierarchy. */
function labCgroups(): string[] {
  const out: string[] = [];
  for (const m of cgroupMounts(fs.readFileSync("/proc/self/mountinfo", "utf8"))) {
    const parent = path.join(m, env.NSLAB_CGROUP_PARENT);
    try {
      for (const e of fs.readdirSync(parent, { withFileTypes: true })) if (e.isDirectory()) out.push(path.join(parent, e.name));
    } catch {}
  }
  return out;
}

function uidOf(pid: number): number {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"))?.[1]);
  } catch {
    return -1;
  }
}

/** Live processes running under the instance's lab uid range. */
function uidRangeProcesses(): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = fs.readFileSync(`/proc/${name}/status`, "latin1");
      if (/^State:\s+[ZX]/m.test(st)) continue;
      const uid = Number(/^Uid:\s+(\d+)/m.exec(st)?.[1]);
      if (uid >= uidBase && uid < uidEnd) out.push(Number(name));
    } catch {}
  }
  return out;
}

after(() => {
  killServerProcesses();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

test(`after kill -9 of a server holding ${LABS} labs, the next start leaves nothing stale`, async () => {
  const first = await startApiServer();
  const labs = [];
  const terms: TermClient[] = [];
  for (let i = 0; i < LABS; i++) labs.push(await createLab(first.url));
  for (const [i, lab] of labs.entries()) {
    const t = new TermClient(first.url, lab);
    terms.push(t);
    await t.opened;
    await t.until((c) => c.output.includes("#"), "a prompt");
    if (i % 4 === 0) {
      // a nested pid namespace, and a child cgroup of the lab's own with a process in it
      const out = await t.run(
        "unshare -fp --mount-proc sleep 1000 & d=/sys/fs/cgroup/pids; [ -d $d ] || d=/sys/fs/cgroup; mkdir $d/mine && sleep 1001 & sleep 0.2; echo $! > $d/mine/cgroup.procs && echo moved",
      );
      assert.match(out, /moved/);
    }
  }
  const before = labCgroups();
  assert.ok(before.length >= LABS, `the labs have cgroups (${before.length})`);
  assert.ok(uidRangeProcesses().length >= 2 * LABS, "each lab has at least init and a shell");
  assert.ok(uidRangeProcesses().some((pid) => uidOf(pid) === uidBase), "the first uid range is in use");

  for (const t of terms) t.close();
  first.proc.kill("SIGKILL");
  await first.exited;

  // what kill -9 leaves: the cgroup directories. Plant what a worse crash could leave, too: a
  // process still in a lab's cgroup, a process under the uid range outside any cgroup, and a
  // stale file in the state directory.
  const left = labCgroups();
  assert.ok(left.length >= before.length, "the dead server's cgroups are still there");
  const planted: ChildProcess[] = [];
  const sleeper = (args: string[]) => {
    const p = spawn(args[0]!, args.slice(1), { stdio: "ignore" });
    planted.push(p);
    children.push(p);
    return p;
  };
  const inCgroup = sleeper(["sleep", "1000"]);
  fs.writeFileSync(path.join(left[0]!, "cgroup.procs"), String(inCgroup.pid));
  const strayUid = uidBase + 3 * 65536 + 1000;
  sleeper(["setpriv", `--reuid=${strayUid}`, `--regid=${strayUid}`, "--clear-groups", "sleep", "1000"]);
  await new Promise((r) => setTimeout(r, 300));
  fs.writeFileSync(path.join(env.NSLAB_STATE_DIR, "etc", "stale"), "from the dead server\n");
  const plantedExits = planted.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once("exit", r))));

  const second = await startApiServer({ NSLAB_POOL: "0" });
  try {
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error("the planted processes were not killed")), 30_000).unref());
    await Promise.race([Promise.all(plantedExits), deadline]);
    assert.deepEqual(labCgroups(), [], "no lab cgroup is left in any hierarchy");
    assert.deepEqual(uidRangeProcesses(), [], "nothing runs under the instance's uid range");
    assert.equal(fs.existsSync(path.join(env.NSLAB_STATE_DIR, "etc", "stale")), false, "the state directory was cleared");
    // every uid range serves a new lab again, starting with the first one
    const again = [];
    for (let i = 0; i < LABS; i++) again.push(await createLab(second.url));
    const s2 = (await api(second.url, "GET", `/api/labs/${again[0]!.id}/processes`, again[0]!.token)).json as LabSnapshot;
    assert.equal(s2.processes.find((p) => p.nspid.at(-1) === 1 && p.nspid.length === 2)!.uidHost, uidBase, "the first uid range is handed out again");
    const ids = new Set(again.map((l) => l.id));
    assert.ok(labCgroups().every((d) => ids.has(path.basename(d))), "the only lab cgroups are the new labs'");
  } finally {
    await second.stop();
  }
  assert.deepEqual(labCgroups(), [], "a clean shutdown removes them all");
});
