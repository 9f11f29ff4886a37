import "server-only";
import crypto from "node:crypto";
import { MOUNTINFO_MAX_BYTES, MOUNTS_MAX, NS_TYPES, type ExplorerServerMessage, type IdMapLine, type LabSnapshot, type MountEntry, type NamespaceInfo, type NsType, type ProcessInfo, type UserNamespaceMaps } from "../../lib/protocol.ts";
import type { LabHandle } from "../labs/types.ts";
import { parseMountinfo } from "./mountinfo.ts";
import { nsFacts, type NsFacts } from "./nsfacts.ts";
import { readCapped, readIdMap, readNsLinks, readRawProcess, readSetgroups, readText, relativeToParent, startTime, toProcessInfo, type RawProcess } from "./procfs.ts";

/**
 * A lab as the kernel holds it: its processes, the namespaces they are in (with the parent and
 * owner relations the kernel reports), and the id maps of its user namespaces.
 */

let serverNs: Partial<Record<NsType, number>> | null = null;
/** The server's own namespaces: what "the host" is, from where we stand. They never change. */
export function ownNamespaces(): Partial<Record<NsType, number>> {
  if (!serverNs) serverNs = readNsLinks(process.pid);
  return serverNs;
}

interface CachedFacts {
  facts: NsFacts;
  via: number; // the pid whose ns link answered
}
interface CachedMaps {
  maps: { uid: IdMapLine[]; gid: IdMapLine[]; setgroups: "allow" | "deny" | null };
  via: number;
}

/**
 * Per-lab caches. A namespace's parent and owner never change, but an inode number is reused
 * once its namespace is freed, so an entry is trusted only while the process it was read through
 * is still in that namespace. uid_map and gid_map can be written once only, so a user
 * namespace's maps are cached once both are written (setgroups is fixed from then on too).
 */
export class LabInspector {
  private facts = new Map<string, CachedFacts>();
  private maps = new Map<number, CachedMaps>();
  /** the mount tables read last, by pid (an unchanged table is not parsed again) */
  private tables = new Map<number, MountTable>();

  /**
   * `shells`: the shell (host pid) the server started for each of the lab's open terminals, by
   * terminal id (inspection knows nothing of terminals; the wiring hands this in).
   */
  constructor(
    readonly lab: LabHandle,
    private readonly shells: () => TerminalShell[] = () => [],
  ) {}

  async snapshot(): Promise<LabSnapshot> {
    const pids = await this.lab.hostPids();
    return this.snapshotOf(pids);
  }

