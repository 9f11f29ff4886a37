/**
 * Snapshots of a small "lab" made with unshare(1) as uid 1000: new user (root → host 1000), pid
 * and mount namespaces, and inside it a process in a new UTS namespace, one in a nested pid
 * namespace and one in a nested user namespace. The lab handle is a stand-in; the integration
 * test (inspect.integration.test.ts) does the same against real nslab labs. Needs root.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import type { LabHandle } from "../labs/types.ts";
import type { LabSnapshot, NsType } from "../../lib/protocol.ts";
import { nsFacts } from "./nsfacts.ts";
import { loadNative } from "../native/core.ts";
import { testConfig } from "../testing/instance.ts";
import { readNsLinks } from "./procfs.ts";
import { LabInspector, mountsOf, ownNamespaces, snapshotHash, snapshotLab } from "./snapshot.ts";
import { fakeLab as makeFakeLab } from "../testing/fakelab.ts";
import { comm, descendants, Scene, waitFor } from "./test-helpers.ts";

// namespace facts come from the C core (ioctl_ns(2))
loadNative(testConfig());

const own = readNsLinks(process.pid);
let scene: Scene;
let lab: LabHandle & { pids: () => number[] };
let init: number;
let utsSleep: number, pidSleep: number, userSleep: number, plainSleep: number;

function fakeLab(initPid: number, pids: () => number[]): LabHandle & { pids: () => number[] } {
  return Object.assign(makeFakeLab(undefined, { initPid, pids, hostname: "test" }), { pids });
}

before(async () => {
  scene = new Scene(`exec setpriv --reuid=1000 --regid=1000 --clear-groups unshare --kill-child -Urfp --mount-proc bash -c '
    sleep 1000 &
    unshare -u sleep 1001 &
    unshare -fp --mount-proc sleep 1002 &
    unshare -U --map-user=5 --map-group=5 sleep 1003 &
    wait'`);
  const sleeps = await scene.find("sleep", 4);
  const cmd = cmdline;
  plainSleep = sleeps.find((p) => cmd(p) === "sleep 1000")!;
  utsSleep = sleeps.find((p) => cmd(p) === "sleep 1001")!;
  pidSleep = sleeps.find((p) => cmd(p) === "sleep 1002")!;
  userSleep = sleeps.find((p) => cmd(p) === "sleep 1003")!;
  init = descendants(scene.pid).find((p) => comm(p) === "bash")!;
  assert.ok(init && plainSleep && utsSleep && pidSleep && userSleep);
  // the lab: everything below the unshare process (which itself stays in the host's namespaces)
  lab = fakeLab(init, () => descendants(scene.pid));
});
after(async () => scene?.stop());

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

const nsOf = (s: LabSnapshot, type: NsType, ino: number | undefined) => s.namespaces.find((n) => n.type === type && n.ino === ino);
const proc = (s: LabSnapshot, pid: number) => s.processes.find((p) => p.hostPid === pid)!;

test("nslab_ns_info: a nested pid namespace's parent is ours; a new user namespace's parent and owner are ours", () => {
  const pid = nsFacts(`/proc/${init}/ns/pid`)!;
  assert.equal(pid.type, "pid");
  assert.equal(pid.ino, readNsLinks(init).pid);
  assert.equal(pid.parent, own.pid);
  const user = nsFacts(`/proc/${init}/ns/user`)!;
  assert.equal(user.parent, own.user);
  assert.equal(user.owner, own.user);
  assert.equal(user.ownerUid, 1000, "created by uid 1000");
  const uts = nsFacts(`/proc/${utsSleep}/ns/uts`)!;
  assert.equal(uts.parent, null, "only pid and user namespaces have parents");
  assert.equal(uts.owner, user.ino, "owned by the user namespace its creator was in");
  const nested = nsFacts(`/proc/${pidSleep}/ns/pid`)!;
  assert.equal(nested.parent, pid.ino, "a pid namespace nested in the lab's");
  assert.equal(nsFacts("/proc/999999999/ns/pid"), null);
});

test("a snapshot: processes with NSpid at each level, uids inside and outside", async () => {
  const s = await snapshotLab(lab);
  assert.ok(Math.abs(s.at - Date.now()) < 5000);
  const i = proc(s, init);
  assert.deepEqual(i.nspid, [init, 1], "init is PID 1 of the lab's pid namespace");
  assert.equal(i.comm, "bash");
  assert.equal(i.uidHost, 1000);
  assert.equal(i.uidInside, 0, "root inside, uid 1000 outside");
  assert.equal(proc(s, plainSleep).ppid, init);
  assert.equal(proc(s, plainSleep).cmdline, "sleep 1000");
  assert.equal(proc(s, pidSleep).nspid.length, 3, "host, lab, nested");
  assert.equal(proc(s, pidSleep).nspid[2], 1);
  const u = proc(s, userSleep);
  assert.equal(u.uidHost, 1000);
  assert.equal(u.uidInside, 5, "--map-user=5");
  assert.deepEqual(
    s.processes.map((p) => p.hostPid),
    [...s.processes.map((p) => p.hostPid)].sort((a, b) => a - b),
  );
});

test("a snapshot: namespaces grouped by inode, the lab's own marked, the host's flagged", async () => {
  const s = await snapshotLab(lab);
  const initNs = proc(s, init).ns;
  for (const t of ["user", "pid", "mnt"] as const) {
    const n = nsOf(s, t, initNs[t])!;
    assert.equal(n.isLabRoot, true, t);
    assert.ok(!n.host, t);
    assert.ok(n.processes.includes(init) && n.processes.includes(plainSleep), t);
  }
  for (const t of ["uts", "ipc", "net", "cgroup", "time"] as const) {
    const n = nsOf(s, t, initNs[t])!;
    assert.equal(n.isLabRoot, false, `${t}: the host's, not made for the lab`);
    assert.equal(n.host, true, t);
  }
  const uts = nsOf(s, "uts", proc(s, utsSleep).ns.uts)!;
  assert.deepEqual(uts.processes, [utsSleep]);
  assert.equal(uts.isLabRoot, false);
  assert.equal(uts.owner, initNs.user);
  const nestedPid = nsOf(s, "pid", proc(s, pidSleep).ns.pid)!;
  assert.equal(nestedPid.parent, initNs.pid);
  const labPid = nsOf(s, "pid", initNs.pid)!;
  assert.equal(labPid.parent, own.pid);
  // the host's pid and user namespaces appear as the top of the hierarchy, with no lab process
  const hostPid = nsOf(s, "pid", own.pid)!;
  assert.deepEqual(hostPid.processes, []);
  assert.equal(hostPid.host, true);
  const nestedUser = nsOf(s, "user", proc(s, userSleep).ns.user)!;
  assert.equal(nestedUser.parent, initNs.user);
  assert.equal(nsOf(s, "user", own.user)!.host, true);
  // ordering: by type, the lab's own first
  const types = s.namespaces.map((n) => n.type);
  assert.deepEqual(types, [...types].sort((a, b) => ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"].indexOf(a) - ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"].indexOf(b)));
  assert.equal(s.namespaces.find((n) => n.type === "pid")!.isLabRoot, true);
  assert.deepEqual(ownNamespaces(), own);
});

test("a snapshot: id maps of each user namespace, relative to the parent and to the host", async () => {
  const s = await snapshotLab(lab);
  const labUser = s.userMaps.find((m) => m.ino === proc(s, init).ns.user)!;
  assert.deepEqual(labUser.uidMap, [{ inside: 0, outside: 1000, count: 1, outsideHost: 1000 }]);
  assert.deepEqual(labUser.gidMap, [{ inside: 0, outside: 1000, count: 1, outsideHost: 1000 }]);
  assert.equal(labUser.setgroups, "deny");
  assert.equal(labUser.ownerUid, 1000);
  const nested = s.userMaps.find((m) => m.ino === proc(s, userSleep).ns.user)!;
  assert.deepEqual(nested.uidMap, [{ inside: 5, outside: 0, count: 1, outsideHost: 1000 }], "root of the lab (0) is 1000 on the host");
  assert.equal(s.userMaps.some((m) => m.ino === own.user), false, "no maps for namespaces without a lab process");
});

test("the hash is stable, and changes when a namespace goes away", async () => {
  const insp = new LabInspector(lab);
  const a = await insp.snapshot();
  const b = await insp.snapshot(); // from the caches
  assert.equal(snapshotHash(a), snapshotHash(b));
  assert.deepEqual({ ...a, at: 0 }, { ...b, at: 0 });
  const utsIno = proc(a, utsSleep).ns.uts;
  process.kill(utsSleep, "SIGKILL");
  await waitFor(() => !descendants(scene.pid).includes(utsSleep), "the uts sleep reaped");
  const c = await insp.snapshot();
  assert.notEqual(snapshotHash(c), snapshotHash(a));
  assert.equal(nsOf(c, "uts", utsIno), undefined);
  assert.equal(c.processes.some((p) => p.hostPid === utsSleep), false);
});

test("a process of the lab's cgroup outside its pid namespace (nslab-helper on its way in) is left out", async () => {
  const s = await new LabInspector(fakeLab(init, () => [scene.pid, ...descendants(scene.pid)])).snapshot();
  assert.equal(s.processes.some((p) => p.hostPid === scene.pid), false, "unshare itself is in the host's pid namespace");
  assert.ok(s.processes.some((p) => p.hostPid === init));
  assert.ok(!s.namespaces.some((n) => n.processes.includes(scene.pid)));
  assert.equal(s.namespaces.find((n) => n.type === "mnt" && n.ino === own.mnt), undefined, "no column for the host's mount namespace");
});

test("a vanished pid in the list is skipped, not an error", async () => {
  const insp = new LabInspector(fakeLab(init, () => [...descendants(scene.pid), 999_999_999]));
  const s = await insp.snapshot();
  assert.equal(s.processes.some((p) => p.hostPid === 999_999_999), false);
  assert.ok(s.processes.length >= 3);
});

test("mounts only for the lab's own processes", async () => {
  const m = await mountsOf(lab, init);
  assert.ok(m && m.length > 0);
  assert.ok(m.some((e) => e.mountPoint === "/proc" && e.fsType === "proc"), "--mount-proc's /proc");
  assert.equal(await mountsOf(lab, process.pid), null, "the server is not in the lab");
  assert.equal(await mountsOf(lab, scene.pid), null, "nor is unshare, its parent");
  assert.equal(await mountsOf(lab, 999_999_999), null);
  assert.equal(await mountsOf(lab, -1), null);
});
