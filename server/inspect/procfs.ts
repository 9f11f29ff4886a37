import "server-only";
import fs from "node:fs";
import { printable } from "../../lib/printable.ts";
import { NS_TYPES, type IdMapLine, type NsType, type ProcessInfo } from "../../lib/protocol.ts";

/**
 * Reading processes from /proc (proc(5)). Processes vanish between any two reads, so every reader
 * here returns null (or an empty value) when a process or file is gone and never throws for it.
 *
 * Reads are synchronous on purpose: procfs files are generated in memory and answer in
 * microseconds, and a snapshot reads a few dozen of them; going through the libuv thread pool
 * for each would cost more than the read itself.
 */

/** Errors that only mean "that process (or that file of it) is not there any more". */
function vanished(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  // ENOENT/ESRCH: exited. EACCES/EPERM: exiting or changed credentials mid-read. EINVAL: zombie's
  // ns links. Anything without an errno code is a bug and is rethrown.
  return code === "ENOENT" || code === "ESRCH" || code === "EACCES" || code === "EPERM" || code === "EINVAL";
}

const scratch = Buffer.alloc(64 * 1024);

/** Opens a procfs file and runs `read` on it; null when the process vanished meanwhile. */
function withProcFile(file: string, read: (fd: number) => string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    if (vanished(e)) return null;
    throw e;
  }
  try {
    return read(fd);
  } catch (e) {
    if (vanished(e)) return null;
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a whole procfs file (open, read, close, without readFileSync's fstat dance); null if gone. */
export function readText(file: string): string | null {
  return withProcFile(file, (fd) => {
    let n = 0;
    let chunks: Buffer[] | null = null;
    for (;;) {
      const r = fs.readSync(fd, scratch, n, scratch.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === scratch.length) {
        // bigger than the scratch buffer (a long mountinfo): keep going in fresh buffers
        (chunks ??= []).push(Buffer.from(scratch));
        n = 0;
      }
    }
    if (!chunks) return scratch.toString("utf8", 0, n);
    chunks.push(Buffer.from(scratch.subarray(0, n)));
    return Buffer.concat(chunks).toString("utf8");
  });
}

/**
 * Reads at most `max` bytes of a file a lab controls the size of (a mountinfo: a lab may hold
 * thousands of mounts with kilobyte-long paths, tens of megabytes), off the event loop (libuv's
 * thread pool: the kernel builds procfs text as it is read, which takes long for a big table).
 * Cut at the last whole line when the file is longer: `truncated`. Null if the process is gone.
 */
export async function readCapped(file: string, max: number): Promise<{ text: string; truncated: boolean } | null> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, "r");
  } catch (e) {
    if (vanished(e)) return null;
    throw e;
  }
  try {
    // one byte more than allowed tells "there is more"; the buffer grows as the file does (most
    // tables are a few KiB, and this runs for every followed process at each poll)
    let buf = Buffer.allocUnsafe(Math.min(max + 1, 16 * 1024));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n === max + 1) break;
        const bigger = Buffer.allocUnsafe(Math.min(max + 1, buf.length * 4));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    if (n <= max) return { text: buf.toString("utf8", 0, n), truncated: false };
    const end = buf.lastIndexOf(0x0a, max - 1);
    return { text: buf.toString("utf8", 0, end + 1), truncated: true };
  } catch (e) {
    if (vanished(e)) return null;
    throw e;
  } finally {
    await fh.close();
  }
}

/** Reads at most `max` bytes (for files a process controls the size of, like cmdline). */
function readHead(file: string, max: number): string | null {
  return withProcFile(file, (fd) => {
    let n = 0;
    while (n < max) {
      const r = fs.readSync(fd, scratch, n, max - n, null);
      if (r === 0) break;
      n += r;
    }
    return scratch.toString("utf8", 0, n);
  });
}

export interface StatusFields {
  name: string;
  state: string; // one letter: R S D Z T t X I
  ppid: number;
  nspid: number[];
  uid: number[]; // real, effective, saved, filesystem (as the reader's user namespace sees them)
  gid: number[];
}

