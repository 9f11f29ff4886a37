import "server-only";
import fs from "node:fs";
import { MOUNTINFO_MAX_BYTES, type IdMapLine, type MountEntry, type TraceEntry } from "../../lib/protocol.ts";
import { printable } from "../../lib/printable.ts";
import type { Lab } from "../labs/lab.ts";
import { learnerEntry } from "../labs/learner-calls.ts";
import { nsInfo } from "../native/core.ts";
import type { LearnerCall } from "../native/syscalls.ts";
import { parseMountinfo } from "./mountinfo.ts";
import { parseIdMap, parseNsLink, parseStatus, readCapped, readText, relativeToParent } from "./procfs.ts";

/**
 * What the learner's calls did, from the lab's state a moment later (issue 12: "infer results from
 * the next snapshot where the kernel doesn't report them"). The tracer lets each call continue and
 * the kernel tells an observer nothing (seccomp_unotify(2)), and a plain fork is never reported at
 * all (a fork+exec loop must not meet the tracer). So each lab's learner calls wait here a moment
 * (INFER_AFTER_MS), then one look at the processes involved (their children, namespaces, id maps
 * and mount tables: the next snapshot of them) adds what it shows:
 *
 * - the fork after unshare(CLONE_NEWPID): `unshare -f` forks the namespace's first process with a
 *   plain clone. A child of the caller in the new pid namespace is shown as an inferred `clone`,
 *   with its pid there (1) and in the lab;
 * - writes to uid_map/gid_map (file writes, which seccomp does not see): after
 *   unshare(CLONE_NEWUSER), the new user namespace's maps, once set, are shown as inferred writes
 *   (as the tracer read them just after the call, through files that outlive the caller; else as
 *   a live process in the namespace shows them);
 * - the result of a mount (the target is in the caller's mount table, with that type; or, for a
 *   propagation change, the mount's propagation), of pivot_root (the namespace's root changed),
 *   and of sethostname/setdomainname by the kernel's rule, from what the tracer read while the
 *   caller was suspended in the call (the caller has usually exited by now).
 *
 * Inferred entries are marked `inferred`; a result that cannot be told stays "". Observation
 * only, like the tracer: the processes may have changed or gone by the time they are read.
 */

/** How long a learner call waits for its results to show (the next snapshot). */
export const INFER_AFTER_MS = 150;

interface Pending {
  scope: string;
  call: LearnerCall;
}

export class LearnerInference {
  private readonly labs = new Map<Lab, { queue: Pending[]; timer: NodeJS.Timeout | null; chain: Promise<void> }>();

  constructor(private readonly afterMs = INFER_AFTER_MS) {}

  /** A learner call of `lab` (the lab's hook): recorded in its trace once its results were looked for. */
  push(lab: Lab, scope: string, call: LearnerCall): void {
    let q = this.labs.get(lab);
    if (!q) {
      const made = { queue: [] as Pending[], timer: null as NodeJS.Timeout | null, chain: Promise.resolve() };
      this.labs.set(lab, made);
      lab.onDestroy(() => {
        if (made.timer) clearTimeout(made.timer);
        this.labs.delete(lab);
      });
      q = made;
    }
    const state = q;
    state.queue.push({ scope, call });
    if (state.timer) return;
    state.timer = setTimeout(() => {
      state.timer = null;
      const batch = state.queue.splice(0);
      // one batch at a time, in order
      state.chain = state.chain.then(async () => {
        let entries: TraceEntry[];
        try {
          entries = await inferBatch(batch, lab.initPid, () => lab.hostPids());
        } catch (e) {
          console.error("nslab: inferring the results of learner calls failed", e);
          entries = batch.map((p) => learnerEntry(p.scope, p.call));
        }
        for (const e of entries) lab.traceLog.addLearner(e);
      });
    }, this.afterMs);
    state.timer.unref?.();
  }
}

