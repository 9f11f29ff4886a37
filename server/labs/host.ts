import "server-only";
import fs from "node:fs";

/**
 * Host-wide kernel settings nslab needs (root mode only).
 *
 * fs.mount-max bounds how many mounts one mount namespace may hold (mount_namespaces(7)). The
 * kernel's default is 100,000 per namespace, and a lab makes namespaces freely: 16 recursive binds
 * of a directory into itself made 65,000 mounts in half a second (issue 12, finding 1), and a
 * namespace that size is a 26 MB mountinfo for whoever reads it. The setting is global, not per
 * lab, so nslab only ever lowers it, and never below twice the largest mount namespace already
 * on the host (so nothing that runs there now is refused its next mount). It stays lowered when
 * nslab stops.
 */
export interface MountMaxChange {
  before: number;
  after: number;
  largestNamespace: number;
}

export function lowerMountMax(want: number, file = "/proc/sys/fs/mount-max"): MountMaxChange | null {
  if (!want) return null;
  const before = Number(fs.readFileSync(file, "utf8").trim());
  const largestNamespace = largestMountNamespace();
  const after = Math.max(want, 2 * largestNamespace);
  if (!(before > after)) return null;
  fs.writeFileSync(file, String(after));
  return { before, after, largestNamespace };
}

/** The most mounts any mount namespace on the host holds now (one mountinfo read per namespace). */
export function largestMountNamespace(): number {
  const seen = new Set<string>();
  let most = 0;
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      seen.add(ns);
      const text = fs.readFileSync(`/proc/${pid}/mountinfo`, "latin1");
      let n = 0;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
      most = Math.max(most, n);
    } catch {}
  }
  return most;
}
