/**
 * What changed between two snapshots, and a tracker that keeps those changes for a fade time so
 * views can highlight new rows and show departed ones fading out. Fed snapshots and a clock.
 */
import { NS_TYPES, type LabSnapshot, type NamespaceInfo, type ProcessInfo } from "@/lib/protocol";
import { nsKey } from "./namespaces";

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
