import "server-only";
import { printable } from "../../lib/printable.ts";
import type { MountEntry, Propagation } from "../../lib/protocol.ts";

/**
 * /proc/PID/mountinfo (proc(5), "mountinfo"): one mount per line,
 *
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2) (3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 *
 * (7) is zero or more optional fields ended by the "-" separator (8): shared:N (a member of peer
 * group N), master:N (a slave of peer group N), propagate_from:N (a slave that really receives
 * from group N, named when the master group has no member under the process's root) and
 * unbindable. Paths escape space, tab, newline and backslash as octal (\040, \011, \012, \134).
 *
 * Note on what "root" means: the kernel renders mount points and propagate_from relative to the
 * root directory of the process whose file is read, not of the reader, so a lab's mountinfo read
 * from the host looks exactly as it does from inside the lab.
 */

/** Undoes the kernel's octal escapes (`\040` → space). Anything else is left as it is. */
export function unescapeMountPath(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parses one mountinfo line; null for a line that does not have the format (never throws). The
 * lab chooses paths, sources and (fuse) type names: control and bidi characters come out as "?"
 * (lib/printable.ts).
 */
export function parseMountinfoLine(line: string): MountEntry | null {
  const sep = line.indexOf(" - ");
  if (sep < 0) return null;
  const head = line.slice(0, sep).split(" ");
  const tail = line.slice(sep + 3).split(" ");
  if (head.length < 6 || tail.length < 2) return null;
  const [id, parentId, devMajorMinor, root, mountPoint, options, ...optional] = head as [string, string, string, string, string, string, ...string[]];
  const [fsType, source, ...rest] = tail as [string, string, ...string[]];
  const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : NaN);
  if (Number.isNaN(num(id)) || Number.isNaN(num(parentId))) return null;

  let shared: number | null = null;
  let master: number | null = null;
  let propagateFrom: number | null = null;
  let unbindable = false;
  for (const f of optional) {
    if (!f) continue;
    const colon = f.indexOf(":");
    const tag = colon < 0 ? f : f.slice(0, colon);
    const n = colon < 0 ? NaN : num(f.slice(colon + 1));
    if (tag === "shared" && !Number.isNaN(n)) shared = n;
    else if (tag === "master" && !Number.isNaN(n)) master = n;
    else if (tag === "propagate_from" && !Number.isNaN(n)) propagateFrom = n;
    else if (tag === "unbindable") unbindable = true;
    // unknown tags: future kernels may add some; proc(5) says to ignore them
  }
  return {
    id: num(id),
    parentId: num(parentId),
    devMajorMinor,
    root: printable(unescapeMountPath(root)),
    mountPoint: printable(unescapeMountPath(mountPoint)),
    options: printable(options),
    propagation: propagationOf(shared, master, propagateFrom, unbindable),
    shared,
    master,
    propagateFrom,
    unbindable,
    fsType: printable(fsType),
    source: printable(unescapeMountPath(source)),
    superOptions: printable(rest.join(" ")),
  };
}

export function propagationOf(shared: number | null, master: number | null, propagateFrom: number | null, unbindable: boolean): Propagation {
  if (shared !== null) return master !== null ? { kind: "shared", peerGroup: shared, master } : { kind: "shared", peerGroup: shared };
  if (master !== null) return propagateFrom !== null ? { kind: "slave", master, propagateFrom } : { kind: "slave", master };
  if (unbindable) return { kind: "unbindable" };
  return { kind: "private" };
}

/** Parses a whole mountinfo file; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const e = parseMountinfoLine(line);
    if (e) out.push(e);
  }
  return out;
}

/* ------------------------------------------------------------------ tree and propagation */

export interface MountNode {
  mount: MountEntry;
  children: MountNode[];
}

/**
 * The mount tree: children under their parent mount, in mountinfo order (the order they were
 * mounted). Mounts whose parent is not in the list (the namespace's root mount, or mounts whose
 * parent lies outside a chroot) are roots.
 */
export function mountTree(mounts: MountEntry[]): MountNode[] {
  const nodes = new Map<number, MountNode>();
  for (const m of mounts) nodes.set(m.id, { mount: m, children: [] });
  const roots: MountNode[] = [];
  for (const m of mounts) {
    const node = nodes.get(m.id)!;
    const parent = m.parentId !== m.id ? nodes.get(m.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** One mount in a peer group's view: which namespace (a caller's label) and what role it plays. */
export interface GroupMember {
  ns: string;
  mount: MountEntry;
  role: "peer" | "slave";
}
export interface PeerGroup {
  group: number;
  /** Mounts with shared:N: a mount or unmount below any of them happens below all of them. */
  peers: GroupMember[];
  /** Mounts with master:N: they receive from the group but do not send back. */
  slaves: GroupMember[];
  /** The group this group is itself a slave of (shared:N master:M), if any member says so. */
  master: number | null;
}

/**
 * Peer groups across one or more mount namespaces (each list labelled by the caller, e.g. by
 * its mount namespace inode). Mounts with the same shared:N are peers, whichever namespace they
 * are in; master:N makes a mount a slave of group N. Groups come out sorted by number, members
 * in the order given.
 */
export function peerGroups(views: { ns: string; mounts: MountEntry[] }[]): PeerGroup[] {
  const groups = new Map<number, PeerGroup>();
  const get = (n: number) => {
    let g = groups.get(n);
    if (!g) groups.set(n, (g = { group: n, peers: [], slaves: [], master: null }));
    return g;
  };
  for (const v of views) {
    for (const m of v.mounts) {
      if (m.shared !== null) {
        const g = get(m.shared);
        g.peers.push({ ns: v.ns, mount: m, role: "peer" });
        if (m.master !== null) g.master = m.master;
      }
      if (m.master !== null) get(m.master).slaves.push({ ns: v.ns, mount: m, role: "slave" });
    }
  }
  return [...groups.values()].sort((a, b) => a.group - b.group);
}

/** Where a mount at `mountPoint` would propagate to: the same relative path below each peer and slave of its parent's group. */
export function propagationTargets(mounts: MountEntry[], parent: MountEntry): MountEntry[] {
  if (parent.shared === null) return [];
  return mounts.filter((m) => m.id !== parent.id && (m.shared === parent.shared || m.master === parent.shared));
}