  /** The snapshot of the given host pids (the lab's; exposed for tests). */
  snapshotOf(pids: number[]): LabSnapshot {
    const at = Date.now();
    let raws: RawProcess[] = [];
    for (const pid of [...new Set(pids)].sort((a, b) => a - b)) {
      const r = readRawProcess(pid);
      if (r) raws.push(r);
    }
    // The lab's processes live in its pid namespace or below. Its cgroup can briefly hold a
    // process that is not (yet) in there: nslab-helper between being moved into the cgroup and
    // spawning into the lab (setns(2) on a pid namespace moves only the children).
    const depth = raws.find((r) => r.hostPid === this.lab.initPid)?.nspid.length ?? 2;
    raws = raws.filter((r) => r.nspid.length >= depth);

    // group by namespace, in process order
    const held = new Map<string, { type: NsType; ino: number; processes: number[] }>();
    for (const r of raws) {
      for (const t of NS_TYPES) {
        const ino = r.ns[t];
        if (ino === undefined) continue;
        const key = `${t}:${ino}`;
        let h = held.get(key);
        if (!h) held.set(key, (h = { type: t, ino, processes: [] }));
        h.processes.push(r.hostPid);
      }
    }

    // parent and owner, from the kernel
    const facts = new Map<string, NsFacts>();
    for (const [key, h] of held) {
      const f = this.factsOf(key, h.type, h.ino, h.processes);
      if (f) facts.set(key, f);
    }
    for (const key of this.facts.keys()) if (!held.has(key)) this.facts.delete(key);

    // id maps of each user namespace that has a process
    const userMaps = new Map<number, CachedMaps["maps"]>();
    for (const h of held.values()) {
      if (h.type !== "user") continue;
      const m = this.mapsOf(h.ino, h.processes);
      if (m) userMaps.set(h.ino, m);
    }
    for (const ino of this.maps.keys()) if (!held.has(`user:${ino}`)) this.maps.delete(ino);

    const processes: ProcessInfo[] = raws.map((r) => toProcessInfo(r, r.ns.user !== undefined ? (userMaps.get(r.ns.user)?.uid ?? null) : null));
    markTerminals(processes, raws, this.shells());

    const own = ownNamespaces();
    const init = raws.find((r) => r.hostPid === this.lab.initPid)?.ns ?? {};
    const namespaces: NamespaceInfo[] = [];
    for (const [key, h] of held) {
      const f = facts.get(key);
      const host = own[h.type] === h.ino;
      const info: NamespaceInfo = {
        ino: h.ino,
        type: h.type,
        parent: f?.parent ?? null,
        owner: f?.owner ?? null,
        processes: h.processes,
        isLabRoot: init[h.type] === h.ino && !host,
      };
      if (host) info.host = true;
      namespaces.push(info);
    }
    // namespaces the hierarchy refers to that no lab process is in: the host's user and pid
    // namespaces above the lab's, or a user namespace whose last process left
    const known = new Set(namespaces.map((n) => `${n.type}:${n.ino}`));
    const refer = (type: NsType, ino: number | null) => {
      if (ino === null || known.has(`${type}:${ino}`)) return;
      known.add(`${type}:${ino}`);
      const info: NamespaceInfo = { ino, type, parent: null, owner: null, processes: [], isLabRoot: false };
      if (own[type] === ino) info.host = true;
      namespaces.push(info);
    };
    for (const n of [...namespaces]) {
      if (n.type === "pid" || n.type === "user") refer(n.type, n.parent);
      refer("user", n.owner);
    }
    namespaces.sort(
      (a, b) =>
        NS_TYPES.indexOf(a.type) - NS_TYPES.indexOf(b.type) ||
        Number(b.isLabRoot) - Number(a.isLabRoot) ||
        (a.processes[0] ?? Infinity) - (b.processes[0] ?? Infinity) ||
        a.ino - b.ino,
    );

    // maps: outside in the parent's terms, as the kernel defines the file; the host id kept beside
    const maps: UserNamespaceMaps[] = [];
    const byIno = new Map(namespaces.filter((n) => n.type === "user").map((n) => [n.ino, n]));
    for (const n of byIno.values()) {
      const m = userMaps.get(n.ino);
      if (!m) continue;
      const parent = n.parent === null ? null : byIno.get(n.parent);
      const pm = parent ? userMaps.get(parent.ino) : undefined;
      const viaParent = (which: "uid" | "gid"): IdMapLine[] | "identity" => (pm && !parent!.host ? pm[which] : "identity");
      maps.push({
        ino: n.ino,
        uidMap: relativeToParent(m.uid, viaParent("uid")),
        gidMap: relativeToParent(m.gid, viaParent("gid")),
        setgroups: m.setgroups,
        ownerUid: facts.get(`user:${n.ino}`)?.ownerUid ?? null,
      });
    }

    return { at, processes, namespaces, userMaps: maps };
  }

  private factsOf(key: string, type: NsType, ino: number, pids: number[]): NsFacts | null {
    const c = this.facts.get(key);
    if (c && pids.includes(c.via)) return c.facts;
    for (const pid of pids) {
      const f = nsFacts(`/proc/${pid}/ns/${type}`);
      // the process may have moved to another namespace since we read its link
      if (f && f.ino === ino && f.type === type) {
        this.facts.set(key, { facts: f, via: pid });
        return f;
      }
    }
    return null;
  }

  private mapsOf(ino: number, pids: number[]): CachedMaps["maps"] | null {
    const c = this.maps.get(ino);
    if (c && pids.includes(c.via)) return c.maps;
    for (const pid of pids) {
      const uid = readIdMap(pid, "uid");
      const gid = readIdMap(pid, "gid");
      const setgroups = readSetgroups(pid);
      if (uid === null || gid === null) continue;
      // the files belong to the process's user namespace at the time of reading: make sure it is still this one
      if (readNsLinks(pid).user !== ino) continue;
      const maps = { uid, gid, setgroups };
      if (uid.length && gid.length) this.maps.set(ino, { maps, via: pid });
      return maps;
    }
    return null;
  }

  /**
   * The mounts of one of the lab's processes as that process sees them; null if the pid is not
   * the lab's (or is gone). At most MOUNTS_MAX of them (see mountTables).
   */
  async mounts(hostPid: number): Promise<MountEntry[] | null> {
    return (await this.mountTables([hostPid])).get(hostPid)?.mounts ?? null;
  }

