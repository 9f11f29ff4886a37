/**
 * The explorer's derived views, without React or the DOM: process trees, namespace columns and
 * hierarchies, colours, mount trees with peer-group lanes, changes between snapshots, and the
 * trace's man page links and errno names. Pure functions (and one small class fed a clock).
 */
import { NS_TYPES, type IdMapLine, type LabSnapshot, type MountEntry, type NamespaceInfo, type NsType, type ProcessInfo, type TraceEntry } from "@/lib/protocol";

export const nsKey = (type: NsType, ino: number) => `${type}:${ino}`;

/* ------------------------------------------------------------------ pids */

export interface PidLevel {
  level: "host" | "lab" | "nested";
  pid: number;
}

/** NSpid as levels: the host's pid, the lab's, then each nested pid namespace's. */
export function pidLevels(nspid: number[]): PidLevel[] {
  return nspid.map((pid, i) => ({ level: i === 0 ? "host" : i === 1 ? "lab" : "nested", pid }));
}

/** "host 48213 · lab 7 · 1" */
export function pidLabel(nspid: number[], names: { host: string; lab: string } = { host: "host", lab: "lab" }): string {
  return pidLevels(nspid)
    .map((l) => (l.level === "host" ? `${names.host} ${l.pid}` : l.level === "lab" ? `${names.lab} ${l.pid}` : String(l.pid)))
    .join(" · ");
}

/* ------------------------------------------------------------------ process tree */

export interface TreeRow<T> {
  item: T;
  depth: number;
  /** for each ancestor level (and this row last), whether that node is the last of its siblings: draws the tree's guides */
  lasts: boolean[];
}

/** Processes as a tree by parent pid, depth first; children by host pid. Parents outside the list make roots. */
export function processTree<T extends Pick<ProcessInfo, "hostPid" | "ppid">>(processes: T[]): TreeRow<T>[] {
  const byPid = new Map(processes.map((p) => [p.hostPid, p]));
  const children = new Map<number, T[]>();
  const roots: T[] = [];
  for (const p of processes) {
    if (p.ppid !== p.hostPid && byPid.has(p.ppid)) {
      const list = children.get(p.ppid) ?? [];
      list.push(p);
      children.set(p.ppid, list);
    } else roots.push(p);
  }
  const out: TreeRow<T>[] = [];
  const seen = new Set<number>();
  const walk = (list: T[], depth: number, lasts: boolean[]) => {
    list.sort((a, b) => a.hostPid - b.hostPid);
    list.forEach((p, i) => {
      if (seen.has(p.hostPid)) return; // a cycle cannot happen in /proc, but a merged list with ghosts might
      seen.add(p.hostPid);
      const l = [...lasts, i === list.length - 1];
      out.push({ item: p, depth, lasts: l });
      walk(children.get(p.hostPid) ?? [], depth + 1, l);
    });
  };
  walk(roots, 0, []);
  return out;
}

/* ------------------------------------------------------------------ colours */

export interface Swatch {
  /** background and text colours for light and dark themes (CSS colour strings) */
  bg: string;
  fg: string;
  bgDark: string;
  fgDark: string;
  /** a solid mark (dots, lines) */
  solid: string;
  solidDark: string;
}

const GOLDEN_ANGLE = 137.50776405;

/** A hue for a number: consecutive numbers (new namespaces often get consecutive inodes) land far apart. */
export function hueOf(n: number, offset = 0): number {
  return (((n * GOLDEN_ANGLE + offset) % 360) + 360) % 360;
}

function swatchOfHue(h: number): Swatch {
  const hue = Math.round(h);
  return {
    bg: `hsl(${hue} 85% 88%)`,
    fg: `hsl(${hue} 70% 24%)`,
    bgDark: `hsl(${hue} 45% 26%)`,
    fgDark: `hsl(${hue} 85% 85%)`,
    solid: `hsl(${hue} 65% 45%)`,
    solidDark: `hsl(${hue} 70% 62%)`,
  };
}

export const NEUTRAL: Swatch = {
  bg: "hsl(220 12% 90%)",
  fg: "hsl(220 12% 22%)",
  bgDark: "hsl(220 8% 24%)",
  fgDark: "hsl(220 10% 86%)",
  solid: "hsl(220 8% 52%)",
  solidDark: "hsl(220 8% 62%)",
};
export const HOST: Swatch = {
  bg: "hsl(35 10% 93%)",
  fg: "hsl(35 12% 30%)",
  bgDark: "hsl(35 6% 18%)",
  fgDark: "hsl(35 10% 72%)",
  solid: "hsl(35 6% 62%)",
  solidDark: "hsl(35 6% 45%)",
};

