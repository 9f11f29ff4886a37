/** Namespaces: matrix columns, the user and pid hierarchies, what differs from the lab's own, id map ranges. */
import { NS_TYPES, type IdMapLine, type NamespaceInfo, type NsType, type ProcessInfo } from "@/lib/protocol";

export const nsKey = (type: NsType, ino: number) => `${type}:${ino}`;

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

/** "0–65535 → 3000000000–3000065535" */
export function rangeText(l: IdMapLine, outside: "parent" | "host" = "parent"): string {
  const o = outside === "host" ? (l.outsideHost ?? l.outside) : l.outside;
  const r = (a: number) => (l.count === 1 ? String(a) : `${a}–${a + l.count - 1}`);
  return `${r(l.inside)} → ${r(o)}`;
}