  /** The mount table of one of the lab's processes, with `truncated` and its hash; null if not the lab's. */
  async mountTable(hostPid: number): Promise<MountTable | null> {
    return (await this.mountTables([hostPid])).get(hostPid) ?? null;
  }

  /**
   * The mount tables of several lab processes; pids that are not the lab's are left out.
   * Membership is checked after reading, against the same process (its start time), so a pid
   * reused by a process outside the lab in the meantime is never shown.
   *
   * The lab decides how long a mountinfo is, so it is read off the event loop and only its first
   * MOUNTINFO_MAX_BYTES, and at most MOUNTS_MAX entries are kept (`truncated` beyond either). A
   * table whose text did not change since the last call is not parsed again (`hash` is of the
   * text: a watcher compares tables by it).
   */
  async mountTables(hostPids: number[]): Promise<Map<number, MountTable>> {
    const read: { pid: number; start: string; text: string; truncated: boolean }[] = [];
    for (const pid of hostPids) {
      if (!Number.isSafeInteger(pid) || pid <= 0) continue;
      const start = startTime(pid);
      const r = start === null ? null : await readCapped(`/proc/${pid}/mountinfo`, MOUNTINFO_MAX_BYTES);
      if (start !== null && r !== null) read.push({ pid, start, ...r });
    }
    const out = new Map<number, MountTable>();
    if (!read.length) return out;
    const members = new Set(await this.lab.hostPids());
    const parsed = new Map<string, MountTable>(); // processes of one mount namespace: one parse
    for (const t of this.tables.values()) parsed.set(t.hash, t);
    for (const r of read) {
      if (!members.has(r.pid) || startTime(r.pid) !== r.start) continue;
      const hash = crypto.createHash("sha1").update(r.text).digest("base64url") + (r.truncated ? "+" : "");
      const last = this.tables.get(r.pid);
      let t: MountTable;
      if (last?.hash === hash) t = last;
      else {
        const same = parsed.get(hash);
        if (same) t = { mounts: same.mounts, truncated: same.truncated, hash };
        else {
          const mounts = parseMountinfo(r.text);
          t = { mounts: mounts.length > MOUNTS_MAX ? mounts.slice(0, MOUNTS_MAX) : mounts, truncated: r.truncated || mounts.length > MOUNTS_MAX, hash };
          parsed.set(hash, t);
        }
      }
      out.set(r.pid, t);
    }
    this.tables = out;
    return out;
  }
}

/** One process's mount table as the server reads it (at most MOUNTS_MAX entries). */
export interface MountTable {
  mounts: MountEntry[];
  /** the process has more mounts than the server reads or sends: these are the first */
  truncated: boolean;
  /** of the mountinfo text read: equal hashes, equal tables */
  hash: string;
  /** the explorer's message for this table, made once (server/inspect/watch.ts) */
  message?: ExplorerServerMessage;
}

/**
 * Which of the lab's terminals each process belongs to, by what the server knows rather than by
 * name: the shell it started for a terminal leads that terminal's session, so every process in
 * the session is the terminal's; and the kernel names the terminal's foreground process group
 * (what is typed there goes to its leader). A process that left the session (setsid) is no
 * terminal's.
 */
export interface TerminalShell {
  id: string; // "t1"
  pid: number; // host pid of the shell the server started for that terminal
}

export function markTerminals(processes: ProcessInfo[], raws: RawProcess[], shells: TerminalShell[]): void {
  const bySession = new Map(shells.map((s) => [s.pid, s.id]));
  raws.forEach((r, i) => {
    const id = r.jobs ? bySession.get(r.jobs.sid) : undefined;
    if (!id) return;
    const p = processes[i]!;
    p.terminal = id;
    if (r.hostPid === r.jobs!.sid) p.shell = true;
    if (r.hostPid === r.jobs!.tpgid) p.foreground = true;
  });
}

/** A snapshot of a lab (a fresh inspector: no caches kept between calls). */
export function snapshotLab(lab: LabHandle, inspector: LabInspector = new LabInspector(lab)): Promise<LabSnapshot> {
  return inspector.snapshot();
}

/** The mounts of a lab process; null if hostPid is not one of the lab's processes. */
export function mountsOf(lab: LabHandle, hostPid: number): Promise<MountEntry[] | null> {
  return new LabInspector(lab).mounts(hostPid);
}

/** A stable hash of what a snapshot shows (everything but its time). */
export function snapshotHash(s: LabSnapshot): string {
  return crypto
    .createHash("sha1")
    .update(JSON.stringify([s.processes, s.namespaces, s.userMaps]))
    .digest("base64url");
}
