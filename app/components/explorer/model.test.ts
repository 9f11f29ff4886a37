/**
 * The explorer's pure model: trees, colours, namespace columns and hierarchy, mount lanes,
 * snapshot changes, trace helpers. No browser, no server.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { LabSnapshot, MountEntry, NamespaceInfo, ProcessInfo } from "../../../lib/protocol.ts";
import {
  ChangeTracker,
  diffMounts,
  diffSnapshots,
  differingTypes,
  errnoName,
  formatDuration,
  groupsAcross,
  groupSwatch,
  hueOf,
  labRoots,
  manPages,
  mergeTrace,
  mountRows,
  mountsWithAncestors,
  NEUTRAL,
  HOST,
  nsColumns,
  nsHierarchy,
  nsSwatch,
  peerLanes,
  pidLabel,
  processTree,
  propagationLabel,
  rangeText,
  shortIno,
  traceResult,
  withChanges,
} from "./model.ts";

const L = { user: 100, pid: 101, mnt: 102, uts: 103, ipc: 104, net: 105, cgroup: 106, time: 107 };
const proc = (hostPid: number, ppid: number, over: Partial<ProcessInfo> = {}): ProcessInfo => ({
  hostPid,
  nspid: [hostPid, hostPid - 1000],
  ppid,
  comm: "bash",
  cmdline: "bash",
  uidInside: 0,
  uidHost: 3_000_000_000,
  ns: { ...L },
  ...over,
});
const ns = (type: NamespaceInfo["type"], ino: number, processes: number[], over: Partial<NamespaceInfo> = {}): NamespaceInfo => ({
  ino,
  type,
  parent: null,
  owner: 100,
  processes,
  isLabRoot: false,
  ...over,
});

/** A lab: init 1001, a shell 1002 below it, a sleep 1003 in a new UTS namespace below the shell. */
function lab(): LabSnapshot {
  const processes = [proc(1001, 900, { comm: "nslab-init", cmdline: "nslab-init" }), proc(1002, 1001), proc(1003, 1002, { comm: "sleep", cmdline: "sleep 1000", ns: { ...L, uts: 200 } })];
  const all = [1001, 1002, 1003];
  const namespaces = [
    ns("user", 100, all, { isLabRoot: true, parent: 1, owner: 1 }),
    ns("user", 1, [], { host: true, owner: null }),
    ns("pid", 101, all, { isLabRoot: true, parent: 2 }),
    ns("pid", 2, [], { host: true, owner: null }),
    ...(["mnt", "ipc", "net", "cgroup", "time"] as const).map((t) => ns(t, L[t], all, { isLabRoot: true })),
    ns("uts", 103, [1001, 1002], { isLabRoot: true }),
    ns("uts", 200, [1003]),
  ];
  return { at: 0, processes, namespaces, userMaps: [{ ino: 100, uidMap: [{ inside: 0, outside: 3_000_000_000, count: 65536 }], gidMap: [], setgroups: "allow" }] };
}

describe("processes", () => {
  test("pid labels name the host's and the lab's level", () => {
    assert.equal(pidLabel([48213, 7, 1]), "host 48213 · lab 7 · 1");
    assert.equal(pidLabel([48213, 1]), "host 48213 · lab 1");
    assert.equal(pidLabel([5]), "host 5");
    assert.equal(pidLabel([9, 3], { host: "主机", lab: "实验" }), "主机 9 · 实验 3");
  });

  test("the tree by ppid: roots are processes whose parent is not in the lab; guides know the last child", () => {
    const s = lab();
    s.processes.push(proc(1004, 1001, { comm: "sleep" }));
    const rows = processTree(s.processes);
    assert.deepEqual(
      rows.map((r) => [r.item.hostPid, r.depth]),
      [
        [1001, 0],
        [1002, 1],
        [1003, 2],
        [1004, 1],
      ],
    );
    assert.deepEqual(rows[1]!.lasts, [true, false], "1002 is not the last child of init");
    assert.deepEqual(rows[3]!.lasts, [true, true]);
    // an orphan whose parent vanished becomes a root; a self-parented entry does not loop
    const odd = processTree([proc(5, 99), proc(6, 6)]);
    assert.deepEqual(odd.map((r) => r.item.hostPid), [5, 6]);
  });

  test("types in which a process left the lab's namespaces", () => {
    const s = lab();
    const roots = labRoots(s.namespaces);
    assert.equal(roots.uts, 103);
    assert.deepEqual(differingTypes(s.processes[2]!, roots), ["uts"]);
    assert.deepEqual(differingTypes(s.processes[1]!, roots), []);
  });
});