/** Parses /proc/PID/status. NSpid lists the pid in each pid namespace, outermost (ours) first. */
export function parseStatus(text: string): StatusFields | null {
  const f: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    let nl = text.indexOf("\n", i);
    if (nl < 0) nl = text.length;
    const colon = text.indexOf(":", i);
    if (colon > i && colon < nl) {
      const key = text.slice(i, colon);
      if (key === "Name" || key === "State" || key === "Pid" || key === "PPid" || key === "NSpid" || key === "Uid" || key === "Gid")
        f[key] = text.slice(colon + 1, nl).trim();
    }
    i = nl + 1;
  }
  const nums = (s: string | undefined) => (s ? s.split(/\s+/).filter(Boolean).map(Number) : []);
  if (f.PPid === undefined || f.Pid === undefined) return null;
  const nspid = nums(f.NSpid);
  return {
    name: unescapeName(f.Name ?? ""),
    state: (f.State ?? "?").charAt(0),
    ppid: Number(f.PPid),
    nspid: nspid.length ? nspid : [Number(f.Pid)],
    uid: nums(f.Uid),
    gid: nums(f.Gid),
  };
}

/** status escapes a newline and a backslash in the name as \n and \\ (proc_task_name). */
function unescapeName(s: string): string {
  return s.includes("\\") ? s.replace(/\\(n|\\)/g, (_, c: string) => (c === "n" ? "\n" : "\\")) : s;
}

const CMDLINE_MAX = 200;

/**
 * /proc/PID/cmdline: NUL-separated arguments, shown space-separated and cut at 200 characters.
 * What is left of control and bidi characters becomes "?" (lib/printable.ts: the lab writes argv).
 */
export function formatCmdline(raw: string): string {
  // white space between and inside arguments reads as a space; any other control character as "?"
  let s = raw.replace(/\0+$/, "").replace(/[\0\t\n\v\f\r]/g, " ");
  if (s.length > CMDLINE_MAX) s = s.slice(0, CMDLINE_MAX - 1) + "…";
  return printable(s);
}

