/** Mount tables: trees, the only-propagating filter, propagation labels, peer-group lanes and legend, changes. */
import type { MountEntry } from "@/lib/protocol";

export interface MountRow {
  mount: MountEntry;
  depth: number;
  lasts: boolean[];
}

/** The mount tree, depth first, in mount order below each parent. */
export function mountRows(mounts: MountEntry[]): MountRow[] {
  const ids = new Set(mounts.map((m) => m.id));
  const kids = new Map<number, MountEntry[]>();
  const roots: MountEntry[] = [];
  for (const m of mounts) {
    if (m.parentId !== m.id && ids.has(m.parentId)) kids.set(m.parentId, [...(kids.get(m.parentId) ?? []), m]);
    else roots.push(m);
  }
  const out: MountRow[] = [];
  const seen = new Set<number>();
  const walk = (list: MountEntry[], depth: number, lasts: boolean[]) =>
    list.forEach((m, i) => {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      const l = [...lasts, i === list.length - 1];
      out.push({ mount: m, depth, lasts: l });
      walk(kids.get(m.id) ?? [], depth + 1, l);
    });
  walk(roots, 0, []);
  return out;
}

/** The mounts that satisfy `keep`, with their ancestors (so the tree still connects), in the original order. */
export function mountsWithAncestors(mounts: MountEntry[], keep: (m: MountEntry) => boolean): MountEntry[] {
  const byId = new Map(mounts.map((m) => [m.id, m]));
  const wanted = new Set<number>();
  for (const m of mounts) {
    if (!keep(m)) continue;
    let cur: MountEntry | undefined = m;
    while (cur && !wanted.has(cur.id)) {
      wanted.add(cur.id);
      cur = cur.parentId !== cur.id ? byId.get(cur.parentId) : undefined;
    }
  }
  return mounts.filter((m) => wanted.has(m.id));
}

/** "shared:4", "shared:4 master:2", "master:5", "master:5 from 4", "private", "unbindable" */
export function propagationLabel(m: Pick<MountEntry, "propagation">): string {
  const p = m.propagation;
  switch (p.kind) {
    case "shared":
      return p.master !== undefined ? `shared:${p.peerGroup} master:${p.master}` : `shared:${p.peerGroup}`;
    case "slave":
      return p.propagateFrom !== undefined ? `master:${p.master} propagate_from:${p.propagateFrom}` : `master:${p.master}`;
    default:
      return p.kind;
  }
}

export interface LaneCell {
  lane: number;
  group: number;
  /** the line enters from above / leaves below this row */
  up: boolean;
  down: boolean;
  /** this row's mount is in the group: a peer (shared:N) or a slave (master:N) */
  mark: "peer" | "slave" | null;
}

export interface Lanes {
  count: number;
  /** per row (same order as the rows given), the lane cells that cross or mark it */
  rows: LaneCell[][];
  /** groups with a lane */
  groups: { group: number; lane: number }[];
}

/**
 * Connector lanes beside a mount table: each peer group with two or more members in the table
 * (peers, or a peer and its slaves) gets a vertical line joining its rows. Lanes are reused by
 * groups whose spans do not overlap, so the gutter stays narrow.
 */
export function peerLanes(rows: Pick<MountRow, "mount">[]): Lanes {
  const spans = new Map<number, { first: number; last: number; marks: Map<number, "peer" | "slave"> }>();
  const mark = (group: number, i: number, kind: "peer" | "slave") => {
    let s = spans.get(group);
    if (!s) spans.set(group, (s = { first: i, last: i, marks: new Map() }));
    s.first = Math.min(s.first, i);
    s.last = Math.max(s.last, i);
    if (!s.marks.has(i) || kind === "peer") s.marks.set(i, kind);
  };
  rows.forEach((r, i) => {
    if (r.mount.shared !== null) mark(r.mount.shared, i, "peer");
    if (r.mount.master !== null) mark(r.mount.master, i, "slave");
  });
  const multi = [...spans.entries()].filter(([, s]) => s.marks.size >= 2).sort((a, b) => a[1].first - b[1].first || a[0] - b[0]);
  const laneEnds: number[] = []; // last row used by each lane
  const groups: { group: number; lane: number }[] = [];
  const out: LaneCell[][] = rows.map(() => []);
  for (const [group, s] of multi) {
    let lane = laneEnds.findIndex((end) => end < s.first);
    if (lane < 0) lane = laneEnds.push(s.last) - 1;
    else laneEnds[lane] = s.last;
    groups.push({ group, lane });
    for (let i = s.first; i <= s.last; i++) out[i]!.push({ lane, group, up: i > s.first, down: i < s.last, mark: s.marks.get(i) ?? null });
  }
  return { count: laneEnds.length, rows: out, groups };
}

export interface GroupView {
  group: number;
  peers: { table: number; mount: MountEntry }[];
  slaves: { table: number; mount: MountEntry }[];
  master: number | null;
}

/** Peer groups across the mount tables shown (tables numbered in the order given): the legend. */
export function groupsAcross(tables: MountEntry[][]): GroupView[] {
  const g = new Map<number, GroupView>();
  const get = (n: number) => {
    let v = g.get(n);
    if (!v) g.set(n, (v = { group: n, peers: [], slaves: [], master: null }));
    return v;
  };
  tables.forEach((mounts, table) => {
    for (const m of mounts) {
      if (m.shared !== null) {
        get(m.shared).peers.push({ table, mount: m });
        if (m.master !== null) get(m.shared).master = m.master;
      }
      if (m.master !== null) get(m.master).slaves.push({ table, mount: m });
    }
  });
  return [...g.values()].sort((a, b) => a.group - b.group);
}

/** Mounts that are new in `next` (by mount id), and those whose propagation or options changed. */
export function diffMounts(prev: MountEntry[] | undefined, next: MountEntry[]): { added: number[]; changed: number[] } {
  if (!prev || !prev.length) return { added: [], changed: [] };
  const before = new Map(prev.map((m) => [m.id, m]));
  const added: number[] = [];
  const changed: number[] = [];
  for (const m of next) {
    const b = before.get(m.id);
    if (!b) added.push(m.id);
    else if (propagationLabel(b) !== propagationLabel(m) || b.options !== m.options || b.unbindable !== m.unbindable) changed.push(m.id);
  }
  return { added, changed };
}
