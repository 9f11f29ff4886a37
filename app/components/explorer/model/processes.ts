/** Processes: their PIDs at each level, and the process tree by parent. Pure functions. */
import type { LabSnapshot, ProcessInfo } from "@/lib/protocol";

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

/**
 * The mount tables to show: the chosen processes that still live, else the learner's shell in
 * terminal 1 (the process in front there, as the server marks it), else the newest shell the server
 * started for a terminal (never a process merely named bash: a lab names its processes), else the
 * lab's init. `terminals`: the learner's terminal ids in tab order.
 */
export function liveMountPids(snap: LabSnapshot, chosen: number[], terminals: string[]): number[] {
  const live = new Set(snap.processes.map((p) => p.hostPid));
  const kept = chosen.filter((p) => live.has(p));
  if (kept.length) return kept;
  const pick =
    snap.processes.find((p) => p.foreground && p.terminal === terminals[0]) ??
    snap.processes.filter((p) => p.shell).at(-1) ??
    snap.processes.find((p) => p.nspid[1] === 1) ??
    snap.processes[0];
  return pick ? [pick.hostPid] : [];
}
