/**
 * Start-up recovery with frozen processes left behind. A learner may freeze a child cgroup (the
 * cgroups lesson's `docker pause` step); a frozen task does not act on SIGKILL and keeps its
 * cgroups busy. Planted here, as a dead server could leave them:
 *  - a frozen process in a child cgroup of a leftover lab cgroup of this instance (also in the
 *    lab's cgroups of the other hierarchies, which come before the freezer in mountinfo);
 *  - a frozen process under this instance's uid range in a frozen cgroup of ANOTHER parent (an
 *    instance that used the same uid range before and died: what a lesson verifier once left);
 *  - where a cgroup2 hierarchy is mounted (the unified one of a hybrid host, or v2), the same with
 *    cgroup.freeze.
 * recover() must thaw them, kill them and remove this instance's cgroups. Needs root.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { isolatedEnv } from "../testing/instance.ts";
import { cgroupMounts, freezers, recover } from "./recovery.ts";

if (process.getuid?.() !== 0) throw new Error("the frozen-recovery test needs root: it makes cgroups and runs processes as other uids");

const env = isolatedEnv("thaw");
const uidBase = Number(env.NSLAB_UID_BASE);
const mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8");
const hierarchies = freezers(mountinfo);
const other = `${env.NSLAB_CGROUP_PARENT}-gone`;
const planted: ChildProcess[] = [];
const made: string[] = [];

function mkdir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  made.push(dir);
  return dir;
}

function frozen(h: (typeof hierarchies)[number], dir: string): boolean {
  const s = h.file === "freezer.state" ? fs.readFileSync(path.join(dir, "freezer.state"), "utf8").trim() : /^frozen (\d)$/m.exec(fs.readFileSync(path.join(dir, "cgroup.events"), "utf8"))?.[1];
  return s === "FROZEN" || s === "1";
}

async function freeze(h: (typeof hierarchies)[number], dir: string): Promise<void> {
  fs.writeFileSync(path.join(dir, h.file), h.file === "freezer.state" ? "FROZEN" : "1");
  for (let i = 0; i < 200 && !frozen(h, dir); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(frozen(h, dir), `${dir} is frozen`);
}

/** A sleeper running as `uid`, moved into each of `dirs` (one per hierarchy). */
async function plant(uid: number, dirs: string[]): Promise<ChildProcess> {
  const p = spawn("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "sleep", "1000"], { stdio: "ignore" });
  planted.push(p);
  await new Promise((r) => p.once("spawn", r));
  // wait until setpriv has exec'd sleep, so the frozen one is the sleeper under `uid`
  for (let i = 0; i < 200; i++) {
    if (fs.readFileSync(`/proc/${p.pid}/comm`, "latin1").trim() === "sleep") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const d of dirs) fs.writeFileSync(path.join(d, "cgroup.procs"), String(p.pid));
  return p;
}

const exited = (p: ChildProcess) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.once("exit", r)));

after(async () => {
  // whatever the outcome: thaw, kill and remove what this test made (children first)
  for (const d of [...made].reverse()) {
    for (const [f, v] of [["freezer.state", "THAWED"], ["cgroup.freeze", "0"]]) {
      try {
        fs.writeFileSync(path.join(d, f), v);
      } catch {}
    }
  }
  for (const p of planted) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await Promise.all(planted.map(exited));
  const parents = cgroupMounts(mountinfo).flatMap((m) => [path.join(m, env.NSLAB_CGROUP_PARENT), path.join(m, other)]);
  for (const d of [...made.reverse(), ...parents]) {
    try {
      fs.rmdirSync(d);
    } catch {}
  }
});

test("recovery thaws frozen cgroups, then kills what was frozen and removes the lab cgroups", async () => {
  assert.ok(hierarchies.length > 0, "a freezer hierarchy is mounted (v1 freezer or cgroup2)");
  // (a v1 cpuset cgroup takes no task before its cpus and mems are set: not one nslab uses)
  const mounts = cgroupMounts(mountinfo).filter((m) => !fs.existsSync(path.join(m, "cpuset.cpus")));
  const victims: ChildProcess[] = [];
  for (const [i, h] of hierarchies.entries()) {
    // 1. in this instance's leftover lab: `ice` below the lab's cgroup in the freezing hierarchy,
    //    and the lab's cgroup itself in every other hierarchy (where it sits after the lab's init)
    const lab = `lab-dead${i}`;
    const ice = mkdir(path.join(h.mount, env.NSLAB_CGROUP_PARENT, lab, "ice"));
    const others = mounts.filter((m) => m !== h.mount && (h.controller === "" ? true : !hierarchies.some((x) => x.mount === m))).map((m) => mkdir(path.join(m, env.NSLAB_CGROUP_PARENT, lab)));
    const a = await plant(uidBase + 65536 * (2 * i) + 7, [...others, ice]);
    await freeze(h, ice);
    // 2. under the uid range, in another (dead) instance's cgroup: the lab is frozen, the process
    //    sits in a child of it (so its own cgroup says thawed but it is not)
    const labGone = mkdir(path.join(h.mount, other, lab));
    const child = mkdir(path.join(labGone, "inner"));
    const b = await plant(uidBase + 65536 * (2 * i + 1) + 9, [child]);
    await freeze(h, labGone);
    victims.push(a, b);
  }
  // the planted processes are stopped for real: SIGKILL alone does not end them
  await new Promise((r) => setTimeout(r, 200));
  for (const v of victims) assert.equal(v.exitCode === null && v.signalCode === null, true, "a frozen sleeper is alive");

  const report = await recover({ stateDir: env.NSLAB_STATE_DIR, cgroupParent: env.NSLAB_CGROUP_PARENT, uids: [uidBase, uidBase + 64 * 65536] });
  await Promise.all(victims.map(exited));
  assert.ok(report.processes >= victims.length, `every frozen process was killed (${report.processes})`);
  for (const m of mounts) {
    const parent = path.join(m, env.NSLAB_CGROUP_PARENT);
    const left = fs.existsSync(parent) ? fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
    assert.deepEqual(left, [], `no lab cgroup is left under ${parent}`);
  }
  // another instance's cgroups are not this one's to remove: only its processes under our uid range died
  for (const h of hierarchies) assert.ok(fs.existsSync(path.join(h.mount, other, `lab-dead${hierarchies.indexOf(h)}`)), "the other parent's cgroup stays");
});