/** The colour of a namespace: the same inode always gets the same colour; the lab's own are neutral, the host's pale. */
export function nsSwatch(ns: Pick<NamespaceInfo, "ino" | "isLabRoot" | "host">): Swatch {
  if (ns.isLabRoot) return NEUTRAL;
  if (ns.host) return HOST;
  return swatchOfHue(hueOf(ns.ino));
}

/** The colour of a mount peer group (its number), the same in every table shown. */
export function groupSwatch(group: number): Swatch {
  return swatchOfHue(hueOf(group, 53));
}

/** CSS custom properties for a swatch, used with classes like bg-[var(--sw-bg)] dark:bg-[var(--sw-bg-d)]. */
export function swatchVars(s: Swatch): Record<string, string> {
  return {
    "--sw-bg": s.bg,
    "--sw-fg": s.fg,
    "--sw-bg-d": s.bgDark,
    "--sw-fg-d": s.fgDark,
    "--sw-solid": s.solid,
    "--sw-solid-d": s.solidDark,
  };
}

/** Inodes are long (4026532252); headers show the tail, which is what differs. */
export function shortIno(ino: number): string {
  const s = String(ino);
  return s.length > 5 ? "…" + s.slice(-5) : s;
}

/* ------------------------------------------------------------------ namespaces */

export interface NsColumnGroup<N extends NamespaceInfo = NamespaceInfo> {
  type: NsType;
  namespaces: N[];
}

/** Columns of the namespace matrix: per type, the namespaces lab processes are in (the lab's own first). */
export function nsColumns<N extends NamespaceInfo>(namespaces: N[]): NsColumnGroup<N>[] {
  return NS_TYPES.map((type) => ({
    type,
    namespaces: namespaces
      .filter((n) => n.type === type && (n.processes.length > 0 || (n as { gone?: boolean }).gone))
      .sort((a, b) => Number(b.isLabRoot) - Number(a.isLabRoot) || Number(!!a.host) - Number(!!b.host) || (a.processes[0] ?? Infinity) - (b.processes[0] ?? Infinity) || a.ino - b.ino),
  })).filter((g) => g.namespaces.length > 0);
}

export interface NsNode<N extends NamespaceInfo = NamespaceInfo> {
  ns: N;
  depth: number;
  /** for user namespaces: the namespaces of other types it owns */
  owns: N[];
}

/**
 * The hierarchy of pid or user namespaces (parent → children), depth first. Namespaces whose
 * parent is unknown (the top as we see it) are roots.
 */
export function nsHierarchy<N extends NamespaceInfo>(namespaces: N[], type: "user" | "pid"): NsNode<N>[] {
  const list = namespaces.filter((n) => n.type === type);
  const inos = new Set(list.map((n) => n.ino));
  const kids = new Map<number, N[]>();
  const roots: N[] = [];
  for (const n of list) {
    if (n.parent !== null && inos.has(n.parent) && n.parent !== n.ino) kids.set(n.parent, [...(kids.get(n.parent) ?? []), n]);
    else roots.push(n);
  }
  const order = (a: N, b: N) => Number(!!b.host) - Number(!!a.host) || Number(b.isLabRoot) - Number(a.isLabRoot) || a.ino - b.ino;
  const out: NsNode<N>[] = [];
  const seen = new Set<number>();
  const walk = (ns: N[], depth: number) => {
    for (const n of [...ns].sort(order)) {
      if (seen.has(n.ino)) continue;
      seen.add(n.ino);
      const owns = type === "user" ? namespaces.filter((o) => o.type !== "user" && o.owner === n.ino) : [];
      out.push({ ns: n, depth, owns });
      walk(kids.get(n.ino) ?? [], depth + 1);
    }
  };
  walk(roots, 0);
  return out;
}

/** The lab's own namespace of each type (what a process "differs from"). */
export function labRoots(namespaces: NamespaceInfo[]): Partial<Record<NsType, number>> {
  const out: Partial<Record<NsType, number>> = {};
  for (const n of namespaces) if (n.isLabRoot) out[n.type] = n.ino;
  return out;
}