/** The entries of a batch of calls, in order, with inferred results and inferred calls among them. */
export async function inferBatch(batch: Pending[], initPid: number, labPids: () => Promise<number[]> = async () => []): Promise<TraceEntry[]> {
  let pids: Promise<number[]> | null = null;
  /** a live process in the mount namespace a call was made in: the caller, or (a `mount` or
   * `pivot_root` command has exited by now) another of the lab's, such as the shell that ran it */
  const witness = async (call: LearnerCall): Promise<number | null> => {
    const ns = call.nsBefore?.mnt;
    if (!ns) return null;
    if (sameNs(call.hostPid, "mnt", ns)) return call.hostPid;
    for (const p of await (pids ??= labPids().catch(() => []))) if (sameNs(p, "mnt", ns)) return p;
    return null;
  };
  const out: TraceEntry[] = [];
  const tables = new Map<number, Promise<MountEntry[] | null>>();
  const mounts = (pid: number) => {
    if (!tables.has(pid)) tables.set(pid, readMounts(pid));
    return tables.get(pid)!;
  };
  // forks inferred after an unshare(CLONE_NEWPID), placed before the child's own first call
  const forks: { child: number; entry: TraceEntry }[] = [];
  for (const { scope, call } of batch) {
    const pendingFork = forks.findIndex((f) => f.child === call.hostPid);
    if (pendingFork >= 0) out.push(forks.splice(pendingFork, 1)[0]!.entry);
    const e = learnerEntry(scope, call);
    if (!e.result) e.result = call.sys === "sethostname" || call.sys === "setdomainname" ? utsRule(call) : await resultOf(call, mounts, initPid, witness);
    out.push(e);
    if (call.sys === "unshare" && /CLONE_NEWPID/.test(call.args) && call.nsAfter) {
      // unshare forks right after the call; on a busy host that may come after our look: wait a
      // little longer while the caller lives
      let kids = childrenIn(call.hostPid, call.nsAfter.pid);
      for (let i = 0; !kids.length && i < 10 && fs.existsSync(`/proc/${call.hostPid}`); i++) {
        await new Promise((r) => setTimeout(r, 50));
        kids = childrenIn(call.hostPid, call.nsAfter.pid);
      }
      for (const child of kids) forks.push({ child: child.hostPid, entry: forkEntry(scope, call, child) });
    }
    if (call.sys === "unshare" && /CLONE_NEWUSER/.test(call.args) && call.nsAfter) out.push(...mapWrites(scope, call, initPid));
  }
  // forks whose child made no call in this batch: right after everything else of theirs
  for (const f of forks) out.push(f.entry);
  return out;
}

interface Child {
  hostPid: number;
  nspid: number[];
  comm: string;
}