describe("colours", () => {
  test("deterministic per inode, distinct for consecutive inodes, neutral for the lab's own", () => {
    const a = nsSwatch({ ino: 4026532252, isLabRoot: false });
    assert.deepEqual(a, nsSwatch({ ino: 4026532252, isLabRoot: false }), "same inode, same colour");
    for (let i = 0; i < 20; i++) {
      const d = Math.abs(hueOf(4026532250 + i) - hueOf(4026532251 + i));
      assert.ok(Math.min(d, 360 - d) > 30, `consecutive inodes ${i} have hues ${d}° apart`);
    }
    assert.equal(nsSwatch({ ino: 1, isLabRoot: true }), NEUTRAL);
    assert.equal(nsSwatch({ ino: 1, isLabRoot: false, host: true }), HOST);
    assert.notDeepEqual(groupSwatch(4), groupSwatch(5));
    assert.match(a.bg, /^hsl\(\d+ /);
    assert.equal(shortIno(4026532252), "…32252");
    assert.equal(shortIno(42), "42");
  });
});

describe("namespaces", () => {
  test("matrix columns: per type, namespaces with processes, the lab's own first; empty types dropped", () => {
    const cols = nsColumns(lab().namespaces);
    assert.deepEqual(cols.map((c) => c.type), ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"]);
    assert.deepEqual(cols.find((c) => c.type === "uts")!.namespaces.map((n) => n.ino), [103, 200]);
    assert.deepEqual(cols.find((c) => c.type === "user")!.namespaces.map((n) => n.ino), [100], "the host's (no lab process) is not a column");
  });

  test("hierarchy: nested pid and user namespaces under their parents; what each user namespace owns", () => {
    const s = lab();
    s.namespaces.push(ns("pid", 300, [1003], { parent: 101 }), ns("pid", 301, [], { parent: 300 }), ns("user", 400, [1003], { parent: 100, owner: 100 }));
    s.namespaces.find((n) => n.ino === 200)!.owner = 400;
    const pid = nsHierarchy(s.namespaces, "pid");
    assert.deepEqual(
      pid.map((n) => [n.ns.ino, n.depth]),
      [
        [2, 0],
        [101, 1],
        [300, 2],
        [301, 3],
      ],
    );
    const user = nsHierarchy(s.namespaces, "user");
    assert.deepEqual(
      user.map((n) => [n.ns.ino, n.depth]),
      [
        [1, 0],
        [100, 1],
        [400, 2],
      ],
    );
    const labUser = user.find((n) => n.ns.ino === 100)!;
    assert.ok(labUser.owns.some((o) => o.type === "pid" && o.ino === 101));
    assert.ok(!labUser.owns.some((o) => o.ino === 200), "the new uts is owned by the nested user namespace");
    assert.deepEqual(user.find((n) => n.ns.ino === 400)!.owns.map((o) => `${o.type}:${o.ino}`), ["uts:200"]);
    // a parent we do not know (outside our view) makes a root
    assert.deepEqual(nsHierarchy([ns("pid", 9, [1], { parent: 12345 })], "pid").map((n) => n.depth), [0]);
  });

  test("id map ranges in words", () => {
    assert.equal(rangeText({ inside: 0, outside: 3_000_000_000, count: 65536 }), "0–65535 → 3000000000–3000065535");
    assert.equal(rangeText({ inside: 5, outside: 0, count: 1, outsideHost: 1000 }), "5 → 0");
    assert.equal(rangeText({ inside: 5, outside: 0, count: 1, outsideHost: 1000 }, "host"), "5 → 1000");
  });
});

describe("mounts", () => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../server/inspect/fixtures");
  // the server's parser is server-only; here a minimal one for the fixture's lines
  const parse = (file: string): MountEntry[] =>
    fs
      .readFileSync(path.join(fixtures, file), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [head, tail] = line.split(" - ") as [string, string];
        const h = head.split(" ");
        const t = tail.split(" ");
        const opt = h.slice(6);
        const num = (tag: string) => {
          const f = opt.find((o) => o.startsWith(tag + ":"));
          return f ? Number(f.split(":")[1]) : null;
        };
        const shared = num("shared");
        const master = num("master");
        const unbindable = opt.includes("unbindable");
        return {
          id: Number(h[0]),
          parentId: Number(h[1]),
          devMajorMinor: h[2]!,
          root: h[3]!,
          mountPoint: h[4]!.replace(/\\040/g, " "),
          options: h[5]!,
          propagation: shared !== null ? { kind: "shared" as const, peerGroup: shared } : master !== null ? { kind: "slave" as const, master } : unbindable ? { kind: "unbindable" as const } : { kind: "private" as const },
          shared,
          master,
          propagateFrom: num("propagate_from"),
          unbindable,
          fsType: t[0]!,
          source: t[1]!,
          superOptions: t.slice(2).join(" "),
        };
      });
  const a = parse("ns-a.mountinfo");
  const b = parse("ns-b.mountinfo");

  test("mount rows: a depth-first tree in mount order", () => {
    const rows = mountRows(a);
    assert.equal(rows.length, a.length);
    assert.equal(rows[0]!.mount.mountPoint, "/");
    assert.equal(rows[0]!.depth, 0);
    const i = rows.findIndex((r) => r.mount.source === "sh" && r.mount.mountPoint.endsWith("/shared"));
    assert.equal(rows[i + 1]!.mount.source, "propagated", "a child right below its parent");
    assert.equal(rows[i + 1]!.depth, rows[i]!.depth + 1);
  });

  test("only propagating mounts, with their ancestors", () => {
    const kept = mountsWithAncestors(a, (m) => m.propagation.kind !== "private");
    const rel = kept.filter((m) => m.mountPoint.includes("nsx-scene")).map((m) => m.mountPoint.replace(/^.*nsx-scene\.[^/]+/, "") || "(base)");
    assert.deepEqual(rel, ["(base)", "/shared", "/unbindable", "/peer", "/slave", "/shared/sub", "/peer/sub", "/slave/sub"]);
    assert.ok(kept.some((m) => m.mountPoint === "/"), "the root, an ancestor, stays");
    assert.ok(!kept.some((m) => m.mountPoint.endsWith("/private")), "a private leaf goes");
    assert.ok(kept.some((m) => m.mountPoint.endsWith("/slave/sub")));
    assert.equal(mountRows(kept).length, kept.length, "still one connected tree");
    assert.equal(mountRows(kept)[0]!.mount.mountPoint, "/");
  });

  test("propagation labels", () => {
    const m = (p: MountEntry["propagation"]) => propagationLabel({ propagation: p });
    assert.equal(m({ kind: "shared", peerGroup: 4 }), "shared:4");
    assert.equal(m({ kind: "shared", peerGroup: 4, master: 2 }), "shared:4 master:2");
    assert.equal(m({ kind: "slave", master: 5 }), "master:5");
    assert.equal(m({ kind: "slave", master: 5, propagateFrom: 4 }), "master:5 propagate_from:4");
    assert.equal(m({ kind: "private" }), "private");
    assert.equal(m({ kind: "unbindable" }), "unbindable");
  });

  test("peer lanes join a group's rows (peers and slaves); a lone member gets no lane", () => {
    const rows = mountRows(a);
    const lanes = peerLanes(rows);
    const g = a.find((m) => m.mountPoint.endsWith("/shared"))!.shared!;
    const lane = lanes.groups.find((x) => x.group === g)!;
    assert.ok(lane, "group of /shared has a lane");
    const marked = rows.map((r, i) => ({ r, c: lanes.rows[i]!.find((c) => c.group === g) })).filter((x) => x.c?.mark);
    assert.deepEqual(
      marked.map((x) => [x.r.mount.mountPoint.replace(/^.*nsx-scene\.[^/]+/, ""), x.c!.mark]),
      [
        ["/shared", "peer"],
        ["/peer", "peer"],
        ["/slave", "slave"],
      ],
    );
    // the line is continuous from the first to the last member
    const idx = marked.map((x) => rows.indexOf(x.r));
    for (let i = idx[0]!; i <= idx.at(-1)!; i++) {
      const c = lanes.rows[i]!.find((x) => x.group === g)!;
      assert.equal(c.up, i > idx[0]!);
      assert.equal(c.down, i < idx.at(-1)!);
    }
    // a private mount alone: no lane at all
    assert.ok(lanes.count >= 1 && lanes.count <= lanes.groups.length);
    const lone = peerLanes(mountRows([{ ...a[0]!, shared: 77, propagation: { kind: "shared", peerGroup: 77 } }]));
    assert.equal(lone.count, 0);
  });

  test("lanes are reused when spans do not overlap", () => {
    const mk = (id: number, shared: number | null): MountEntry => ({ ...a[0]!, id, parentId: 0, shared, master: null, propagation: shared ? { kind: "shared", peerGroup: shared } : { kind: "private" } });
    const lanes = peerLanes(mountRows([mk(1, 1), mk(2, 1), mk(3, 2), mk(4, 2), mk(5, 3), mk(6, 4), mk(7, 3), mk(8, 4)]));
    assert.equal(lanes.count, 2, "groups 1 and 2 share lane 0; 3 and 4 overlap");
    assert.deepEqual(lanes.groups.map((g) => [g.group, g.lane]), [
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 1],
    ]);
  });

  test("mount changes: new mounts and changed propagation", () => {
    const m0 = a[0]!;
    const shared = { ...m0, shared: 9, propagation: { kind: "shared" as const, peerGroup: 9 } };
    assert.deepEqual(diffMounts(undefined, a), { added: [], changed: [] }, "the first table highlights nothing");
    assert.deepEqual(diffMounts([m0], [shared, { ...m0, id: 999 }]), { added: [999], changed: [m0.id] });
    assert.deepEqual(diffMounts([m0], [m0]), { added: [], changed: [] });
  });

  test("groups across two tables: peers in both namespaces, slaves", () => {
    const groups = groupsAcross([a, b]);
    const g = groups.find((x) => x.group === a.find((m) => m.mountPoint.endsWith("/shared"))!.shared)!;
    assert.deepEqual(g.peers.map((p) => p.table), [0, 0, 1, 1]);
    assert.deepEqual(g.slaves.map((p) => p.table), [0, 1]);
  });
});