/** Types in which a process is not in the lab's own namespace (it unshared or joined another). */
export function differingTypes(p: ProcessInfo, roots: Partial<Record<NsType, number>>): NsType[] {
  return NS_TYPES.filter((t) => p.ns[t] !== undefined && roots[t] !== undefined && p.ns[t] !== roots[t]);
}

/* ------------------------------------------------------------------ id maps */

/** "0–65535 → 3000000000–3000065535" */
export function rangeText(l: IdMapLine, outside: "parent" | "host" = "parent"): string {
  const o = outside === "host" ? (l.outsideHost ?? l.outside) : l.outside;
  const r = (a: number) => (l.count === 1 ? String(a) : `${a}–${a + l.count - 1}`);
  return `${r(l.inside)} → ${r(o)}`;
}

/* ------------------------------------------------------------------ mounts */

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

/* ------------------------------------------------------------------ changes */

export interface SnapshotDiff {
  addedProcs: number[];
  removedProcs: ProcessInfo[];
  /** processes whose command or namespaces changed (exec, unshare, setns) */
  changedProcs: number[];
  addedNs: string[]; // nsKey
  removedNs: NamespaceInfo[];
}

export function diffSnapshots(prev: LabSnapshot | null, next: LabSnapshot): SnapshotDiff {
  if (!prev) return { addedProcs: [], removedProcs: [], changedProcs: [], addedNs: [], removedNs: [] };
  const before = new Map(prev.processes.map((p) => [p.hostPid, p]));
  const after = new Map(next.processes.map((p) => [p.hostPid, p]));
  const nsBefore = new Map(prev.namespaces.filter((n) => n.processes.length).map((n) => [nsKey(n.type, n.ino), n]));
  const nsAfter = new Map(next.namespaces.filter((n) => n.processes.length).map((n) => [nsKey(n.type, n.ino), n]));
  const changed: number[] = [];
  for (const [pid, p] of after) {
    const q = before.get(pid);
    if (q && (q.cmdline !== p.cmdline || q.comm !== p.comm || NS_TYPES.some((t) => q.ns[t] !== p.ns[t]) || q.uidInside !== p.uidInside)) changed.push(pid);
  }
  return {
    addedProcs: [...after.keys()].filter((pid) => !before.has(pid)),
    removedProcs: [...before.values()].filter((p) => !after.has(p.hostPid)),
    changedProcs: changed,
    addedNs: [...nsAfter.keys()].filter((k) => !nsBefore.has(k)),
    removedNs: [...nsBefore.entries()].filter(([k]) => !nsAfter.has(k)).map(([, n]) => n),
  };
}

export type Shown<T> = T & { gone?: boolean; fresh?: boolean };

export interface ChangesView {
  freshProcs: Set<number>;
  changedProcs: Set<number>;
  freshNs: Set<string>;
  goneProcs: ProcessInfo[];
  goneNs: NamespaceInfo[];
}

/**
 * Remembers what appeared, changed or disappeared, for `fadeMs` after it happened, so the views
 * can highlight new rows and columns and show departed ones fading out. Fed snapshots and a clock.
 */
export class ChangeTracker {
  private last: LabSnapshot | null = null;
  private fresh = new Map<string, number>(); // "p:pid" | "c:pid" | "n:type:ino" → when
  private gone = new Map<string, { at: number; proc?: ProcessInfo; ns?: NamespaceInfo }>();

  constructor(readonly fadeMs = 2500) {}

  update(next: LabSnapshot, now: number): SnapshotDiff {
    const d = diffSnapshots(this.last, next);
    this.last = next;
    for (const pid of d.addedProcs) {
      this.fresh.set(`p:${pid}`, now);
      this.gone.delete(`p:${pid}`);
    }
    for (const pid of d.changedProcs) this.fresh.set(`c:${pid}`, now);
    for (const k of d.addedNs) {
      this.fresh.set(`n:${k}`, now);
      this.gone.delete(`n:${k}`);
    }
    for (const p of d.removedProcs) {
      this.gone.set(`p:${p.hostPid}`, { at: now, proc: p });
      this.fresh.delete(`p:${p.hostPid}`);
    }
    for (const n of d.removedNs) {
      this.gone.set(`n:${nsKey(n.type, n.ino)}`, { at: now, ns: n });
      this.fresh.delete(`n:${nsKey(n.type, n.ino)}`);
    }
    this.expire(now);
    return d;
  }