/** `user:[4026531837]` → 4026531837 */
export function parseNsLink(link: string): number | null {
  const m = /^[a-z_]+:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/** The namespace inode of each type a process is in (types it has no link for are left out). */
export function readNsLinks(pid: number): Partial<Record<NsType, number>> {
  const ns: Partial<Record<NsType, number>> = {};
  for (const t of NS_TYPES) {
    try {
      const ino = parseNsLink(fs.readlinkSync(`/proc/${pid}/ns/${t}`));
      if (ino !== null) ns[t] = ino;
    } catch (e) {
      if (!vanished(e)) throw e;
    }
  }
  return ns;
}

/** Parses a uid_map or gid_map: "inside outside count" per line. */
export function parseIdMap(text: string): IdMapLine[] {
  const out: IdMapLine[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [inside, outside, count] = f.map(Number) as [number, number, number];
    if ([inside, outside, count].every(Number.isSafeInteger)) out.push({ inside, outside, count });
  }
  return out;
}

/**
 * A process's uid_map or gid_map as we (the server) read it. Read from another user namespace,
 * the outside column is in *our* terms (user_namespaces(7)): host ids, whatever the nesting.
 * [] means not written yet; null means the process is gone.
 */
export function readIdMap(pid: number, kind: "uid" | "gid"): IdMapLine[] | null {
  const t = readText(`/proc/${pid}/${kind}_map`);
  return t === null ? null : parseIdMap(t);
}

export function readSetgroups(pid: number): "allow" | "deny" | null {
  const t = readText(`/proc/${pid}/setgroups`)?.trim();
  return t === "allow" || t === "deny" ? t : null;
}

let overflow: number | null = null;
/** The id an unmapped id shows as (/proc/sys/kernel/overflowuid, normally 65534 "nobody"). */
export function overflowId(): number {
  if (overflow === null) overflow = Number(readText("/proc/sys/kernel/overflowuid")?.trim() ?? 65534) || 65534;
  return overflow;
}

/** Maps an outside id into the namespace through its map; null if unmapped. */
export function toInside(map: IdMapLine[], outside: number): number | null {
  for (const l of map) if (outside >= l.outside && outside < l.outside + l.count) return l.inside + (outside - l.outside);
  return null;
}

/** Maps an inside id out through the map; null if unmapped. */
export function toOutside(map: IdMapLine[], inside: number): number | null {
  for (const l of map) if (inside >= l.inside && inside < l.inside + l.count) return l.outside + (inside - l.inside);
  return null;
}

/**
 * Re-expresses a map whose outside column is in host ids (as we read it) in terms of the parent
 * user namespace (as the kernel defines the file, and as a process in the parent reads it): each
 * host range goes through the parent's own map, split where the parent's extents split it.
 * Keeps the host id in `outsideHost`. Ranges the parent does not map are left in host terms.
 */
export function relativeToParent(map: IdMapLine[], parentMap: IdMapLine[] | "identity"): IdMapLine[] {
  const out: IdMapLine[] = [];
  for (const l of map) {
    if (parentMap === "identity") {
      out.push({ inside: l.inside, outside: l.outside, count: l.count, outsideHost: l.outsideHost ?? l.outside });
      continue;
    }
    let done = 0;
    while (done < l.count) {
      const host = l.outside + done;
      const ext = parentMap.find((p) => host >= p.outside && host < p.outside + p.count);
      if (!ext) {
        out.push({ inside: l.inside + done, outside: host, count: l.count - done, outsideHost: host });
        break;
      }
      const n = Math.min(l.count - done, ext.outside + ext.count - host);
      out.push({ inside: l.inside + done, outside: ext.inside + (host - ext.outside), count: n, outsideHost: host });
      done += n;
    }
  }
  return out;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses); rest[0] is field 3. */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * Job control from /proc/PID/stat (host pids): its process group (field 5), session (6) and the
 * foreground process group of its controlling terminal (8; -1 without one).
 */
export function parseJobs(text: string): { pgid: number; sid: number; tpgid: number } | null {
  const f = statFields(text);
  const [pgid, sid, tpgid] = [Number(f[2]), Number(f[3]), Number(f[5])];
  return Number.isInteger(pgid) && Number.isInteger(sid) && Number.isInteger(tpgid) ? { pgid, sid, tpgid } : null;
}

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot. With the pid, it identifies a process across pid reuse. */
export function startTime(pid: number): string | null {
  const t = readText(`/proc/${pid}/stat`);
  if (t === null) return null;
  return statFields(t)[19] ?? null; // field 3 is [0], so field 22 is [19]
}

/** Everything about one process that does not need its user namespace's map. */
export interface RawProcess {
  hostPid: number;
  nspid: number[];
  ppid: number;
  state: string;
  comm: string;
  cmdline: string;
  uidHost: number;
  gidHost: number;
  ns: Partial<Record<NsType, number>>;
  /** process group, session, foreground group of its terminal (null if /proc/PID/stat could not be read) */
  jobs: { pgid: number; sid: number; tpgid: number } | null;
}

/** Reads one process; null if it is gone. */
export function readRawProcess(pid: number): RawProcess | null {
  const statusText = readText(`/proc/${pid}/status`);
  const status = statusText === null ? null : parseStatus(statusText);
  if (!status) return null;
  // the same as /proc/PID/comm, one read fewer; the lab names its processes (prctl PR_SET_NAME)
  const comm = printable(status.name);
  const cmd = readHead(`/proc/${pid}/cmdline`, 4096);
  const cmdline = cmd && cmd.length ? formatCmdline(cmd) : `[${comm}]`;
  const ns = readNsLinks(pid);
  const stat = readText(`/proc/${pid}/stat`);
  return {
    hostPid: pid,
    nspid: status.nspid,
    ppid: status.ppid,
    state: status.state,
    comm,
    cmdline,
    uidHost: status.uid[0] ?? -1,
    gidHost: status.gid[0] ?? -1,
    ns,
    jobs: stat === null ? null : parseJobs(stat),
  };
}

/**
 * One process as the explorer shows it. `uidMap` is the uid_map of its user namespace as we read
 * it; without one, the process's own file is read. The uid inside is its real uid mapped through
 * that map (the overflow uid, 65534, if unmapped: what `id` would print).
 */
export function readProcess(pid: number, uidMap?: IdMapLine[] | null): ProcessInfo | null {
  const raw = readRawProcess(pid);
  if (!raw) return null;
  return toProcessInfo(raw, uidMap === undefined ? readIdMap(pid, "uid") : uidMap);
}

export function toProcessInfo(raw: RawProcess, uidMap: IdMapLine[] | null): ProcessInfo {
  const inside = uidMap ? toInside(uidMap, raw.uidHost) : null;
  return {
    hostPid: raw.hostPid,
    nspid: raw.nspid,
    ppid: raw.ppid,
    comm: raw.comm,
    cmdline: raw.cmdline,
    uidInside: inside ?? overflowId(),
    uidHost: raw.uidHost,
    ns: raw.ns,
    state: raw.state,
  };
}