describe("changes", () => {
  test("diff: appeared and disappeared processes and namespaces; exec and unshare count as changes", () => {
    const a = lab();
    assert.deepEqual(diffSnapshots(null, a).addedProcs, [], "the first snapshot highlights nothing");
    const b = lab();
    b.processes = b.processes.filter((p) => p.hostPid !== 1003);
    b.namespaces = b.namespaces.filter((n) => n.ino !== 200).map((n) => ({ ...n, processes: n.processes.filter((p) => p !== 1003) }));
    b.processes.push(proc(1005, 1002, { ns: { ...L, net: 500 } }));
    b.namespaces.push(ns("net", 500, [1005]));
    b.processes[1] = { ...b.processes[1]!, cmdline: "vim" };
    const d = diffSnapshots(a, b);
    assert.deepEqual(d.addedProcs, [1005]);
    assert.deepEqual(d.removedProcs.map((p) => p.hostPid), [1003]);
    assert.deepEqual(d.changedProcs, [1002]);
    assert.deepEqual(d.addedNs, ["net:500"]);
    assert.deepEqual(d.removedNs.map((n) => `${n.type}:${n.ino}`), ["uts:200"]);
  });

  test("the tracker fades highlights after fadeMs and merges departed items back for that long", () => {
    const t = new ChangeTracker(1000);
    const a = lab();
    t.update(a, 0);
    assert.equal(t.nextExpiry(), null);
    const b = { ...lab(), processes: lab().processes.filter((p) => p.hostPid !== 1003), namespaces: lab().namespaces.filter((n) => n.ino !== 200) };
    b.processes.push(proc(1006, 1002));
    t.update(b, 100);
    let v = t.view(500);
    assert.deepEqual([...v.freshProcs], [1006]);
    assert.deepEqual(v.goneProcs.map((p) => p.hostPid), [1003]);
    assert.deepEqual(v.goneNs.map((n) => n.ino), [200]);
    assert.equal(t.nextExpiry(), 1100);
    const shown = withChanges(b, v);
    assert.equal(shown.processes.find((p) => p.hostPid === 1003)!.gone, true);
    assert.equal(shown.processes.find((p) => p.hostPid === 1006)!.fresh, true);
    assert.equal(shown.namespaces.find((n) => n.ino === 200)!.gone, true);
    // the ghost stays in the tree, under its old parent
    assert.ok(processTree(shown.processes).some((r) => r.item.hostPid === 1003 && r.depth === 2));
    // and as a column of the matrix while it fades
    assert.ok(nsColumns(shown.namespaces).find((c) => c.type === "uts")!.namespaces.some((n) => n.ino === 200));
    v = t.view(1100);
    assert.equal(v.freshProcs.size + v.goneProcs.length + v.goneNs.length, 0);
    assert.equal(t.nextExpiry(), null);
    // something that comes back is no longer a ghost
    t.update(b, 2000);
    t.update(a, 2100);
    assert.deepEqual(t.view(2200).goneProcs.map((p) => p.hostPid), [1006]);
    assert.ok(t.view(2200).freshProcs.has(1003));
  });
});

