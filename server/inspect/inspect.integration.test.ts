/**
 * Inspection of real nslab labs: through the LabManager (snapshots, nested namespaces, mounts),
 * and through the real server's explorer WebSocket (live updates as a learner types, mount
 * propagation made in a terminal, lab destruction). Needs root.
 *
 * NSLAB_CAPTURE_FIXTURES=1 also writes fixtures/lab*.mountinfo from a live lab.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { LabSnapshot, MountEntry } from "../../lib/protocol.ts";
import { LabManager } from "../labs/manager.ts";
import { createLab, ExplorerClient, testServer, TermClient } from "../testing/harness.ts";
import { isolatedEnv, testConfig } from "../testing/instance.ts";
import { peerGroups } from "./mountinfo.ts";
import { readNsLinks } from "./procfs.ts";
import { mountsOf, snapshotLab } from "./snapshot.ts";

if (process.getuid?.() !== 0) throw new Error("inspect integration tests need root: they create real labs");

// a uid range, cgroup parent and state dir of their own, so a test server someone else runs on this host is not disturbed
const ENV: Record<string, string> = { ...isolatedEnv("inspect"), NSLAB_MAX_LABS: "20" };
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const own = readNsLinks(process.pid);
const proc = (s: LabSnapshot, pid: number) => s.processes.find((p) => p.hostPid === pid);
const byCmd = (s: LabSnapshot, cmd: string) => s.processes.find((p) => p.cmdline === cmd);

describe("snapshots of a lab (LabManager)", () => {
  let mgr: LabManager;
  before(async () => {
    mgr = await LabManager.start(testConfig({ env: ENV }));
  });
  after(async () => mgr?.shutdown());

  test("init is PID 1 of the lab, in the lab's own namespaces of every type", async () => {
    const { lab } = await mgr.create({});
    try {
      const s = await snapshotLab(lab);
      const init = proc(s, lab.initPid)!;
      assert.ok(init, "init is in the snapshot");
      assert.deepEqual(init.nspid, [lab.initPid, 1]);
      assert.equal(init.cmdline, "nslab-init");
      assert.ok(s.processes.every((p) => p.nspid.length >= 2), "only processes in the lab's pid namespace (not nslab-helper on its way in)");
      assert.equal(init.uidInside, 0);
      assert.ok(init.uidHost >= Number(ENV.NSLAB_UID_BASE), "root of the lab is an unprivileged host uid, in this instance's range");
      for (const [t, ino] of Object.entries(init.ns)) {
        const n = s.namespaces.find((x) => x.type === t && x.ino === ino)!;
        assert.equal(n.isLabRoot, true, t);
        assert.notEqual(ino, own[t as keyof typeof own], `${t}: not the host's`);
      }
      const userNs = s.namespaces.find((n) => n.type === "user" && n.isLabRoot)!;
      assert.equal(userNs.parent, own.user);
      const pidNs = s.namespaces.find((n) => n.type === "pid" && n.isLabRoot)!;
      assert.equal(pidNs.parent, own.pid);
      assert.equal(pidNs.owner, userNs.ino);
      const maps = s.userMaps.find((m) => m.ino === userNs.ino)!;
      assert.deepEqual(maps.uidMap, [{ inside: 0, outside: init.uidHost, count: 65536, outsideHost: init.uidHost }]);
      assert.equal(maps.setgroups, "allow");
    } finally {
      await mgr.destroy(lab.id);
    }
  });

  test("after `setsid -f unshare -u sleep 1000` a new UTS namespace holds that sleep", async () => {
    const { lab } = await mgr.create({});
    try {
      const before = await snapshotLab(lab);
      const r = await lab.exec("setsid -f unshare -u sleep 1000; setsid -f unshare -fp --mount-proc sleep 1001; sleep 0.2");
      assert.equal(r.code, 0, r.stderr);
      const s = await snapshotLab(lab);
      const sleep = byCmd(s, "sleep 1000")!;
      assert.ok(sleep, "the sleep is a lab process");
      assert.equal(sleep.nspid.length, 2);
      assert.equal(sleep.ppid, lab.initPid, "orphaned by setsid -f: init adopted it");
      const labUts = s.namespaces.find((n) => n.type === "uts" && n.isLabRoot)!;
      const uts = s.namespaces.find((n) => n.type === "uts" && n.ino === sleep.ns.uts)!;
      assert.notEqual(uts.ino, labUts.ino);
      assert.deepEqual(uts.processes, [sleep.hostPid]);
      assert.equal(uts.isLabRoot, false);
      assert.equal(uts.owner, s.namespaces.find((n) => n.type === "user" && n.isLabRoot)!.ino, "owned by the lab's user namespace");
      assert.equal(before.namespaces.filter((n) => n.type === "uts").length, 1);
      assert.equal(s.namespaces.filter((n) => n.type === "uts").length, 2);
      // the nested pid namespace: three levels of pids, its parent the lab's pid namespace
      const nested = byCmd(s, "sleep 1001")!;
      assert.equal(nested.nspid.length, 3);
      assert.equal(nested.nspid[2], 1);
      const nestedPid = s.namespaces.find((n) => n.type === "pid" && n.ino === nested.ns.pid)!;
      assert.equal(nestedPid.parent, proc(s, lab.initPid)!.ns.pid);
      // mounts: the lab's, not the host's; and none for a process outside the lab
      const mounts = (await mountsOf(lab, lab.initPid))!;
      assert.equal(mounts.find((m) => m.mountPoint === "/")?.fsType, "tmpfs", "the lab's root is its own tmpfs");
      assert.ok(mounts.some((m) => m.mountPoint === "/proc" && m.fsType === "proc"));
      assert.equal(await mountsOf(lab, process.pid), null);
      assert.equal(await mountsOf(lab, 1), null, "the host's init is not the lab's");
    } finally {
      await mgr.destroy(lab.id);
    }
  });

  test("mount propagation made inside a lab, between two of its mount namespaces", async () => {
    const { lab } = await mgr.create({});
    try {
      const r = await lab.exec(`set -e
        mkdir -p /tmp/shared
        mount -t tmpfs -o size=1m demo /tmp/shared
        mount --make-shared /tmp/shared
        setsid -f unshare -m --propagation unchanged sleep 1002
        sleep 0.2
        mkdir -p /tmp/shared/sub
        mount -t tmpfs -o size=1m propagated /tmp/shared/sub`);
      assert.equal(r.code, 0, r.stderr);
      const s = await snapshotLab(lab);
      const other = byCmd(s, "sleep 1002")!;
      assert.notEqual(other.ns.mnt, proc(s, lab.initPid)!.ns.mnt);
      const a = (await mountsOf(lab, lab.initPid))!;
      const b = (await mountsOf(lab, other.hostPid))!;
      const at = (l: MountEntry[], p: string) => l.find((m) => m.mountPoint === p)!;
      assert.equal(at(a, "/tmp/shared").propagation.kind, "shared");
      assert.equal(at(b, "/tmp/shared").shared, at(a, "/tmp/shared").shared, "peers across the two namespaces");
      assert.equal(at(b, "/tmp/shared/sub").source, "propagated", "the mount below propagated to the other namespace");
      const g = peerGroups([
        { ns: "init", mounts: a },
        { ns: "other", mounts: b },
      ]).find((x) => x.group === at(a, "/tmp/shared/sub").shared)!;
      assert.deepEqual(g.peers.map((p) => p.ns), ["init", "other"]);
      if (process.env.NSLAB_CAPTURE_FIXTURES === "1") {
        fs.writeFileSync(path.join(fixtures, "lab-init.mountinfo"), fs.readFileSync(`/proc/${lab.initPid}/mountinfo`));
        fs.writeFileSync(path.join(fixtures, "lab-other.mountinfo"), fs.readFileSync(`/proc/${other.hostPid}/mountinfo`));
      }
    } finally {
      await mgr.destroy(lab.id);
    }
  });
});

/** An explorer WebSocket client that keeps every message. */
describe("the explorer WebSocket (real server)", () => {
  let s: Awaited<ReturnType<typeof testServer>>;
  before(async () => {
    s = await testServer(ENV);
  });
  after(async () => s?.close());

  test("a snapshot on connect; what the learner types shows up; the trace is there; a mount propagates to a peer", async () => {
    const lab = await createLab(s.url);
    const t = new TermClient(s.url, lab);
    await t.opened;
    await t.until((c) => /[#$] $/.test(c.output), "prompt");
    const x = new ExplorerClient(s.url, lab);
    await x.opened;
    await x.until(() => x.last(), "first snapshot");
    assert.ok(x.last()!.processes.some((p) => p.comm === "bash"), "the terminal's shell");
    assert.ok(x.of("trace").flatMap((m) => m.entries).some((e) => e.sys === "clone3" || e.sys === "clone"), "the trace of the lab's creation");

    const before = x.msgs.length;
    t.send("unshare -u sleep 1000 &\r");
    const got = await x.until(
      () => x.of("snapshot").find((m) => m.snapshot.processes.some((p) => p.cmdline === "sleep 1000")),
      "the new process",
    );
    const sleep = got.snapshot.processes.find((p) => p.cmdline === "sleep 1000")!;
    assert.ok(got.snapshot.namespaces.some((n) => n.type === "uts" && n.ino === sleep.ns.uts && !n.isLabRoot), "in a new UTS namespace");
    assert.ok(x.msgs.length > before);

    // mounts of the shell: made shared in the terminal, seen as shared:N
    const shell = x.last()!.processes.find((p) => p.comm === "bash")!;
    x.send({ type: "mounts", pid: shell.hostPid });
    await x.until(() => x.of("mounts").find((m) => m.pid === shell.hostPid), "the shell's mounts");
    t.send("mkdir -p /tmp/m && mount -t tmpfs demo /tmp/m && mount --make-shared /tmp/m\r");
    const shared = await x.until(
      () => x.of("mounts").find((m) => m.mounts.some((e) => e.mountPoint === "/tmp/m" && e.propagation.kind === "shared")),
      "the shared mount",
    );
    assert.equal(shared.pid, shell.hostPid);
    // a bind of a shared mount is its peer: a mount made below one appears below the other
    t.send("mkdir -p /tmp/p /tmp/m/sub && mount --bind /tmp/m /tmp/p && mount -t tmpfs sub /tmp/m/sub\r");
    const propagated = await x.until(() => x.of("mounts").find((m) => m.mounts.some((e) => e.mountPoint === "/tmp/p/sub")), "the mount propagated to the peer");
    const at = (mp: string) => propagated.mounts.find((e) => e.mountPoint === mp)!;
    const group = (mp: string) => (at(mp).propagation as { peerGroup?: number }).peerGroup;
    assert.equal(at("/tmp/p").propagation.kind, "shared");
    assert.equal(group("/tmp/p"), group("/tmp/m"), "/tmp/p is /tmp/m's peer");
    assert.ok(at("/tmp/m/sub") && at("/tmp/p/sub"), "the new mount on both sides");
    assert.equal(group("/tmp/m/sub"), group("/tmp/p/sub"), "the two copies are peers too");

    // bad messages get an error frame; the socket stays up
    for (const bad of ["{", '{"type":"nope"}', '{"type":"mounts","pid":"x"}', '{"type":"mounts","pids":[1,2,3,4,5]}']) {
      const n = x.of("error").length;
      x.send(bad);
      await x.until(() => x.of("error").length > n, `error for ${bad}`);
    }
    // a pid that is not the lab's: an empty table, never the host's mounts
    x.send({ type: "mounts", pid: 1 });
    const none = await x.until(() => x.of("mounts").find((m) => m.pid === 1), "answer for pid 1");
    assert.deepEqual(none.mounts, []);
    t.close();
    x.ws.close();
  });

  test("wrong token: refused; lab destroyed: lab_gone and close 4410", async () => {
    const lab = await createLab(s.url);
    const bad = new ExplorerClient(s.url, { id: lab.id, token: "nope" });
    await assert.rejects(bad.opened, /HTTP 404/);
    const x = new ExplorerClient(s.url, lab);
    await x.opened;
    await x.until(() => x.last(), "snapshot");
    const res = await fetch(`${s.url}/api/labs/${lab.id}`, { method: "DELETE", headers: { authorization: `Bearer ${lab.token}` } });
    assert.equal(res.status, 204);
    const { code } = await x.closed;
    assert.equal(code, 4410);
    assert.equal(x.of("error").at(-1)?.code, "lab_gone");
  });

  test("GET /api/labs/:id/snapshot and /mounts/:pid", async () => {
    const lab = await createLab(s.url);
    const h = { authorization: `Bearer ${lab.token}` };
    const snap = (await (await fetch(`${s.url}/api/labs/${lab.id}/snapshot`, { headers: h })).json()) as LabSnapshot;
    const init = snap.processes.find((p) => p.nspid[1] === 1)!;
    assert.equal(init.cmdline, "nslab-init");
    const m = await fetch(`${s.url}/api/labs/${lab.id}/mounts/${init.hostPid}`, { headers: h });
    assert.equal(m.status, 200);
    assert.ok(((await m.json()) as MountEntry[]).some((e) => e.mountPoint === "/"));
    assert.equal((await fetch(`${s.url}/api/labs/${lab.id}/mounts/1`, { headers: h })).status, 404);
    assert.equal((await fetch(`${s.url}/api/labs/${lab.id}/snapshot`)).status, 401);
  });
});
