/**
 * The mountinfo parser against text captured from real mount namespaces (fixtures/capture.sh
 * regenerates it): propagation of every kind, peers within and across namespaces, a mount that
 * propagated, octal escapes, propagate_from under a chroot.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { mountTree, parseMountinfo, parseMountinfoLine, peerGroups, propagationTargets, unescapeMountPath, type MountNode } from "./mountinfo.ts";
import type { MountEntry } from "../../lib/protocol.ts";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const read = (f: string) => parseMountinfo(fs.readFileSync(path.join(dir, f), "utf8"));
const a = read("ns-a.mountinfo");
const b = read("ns-b.mountinfo");
const chroot = read("chroot.mountinfo");
const base = a.find((m) => m.source === "base")!.mountPoint; // /tmp/nsx-scene.XXXX
const at = (list: MountEntry[], rel: string) => {
  const m = list.find((x) => x.mountPoint === base + rel);
  assert.ok(m, `a mount at ${base + rel}`);
  return m;
};

test("every line of real mountinfo parses", () => {
  for (const f of ["ns-a.mountinfo", "ns-b.mountinfo", "chroot.mountinfo"]) {
    const lines = fs.readFileSync(path.join(dir, f), "utf8").split("\n").filter(Boolean);
    assert.equal(parseMountinfo(lines.join("\n")).length, lines.length, f);
  }
  assert.ok(base.startsWith("/tmp/nsx-scene."));
  const root = a.find((m) => m.mountPoint === "/")!;
  assert.ok(root.id > 0 && root.fsType.length > 0);
});

test("propagation types of tmpfs mounts made shared, private, unbindable, slave", () => {
  const shared = at(a, "/shared");
  assert.equal(shared.fsType, "tmpfs");
  assert.equal(shared.source, "sh");
  assert.equal(shared.propagation.kind, "shared");
  assert.ok(shared.shared !== null && shared.master === null);
  assert.deepEqual(at(a, "/private").propagation, { kind: "private" });
  assert.equal(at(a, "/private").shared, null);
  assert.deepEqual(at(a, "/unbindable").propagation, { kind: "unbindable" });
  assert.equal(at(a, "/unbindable").unbindable, true);
  const slave = at(a, "/slave");
  assert.deepEqual(slave.propagation, { kind: "slave", master: shared.shared! });
  assert.equal(slave.master, shared.shared);
  assert.equal(slave.shared, null);
  // the base tmpfs in a namespace made with --propagation private
  assert.deepEqual(at(a, "").propagation, { kind: "private" });
  assert.equal(at(a, "").options, "rw,relatime");
  assert.equal(at(a, "").superOptions, "rw,size=1024k");
});

test("octal escapes in mount points", () => {
  const sp = at(a, "/dir with space");
  assert.equal(sp.source, "sp");
  assert.equal(unescapeMountPath("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  assert.equal(unescapeMountPath("no\\escape"), "no\\escape");
});

test("a bind of a shared mount is its peer; a copied namespace's copies are peers too", () => {
  const g = at(a, "/shared").shared!;
  assert.equal(at(a, "/peer").shared, g);
  assert.equal(at(b, "/shared").shared, g);
  assert.equal(at(b, "/peer").shared, g);
  // ...but the two namespaces have distinct mounts (distinct ids)
  assert.notEqual(at(a, "/shared").id, at(b, "/shared").id);

  const groups = peerGroups([
    { ns: "A", mounts: a },
    { ns: "B", mounts: b },
  ]);
  const pg = groups.find((x) => x.group === g)!;
  assert.deepEqual(
    pg.peers.map((p) => `${p.ns}:${p.mount.mountPoint.slice(base.length)}`),
    ["A:/shared", "A:/peer", "B:/shared", "B:/peer"],
  );
  assert.deepEqual(
    pg.slaves.map((p) => `${p.ns}:${p.mount.mountPoint.slice(base.length)}`),
    ["A:/slave", "B:/slave"],
  );
  assert.equal(pg.master, null);
  assert.deepEqual(groups.map((x) => x.group), [...groups.map((x) => x.group)].sort((x, y) => x - y));
});

test("a mount below a shared mount propagated to every peer (in both namespaces) and to the slave", () => {
  const sub = at(a, "/shared/sub");
  assert.equal(sub.source, "propagated");
  assert.equal(sub.parentId, at(a, "/shared").id);
  // the same filesystem (same device) appears below each peer and the slave
  for (const [list, rel] of [
    [a, "/peer/sub"],
    [a, "/slave/sub"],
    [b, "/shared/sub"],
    [b, "/peer/sub"],
    [b, "/slave/sub"],
  ] as const) {
    const m = at(list, rel);
    assert.equal(m.devMajorMinor, sub.devMajorMinor, rel);
    assert.equal(m.source, "propagated");
  }
  // propagated copies below peers are peers of each other (a new group); below the slave, a slave of it
  const g2 = sub.shared!;
  assert.notEqual(g2, at(a, "/shared").shared);
  assert.equal(at(b, "/peer/sub").shared, g2);
  assert.equal(at(a, "/slave/sub").master, g2);
  assert.equal(at(b, "/slave/sub").master, g2);
  // where a mount below /shared propagates to, seen from A alone
  assert.deepEqual(
    propagationTargets(a, at(a, "/shared")).map((m) => m.mountPoint.slice(base.length)),
    ["/peer", "/slave"],
  );
  assert.deepEqual(propagationTargets(a, at(a, "/private")), []);
});

test("the mount tree puts each mount below its parent, in mount order", () => {
  const roots = mountTree(a);
  assert.equal(roots.length, 1, "one root in a whole namespace");
  assert.equal(roots[0]!.mount.mountPoint, "/");
  const find = (nodes: MountNode[], id: number): MountNode | undefined => {
    for (const n of nodes) {
      if (n.mount.id === id) return n;
      const f = find(n.children, id);
      if (f) return f;
    }
  };
  const baseNode = find(roots, at(a, "").id)!;
  assert.deepEqual(
    baseNode.children.map((c) => c.mount.mountPoint.slice(base.length)),
    ["/shared", "/private", "/unbindable", "/dir with space", "/peer", "/slave"],
  );
  assert.deepEqual(find(roots, at(a, "/shared").id)!.children.map((c) => c.mount.source), ["propagated"]);
  let count = 0;
  const walk = (ns: MountNode[]) => ns.forEach((n) => (count++, walk(n.children)));
  walk(roots);
  assert.equal(count, a.length, "every mount is in the tree once");
});

test("under a chroot: roots whose parent is outside, and propagate_from", () => {
  const roots = mountTree(chroot);
  assert.ok(roots.length >= 2, "the chroot's mounts hang from a parent outside it");
  const vis = chroot.find((m) => m.mountPoint === "/vis")!;
  const s = chroot.find((m) => m.mountPoint === "/s")!;
  assert.equal(vis.propagation.kind, "shared");
  assert.deepEqual(s.propagation, { kind: "slave", master: s.master!, propagateFrom: vis.shared! });
  assert.notEqual(s.master, vis.shared, "its master group has no member under the chroot");
  assert.equal(s.propagateFrom, vis.shared, "so the kernel names the group it receives from");
});

test("optional fields combine: shared and slave at once; malformed lines are skipped", () => {
  const m = parseMountinfoLine("40 30 0:5 / /x rw shared:7 master:3 - tmpfs t rw")!;
  assert.deepEqual(m.propagation, { kind: "shared", peerGroup: 7, master: 3 });
  const g = peerGroups([{ ns: "x", mounts: [m] }]);
  assert.equal(g.find((x) => x.group === 7)!.master, 3);
  assert.equal(g.find((x) => x.group === 3)!.slaves.length, 1);
  assert.equal(parseMountinfoLine("garbage"), null);
  assert.equal(parseMountinfoLine("a b c d e f - x y z"), null);
  assert.equal(parseMountinfoLine("1 2 0:1 / / rw future:9 - tmpfs t rw")!.propagation.kind, "private");
  assert.equal(parseMountinfo("1 0 0:1 / / rw - tmpfs t rw\n\nbad line\n").length, 1);
  // a source with spaces is escaped too; super options keep their commas
  const sp = parseMountinfoLine("5 1 0:9 / /m rw - fuse my\\040src rw,user_id=0")!;
  assert.equal(sp.source, "my src");
  assert.equal(sp.superOptions, "rw,user_id=0");
});

test("a real lab's mountinfo (fixtures/lab-*.mountinfo, captured by inspect.integration.test.ts)", () => {
  const init = read("lab-init.mountinfo");
  const other = read("lab-other.mountinfo");
  for (const list of [init, other]) {
    const roots = mountTree(list);
    assert.equal(roots.length, 1, "the lab's root mount is the only root: the host's mounts are gone after pivot_root");
    assert.equal(roots[0]!.mount.mountPoint, "/");
    assert.equal(roots[0]!.mount.fsType, "tmpfs");
    assert.ok(list.some((m) => m.mountPoint === "/proc" && m.fsType === "proc"));
    assert.ok(list.some((m) => m.mountPoint === "/usr" && m.options.startsWith("ro")), "/usr bound read-only");
  }
  // everything nslab mounted is private; the learner made /tmp/shared shared
  const shared = init.filter((m) => m.propagation.kind !== "private").map((m) => m.mountPoint);
  assert.deepEqual(shared, ["/tmp/shared", "/tmp/shared/sub"]);
  const groups = peerGroups([
    { ns: "init", mounts: init },
    { ns: "other", mounts: other },
  ]);
  for (const mp of ["/tmp/shared", "/tmp/shared/sub"]) {
    const g = groups.find((x) => x.group === init.find((m) => m.mountPoint === mp)!.shared)!;
    assert.deepEqual(g.peers.map((p) => `${p.ns}:${p.mount.mountPoint}`), [`init:${mp}`, `other:${mp}`], mp);
  }
});