describe("trace", () => {
  test("man pages: clone3 → clone(2), umount2 → umount(2), ioctls by request, explanations beside", () => {
    const first = (sys: string, args = "") => manPages(sys, args)[0];
    assert.equal(first("clone3")!.url, "https://man7.org/linux/man-pages/man2/clone.2.html");
    assert.equal(first("clone3")!.label, "clone(2)");
    assert.equal(first("pivot_root")!.url, "https://man7.org/linux/man-pages/man2/pivot_root.2.html");
    assert.equal(first("mount")!.label, "mount(2)");
    assert.equal(first("umount2")!.label, "umount(2)");
    assert.equal(first("setns")!.label, "setns(2)");
    assert.equal(first("unshare")!.label, "unshare(2)");
    assert.equal(first("sethostname")!.label, "sethostname(2)");
    assert.equal(first("execve")!.label, "execve(2)");
    assert.equal(first("openat2")!.label, "openat2(2)");
    assert.equal(first("ioctl", "0, TIOCSCTTY, 0")!.url, "https://man7.org/linux/man-pages/man2/ioctl_tty.2.html");
    assert.equal(first("ioctl", "5, NS_GET_PARENT")!.label, "ioctl_ns(2)");
    assert.deepEqual(manPages("ioctl", 'SIOCSIFFLAGS, {ifr_name="lo"}').map((l) => l.label), ["ioctl(2)", "netdevice(7)"]);
    assert.equal(first("posix_spawn")!.url, "https://man7.org/linux/man-pages/man3/posix_spawn.3.html");
    assert.deepEqual(manPages("write", '"/proc/42/uid_map", "0 1000 1"').map((l) => l.label), ["write(2)", "user_namespaces(7)"]);
    assert.deepEqual(manPages("write", '"/sys/fs/cgroup/pids/nslab/x/cgroup.procs", "42"').map((l) => l.label), ["write(2)", "cgroups(7)"]);
    assert.deepEqual(manPages("clone3", "CLONE_NEWUSER").map((l) => l.label), ["clone(2)", "namespaces(7)"]);
    assert.deepEqual(manPages("copy"), [], "nslab's own steps have no man page");
    assert.deepEqual(manPages("nonsense_call"), []);
  });

  test("errno names match the kernel's (as Node knows them)", () => {
    for (const [name, num] of Object.entries(os.constants.errno)) {
      if (name === "EWOULDBLOCK" || name === "EDEADLOCK" || name === "ENOTSUP") continue; // aliases
      assert.equal(errnoName(num), name, `errno ${num}`);
    }
    assert.equal(errnoName(-1), "EPERM");
    assert.equal(errnoName(9999), "errno 9999");
    assert.deepEqual(traceResult({ ret: -1, errno: 1 }), { text: "-1 EPERM", failed: true });
    assert.deepEqual(traceResult({ ret: 4242, errno: 0 }), { text: "4242", failed: false });
  });

  test("durations and merging (a reconnect resends the backlog)", () => {
    assert.equal(formatDuration(500), "<1 µs");
    assert.equal(formatDuration(12_400), "12 µs");
    assert.equal(formatDuration(1_340_000), "1.3 ms");
    assert.equal(formatDuration(42_000_000), "42 ms");
    assert.equal(formatDuration(2_100_000_000), "2.10 s");
    const e = (seq: number) => ({ seq, at: "", scope: "lab", who: "child" as const, sys: "x", args: "", ret: 0, errno: 0, durNs: 0 });
    const have = [e(1), e(2), e(3)];
    assert.deepEqual(mergeTrace(have, [e(2), e(3), e(4)]).map((x) => x.seq), [1, 2, 3, 4]);
    assert.equal(mergeTrace(have, [e(3)]), have, "nothing new: the same array");
    assert.deepEqual(mergeTrace(have, [e(5), e(6)], 4).map((x) => x.seq), [2, 3, 5, 6], "bounded");
  });
});
