/** The explorer model: mounts. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { MountEntry } from "../../../../lib/protocol.ts";
import { diffMounts, groupsAcross, mountRows, mountsWithAncestors, peerLanes, propagationLabel } from "./mounts.ts";

describe("mounts", () => {
  const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../../server/inspect/fixtures");
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
