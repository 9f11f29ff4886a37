/** Snapshots for the model tests: a small lab with a shell and a sleep in a UTS namespace of its own. */
import type { LabSnapshot, NamespaceInfo, ProcessInfo } from "@/lib/protocol";

export const L = { user: 100, pid: 101, mnt: 102, uts: 103, ipc: 104, net: 105, cgroup: 106, time: 107 };
export const proc = (hostPid: number, ppid: number, over: Partial<ProcessInfo> = {}): ProcessInfo => ({
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
export const ns = (type: NamespaceInfo["type"], ino: number, processes: number[], over: Partial<NamespaceInfo> = {}): NamespaceInfo => ({
  ino,
  type,
  parent: null,
  owner: 100,
  processes,
  isLabRoot: false,
  ...over,
});

/** A lab: init 1001, a shell 1002 below it, a sleep 1003 in a new UTS namespace below the shell. */
export function lab(): LabSnapshot {
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