  /** Forget everything (a different lab). */
  reset(): void {
    this.last = null;
    this.fresh.clear();
    this.gone.clear();
  }

  private expire(now: number): void {
    for (const [k, at] of this.fresh) if (now - at >= this.fadeMs) this.fresh.delete(k);
    for (const [k, g] of this.gone) if (now - g.at >= this.fadeMs) this.gone.delete(k);
  }

  view(now: number): ChangesView {
    this.expire(now);
    const v: ChangesView = { freshProcs: new Set(), changedProcs: new Set(), freshNs: new Set(), goneProcs: [], goneNs: [] };
    for (const k of this.fresh.keys()) {
      if (k.startsWith("p:")) v.freshProcs.add(Number(k.slice(2)));
      else if (k.startsWith("c:")) v.changedProcs.add(Number(k.slice(2)));
      else v.freshNs.add(k.slice(2));
    }
    for (const g of this.gone.values()) {
      if (g.proc) v.goneProcs.push(g.proc);
      if (g.ns) v.goneNs.push(g.ns);
    }
    return v;
  }

  /** When the next highlight ends (to schedule a re-render), or null if none is showing. */
  nextExpiry(): number | null {
    let min = Infinity;
    for (const at of this.fresh.values()) min = Math.min(min, at + this.fadeMs);
    for (const g of this.gone.values()) min = Math.min(min, g.at + this.fadeMs);
    return Number.isFinite(min) ? min : null;
  }
}

/**
 * A snapshot with departed processes and namespaces merged back in (marked gone) and new ones
 * marked fresh, for views that fade them. A gone process's namespaces are not re-added as members.
 */
export function withChanges(s: LabSnapshot, v: ChangesView): { processes: Shown<ProcessInfo>[]; namespaces: Shown<NamespaceInfo>[] } {
  const pids = new Set(s.processes.map((p) => p.hostPid));
  const processes: Shown<ProcessInfo>[] = [
    ...s.processes.map((p) => (v.freshProcs.has(p.hostPid) ? { ...p, fresh: true } : p)),
    ...v.goneProcs.filter((p) => !pids.has(p.hostPid)).map((p) => ({ ...p, gone: true })),
  ];
  const keys = new Set(s.namespaces.map((n) => nsKey(n.type, n.ino)));
  const namespaces: Shown<NamespaceInfo>[] = [
    ...s.namespaces.map((n) => (v.freshNs.has(nsKey(n.type, n.ino)) ? { ...n, fresh: true } : n)),
    ...v.goneNs.filter((n) => !keys.has(nsKey(n.type, n.ino))).map((n) => ({ ...n, gone: true })),
  ];
  return { processes, namespaces };
}

/* ------------------------------------------------------------------ trace */

const SECTION2 = new Set(
  (
    "accept access bind brk chdir chmod chown chroot clone close connect dup dup2 dup3 epoll_create epoll_ctl epoll_wait " +
    "eventfd execve execveat exit fchdir fchmod fchown fcntl fork fsconfig fsmount fsopen fstat getdents getpid getuid " +
    "ioctl kill link listen lseek mkdir mknod mmap mount mount_setattr move_mount open open_tree openat openat2 pidfd_open " +
    "pidfd_send_signal pipe pipe2 pivot_root prctl read readlink rename rmdir setdomainname setgid setgroups sethostname " +
    "setns setpgid setresgid setresuid setsid setuid socket stat statx symlink umount unlink unshare wait4 waitid write"
  ).split(" "),
);
/** System calls whose man page is another's (clone3 is documented in clone(2), umount2 in umount(2)). */
const PAGE_OF: Record<string, string> = { clone3: "clone", umount2: "umount", dup3: "dup", pipe2: "pipe", wait4: "wait4", fchownat: "chown", mkdirat: "mkdir", symlinkat: "symlink", newfstatat: "stat" };

export interface ManLink {
  label: string; // "clone(2)"
  url: string;
}

const man = (name: string, section: "2" | "3" | "7"): ManLink => ({ label: `${name}(${section})`, url: `https://man7.org/linux/man-pages/man${section}/${name}.${section}.html` });