/** The caller's children whose pid namespace is `pidNs` (the first process of a new one). */
function childrenIn(pid: number, pidNs: number): Child[] {
  const out: Child[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const kids = new Set<number>();
  for (const t of tasks) for (const k of (readText(`/proc/${pid}/task/${t}/children`) ?? "").split(" ")) if (k.trim()) kids.add(Number(k));
  for (const k of kids) {
    try {
      if (parseNsLink(fs.readlinkSync(`/proc/${k}/ns/pid`)) !== pidNs) continue;
    } catch {
      continue;
    }
    const st = parseStatus(readText(`/proc/${k}/status`) ?? "");
    if (st) out.push({ hostPid: k, nspid: st.nspid, comm: st.name });
  }
  return out;
}

function inferred(scope: string, call: LearnerCall, o: Pick<TraceEntry, "sys" | "args" | "result"> & { pid?: number; comm?: string }): TraceEntry {
  // the caller's entry, made to say what the lab's state showed
  return { ...learnerEntry(scope, call), sys: o.sys, args: o.args, pid: o.pid ?? call.labPid ?? undefined, comm: printable(o.comm ?? call.comm), result: o.result, inferred: true };
}

function forkEntry(scope: string, call: LearnerCall, child: Child): TraceEntry {
  // NSpid: [host, lab, ..., innermost]: its pid in the lab and in the new namespace
  const inLab = child.nspid[1];
  const inNew = child.nspid.at(-1);
  return inferred(scope, call, {
    sys: "clone",
    args: "SIGCHLD (a plain fork: no namespace flags)",
    result: `ok: child is PID ${inNew} of pid:[${call.nsAfter!.pid}]${inLab !== undefined ? `, PID ${inLab} in the lab` : ""}`,
    pid: call.labPid ?? undefined,
  });
}

/**
 * The new user namespace's maps, if they were written: as the tracer read them a moment after the
 * call (through files it opened while the caller was in the namespace: `unshare -Ur true` has
 * exited by now), else as the caller's (or its child's) /proc files show them now.
 */
function mapWrites(scope: string, call: LearnerCall, initPid: number): TraceEntry[] {
  const userNs = call.nsAfter!.user;
  let labUser: number | null = null;
  try {
    labUser = parseNsLink(fs.readlinkSync(`/proc/${initPid}/ns/user`));
  } catch {}
  // a live process in the new namespace, and that namespace's parent
  let holder: { pid: number; parent: number | null } | null | undefined;
  const live = () => {
    if (holder !== undefined) return holder;
    holder = null;
    for (const pid of [call.hostPid, ...childrenIn(call.hostPid, call.nsAfter!.pid).map((c) => c.hostPid)]) {
      try {
        if (parseNsLink(fs.readlinkSync(`/proc/${pid}/ns/user`)) !== userNs) continue;
      } catch {
        continue;
      }
      holder = { pid, parent: nsInfo(`/proc/${pid}/ns/user`)?.parent ?? null };
      break;
    }
    return holder;
  };
  const out: TraceEntry[] = [];
  for (const kind of ["uid", "gid"] as const) {
    // the new namespace's parent is the caller's user namespace before the call
    let seen: { map: IdMapLine[]; parent: number | null; how: string } | null = null;
    const recorded = parseIdMap(call.maps?.[kind] ?? "");
    if (recorded.length) seen = { map: recorded, parent: call.nsBefore?.user ?? null, how: "read just after the call" };
    else {
      const h = live();
      const map = h ? parseIdMap(readText(`/proc/${h.pid}/${kind}_map`) ?? "") : [];
      if (h && map.length) seen = { map, parent: h.parent, how: "seen in it" };
    }
    if (!seen) continue;
    // as the writer wrote it: in terms of the parent user namespace, when that is the lab's own
    // (we read host ids); else in host ids
    const labMap = seen.parent !== null && seen.parent === labUser ? parseIdMap(readText(`/proc/${initPid}/${kind}_map`) ?? "") : [];
    const lines = (labMap.length ? relativeToParent(seen.map, labMap) : seen.map).map((l) => `${l.inside} ${l.outside} ${l.count}`);
    out.push(
      inferred(scope, call, {
        sys: "write",
        args: `"/proc/${call.labPid ?? "self"}/${kind}_map", "${lines.join("\\n")}"`,
        result: `ok: the ${kind} map of user:[${userNs}] (${seen.how})`,
      }),
    );
  }
  return out;
}

/** Whatever the lab's state shows of what the call did; "" when it does not. */
async function resultOf(call: LearnerCall, mounts: (pid: number) => Promise<MountEntry[] | null>, initPid: number, witness: (c: LearnerCall) => Promise<number | null>): Promise<string> {
  if (call.sys !== "mount" && call.sys !== "pivot_root") return "";
  const seen = await witness(call);
  if (seen === null) return "";
  if (call.sys === "mount") {
    const a = parseMountArgs(call.args);
    if (!a || !a.target.startsWith("/") || /MS_REMOUNT|MS_MOVE/.test(a.flags)) return "";
    const table = await mounts(seen);
    if (!table) return "";
    const target = a.target.replace(/\/+$/, "") || "/";
    const at = table.filter((m) => m.mountPoint === target);
    if (/MS_(PRIVATE|SHARED|SLAVE|UNBINDABLE)/.test(a.flags) && !/MS_BIND/.test(a.flags)) {
      const want = /MS_PRIVATE/.test(a.flags) ? "private" : /MS_SHARED/.test(a.flags) ? "shared" : /MS_SLAVE/.test(a.flags) ? "slave" : "unbindable";
      const m = at.at(-1);
      if (!m) return "";
      const now = m.propagation.kind;
      return now === want ? `ok: ${target} is ${want} (its mount table)` : `${target} is ${now} (failed?)`;
    }
    const m = at.findLast((x) => /MS_BIND/.test(a.flags) || a.fstype === null || x.fsType === a.fstype);
    return m ? `ok: ${m.fsType} at ${target} (its mount table)` : `no ${a.fstype ?? ""} mount at ${target} in its mount table (failed?)`.replace("  ", " ");
  }
  if (call.sys === "pivot_root") {
    const root = rootOf(seen);
    const labRoot = rootOf(initPid);
    if (!root || !labRoot) return "";
    return root !== labRoot ? "ok: its mount namespace has a new root" : "its root is the lab's still (failed?)";
  }
  return "";
}

/**
 * sethostname/setdomainname: the kernel's rule is CAP_SYS_ADMIN in the user namespace that owns
 * the caller's UTS namespace (uts_namespaces(7), user_namespaces(7); kernel/sys.c). What it needs
 * was read by the tracer while the caller was suspended in the call and checked to be that call's
 * (SECCOMP_IOCTL_NOTIF_ID_VALID): the owner and where it is from the caller's user namespace, and
 * the caller's effective capabilities. A capability in a user namespace counts in its descendants
 * too, never in its ancestors.
 */
export function utsRule(call: Pick<LearnerCall, "args" | "nsBefore" | "utsOwner" | "capEff">): string {
  const uts = call.nsBefore?.uts;
  if (!uts || !call.utsOwner || call.capEff === null) return "";
  const admin = (call.capEff & CAP_SYS_ADMIN) !== 0n;
  const { up } = call.utsOwner;
  let ok: string;
  if (up === 0) {
    if (!admin) return "failed: no CAP_SYS_ADMIN in its user namespace (EPERM)";
    ok = `ok: root in the user namespace that owns uts:[${uts}]`;
  } else if (up > 0) {
    return `failed: uts:[${uts}] belongs to ${up === 1 ? "the parent" : "an ancestor"} of its user namespace (EPERM)`;
  } else {
    // the owner is not above the caller's: below it (a UTS namespace joined with setns, whose
    // user namespace the caller did not join), where the caller's capabilities count too
    if (!admin) return "";
    ok = `ok: root in an ancestor of the user namespace that owns uts:[${uts}]`;
  }
  // then the length: a name holds at most 64 bytes (__NEW_UTS_LEN)
  const len = /, (-?\d+)$/.exec(call.args);
  return len && (Number(len[1]) > 64 || Number(len[1]) < 0) ? "failed: longer than 64 bytes (EINVAL)" : ok;
}

const CAP_SYS_ADMIN = 1n << 21n;

/** Whether the process still lives in the namespace the call was made in. */
function sameNs(pid: number, type: "mnt", ino: number | undefined): boolean {
  if (!ino) return false;
  try {
    return parseNsLink(fs.readlinkSync(`/proc/${pid}/ns/${type}`)) === ino;
  } catch {
    return false;
  }
}

function rootOf(pid: number): string | null {
  try {
    const st = fs.statSync(`/proc/${pid}/root`);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

async function readMounts(pid: number): Promise<MountEntry[] | null> {
  const r = await readCapped(`/proc/${pid}/mountinfo`, MOUNTINFO_MAX_BYTES).catch(() => null);
  return r ? parseMountinfo(r.text) : null;
}

/** mount's decoded arguments: "src", "target", "type" or NULL, FLAGS, data. */
export function parseMountArgs(args: string): { target: string; fstype: string | null; flags: string } | null {
  const m = /^(?:"(?:[^"\\]|\\.)*"|NULL), "((?:[^"\\]|\\.)*)", (?:"((?:[^"\\]|\\.)*)"|NULL), ([A-Z_|0-9x]+)/.exec(args);
  if (!m) return null;
  return { target: m[1]!, fstype: m[2] ?? null, flags: m[3]! };
}