/**
 * The man page that documents a trace entry's call, and a second page that explains what it did
 * when that is more telling (writing uid_map → user_namespaces(7)). null for steps that are not
 * system calls (nslab's own "copy").
 */
export function manPages(sys: string, args = ""): ManLink[] {
  if (sys === "ioctl") {
    if (/\bTIOC/.test(args)) return [man("ioctl_tty", "2")];
    if (/\bNS_GET_/.test(args)) return [man("ioctl_ns", "2")];
    if (/\bSIOC/.test(args)) return [man("ioctl", "2"), man("netdevice", "7")];
    return [man("ioctl", "2")];
  }
  if (sys === "posix_spawn") return [man("posix_spawn", "3")];
  const page = PAGE_OF[sys] ?? sys;
  if (!SECTION2.has(page) && !SECTION2.has(sys)) return [];
  const links = [man(page, "2")];
  if (sys === "write" || sys === "openat" || sys === "open") {
    if (/\/(uid_map|gid_map|setgroups)\b/.test(args)) links.push(man("user_namespaces", "7"));
    else if (/cgroup/.test(args)) links.push(man("cgroups", "7"));
  }
  if (sys === "clone3" || sys === "clone" || sys === "unshare" || sys === "setns") links.push(man("namespaces", "7"));
  if (sys === "mount" && /MS_(SHARED|SLAVE|PRIVATE|UNBINDABLE)/.test(args)) links.push(man("mount_namespaces", "7"));
  if (sys === "mount_setattr" && /MS_(SHARED|SLAVE|PRIVATE|UNBINDABLE)/.test(args)) links.push(man("mount_namespaces", "7"));
  return links;
}

/** Linux errno names (asm-generic/errno-base.h and errno.h, as on x86-64 and arm64). */
const ERRNO: string[] = [
  "OK", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD", "EAGAIN", "ENOMEM",
  "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE",
  "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK",
  "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY", "ELOOP", "", "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT",
  "EL3RST", "ELNRNG", "EUNATCH", "ENOCSI", "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO", "EBADRQC", "EBADSLT", "",
  "EBFONT", "ENOSTR", "ENODATA", "ETIME", "ENOSR", "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT", "ECOMM",
  "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC", "ELIBBAD",
  "ELIBSCN", "ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS", "ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE",
  "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP", "EPFNOSUPPORT", "EAFNOSUPPORT",
  "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN", "ENETUNREACH", "ENETRESET", "ECONNABORTED", "ECONNRESET", "ENOBUFS",
  "EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS", "ETIMEDOUT", "ECONNREFUSED", "EHOSTDOWN", "EHOSTUNREACH",
  "EALREADY", "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL", "EISNAM", "EREMOTEIO", "EDQUOT", "ENOMEDIUM",
  "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED", "EKEYREVOKED", "EKEYREJECTED", "EOWNERDEAD", "ENOTRECOVERABLE",
  "ERFKILL", "EHWPOISON",
];

export function errnoName(n: number): string {
  const e = Math.abs(n);
  return ERRNO[e] || `errno ${e}`;
}

/** What a call returned: its value, or -1 and the errno's name. */
export function traceResult(e: Pick<TraceEntry, "ret" | "errno">): { text: string; failed: boolean } {
  if (e.errno) return { text: `-1 ${errnoName(e.errno)}`, failed: true };
  return { text: String(e.ret), failed: e.ret < 0 };
}

export function formatDuration(ns: number): string {
  if (!(ns >= 0)) return "";
  if (ns < 1_000) return "<1 µs";
  if (ns < 1_000_000) return `${Math.round(ns / 1_000)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 1 : 0)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

/** "20:28:01.123" in local time. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Appends trace entries, dropping repeats (a reconnect resends the backlog) and keeping the newest `max`. */
export function mergeTrace(have: TraceEntry[], add: TraceEntry[], max = 2000): TraceEntry[] {
  const last = have.at(-1)?.seq ?? 0;
  let fresh = add.filter((e) => e.seq > last);
  // the lab's sequence restarts only with a new lab: a lower seq than we have means start over
  if (!fresh.length && add.length && add.at(-1)!.seq < last && add[0]!.seq === 1) return add.slice(-max);
  fresh = fresh.sort((a, b) => a.seq - b.seq);
  const out = fresh.length ? [...have, ...fresh] : have;
  return out.length > max ? out.slice(-max) : out;
}
