import "server-only";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Cgroups } from "./cgroup.ts";

/**
 * What a server killed outright (kill -9, OOM killer, power cut of the process) leaves behind, and
 * how the next start removes it. Every lab process dies with the server (PR_SET_PDEATHSIG on the
 * lab's init, and the kernel kills a pid namespace with its init), but the labs' cgroup
 * directories stay, and so do the state directory's files. The next start, before it makes any
 * lab, removes everything below this instance's own cgroup parent in every cgroup hierarchy
 * (killing whatever still runs there), every process still running under this instance's host uid
 * range (so a range handed to a new lab is really free), and the state directory's contents.
 *
 * It only ever touches this instance's configured cgroup parent, uid range and state directory;
 * a lock in the state directory makes sure no other live server uses the same ones.
 */

export interface RecoveryScope {
  stateDir: string;
  /** the cgroup directory name (NSLAB_CGROUP_PARENT) this instance makes labs under */
  cgroupParent: string;
  /** where else labs' cgroups may be (cgroup v2 inside a systemd unit with Delegate=yes: labParents()) */
  parents?: string[];
  /** [first, end) host uids of this instance's labs; null in rootless mode (labs run as us) */
  uids: [number, number] | null;
  mountinfo?: string;
  procDir?: string;
}

export interface RecoveryReport {
  /** lab cgroup directories removed (each hierarchy counts) */
  cgroups: number;
  /** processes killed: in those cgroups, or running as one of the instance's lab uids */
  processes: number;
  /** entries of the state directory removed */
  stateEntries: number;
}

/** Every cgroup hierarchy mounted on this host (v1 controllers and v2), from mountinfo. */
export function cgroupMounts(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(" ")[0];
    const mp = line.slice(0, sep).split(" ")[4]?.replace(/\\040/g, " ");
    if (mp && (fstype === "cgroup" || fstype === "cgroup2") && !out.includes(mp)) out.push(mp);
  }
  return out;
}

/** Files nslab writes into its state directory; nothing else there is ever removed. */
const STATE_ENTRIES = ["etc", "root"];

export async function recover(scope: RecoveryScope): Promise<RecoveryReport> {
  const report: RecoveryReport = { cgroups: 0, processes: 0, stateEntries: 0 };
  const mountinfo = scope.mountinfo ?? fs.readFileSync("/proc/self/mountinfo", "utf8");
  // one Cgroups helper per leftover directory: its destroy() kills what is left and rmdirs children first
  const sweeper = new Cgroups({ version: 0, reason: "recovery" }, scope.cgroupParent);
  const parents = new Set([...cgroupMounts(mountinfo).map((m) => path.join(m, scope.cgroupParent)), ...(scope.parents ?? [])]);
  const labDirs: string[] = [];
  for (const parent of parents) {
    try {
      for (const e of fs.readdirSync(parent, { withFileTypes: true })) if (e.isDirectory()) labDirs.push(path.join(parent, e.name));
    } catch {}
  }
  // A learner may have frozen a child cgroup (the cgroups lesson's `docker pause`). A frozen task
  // does not act on SIGKILL (v1 freezer) and keeps its cgroups busy in every hierarchy, so thaw
  // all of them before killing in any one: on v1 the freezer is a hierarchy of its own, and the
  // pids hierarchy may come first in mountinfo.
  await sweeper.thaw({ dirs: labDirs, rootProcs: [], procsFiles: [], leaf: null, binds: [] });
  for (const dir of labDirs) {
    // v2 (Linux 5.14+): cgroup.kill kills the whole subtree at once
    try {
      fs.writeFileSync(path.join(dir, "cgroup.kill"), "1");
    } catch {}
    const cg = { dirs: [dir], rootProcs: [], procsFiles: [], leaf: null, binds: [] };
    report.processes += (await sweeper.pids(cg)).length;
    await sweeper.destroy(cg);
    report.cgroups++;
  }
  if (scope.uids) report.processes += await killUidRange(scope.uids, scope.procDir ?? "/proc", freezers(mountinfo));
  for (const name of STATE_ENTRIES) {
    const p = path.join(scope.stateDir, name);
    if (!fs.existsSync(p)) continue;
    // the staging root is only ever a mount point inside labs' own mount namespaces: an empty
    // directory on the host. rmdir, never a recursive delete, in case something is mounted there.
    if (name === "root") fs.rmdirSync(p);
    else fs.rmSync(p, { recursive: true, force: true });
    report.stateEntries++;
  }
  return report;
}

/** Kills every live process whose real, effective, saved or fs uid is in [first, end), and waits for them. */
async function killUidRange([first, end]: [number, number], procDir: string, hierarchies: FreezerHierarchy[]): Promise<number> {
  const inRange = (): number[] => {
    const pids: number[] = [];
    for (const name of fs.readdirSync(procDir)) {
      if (!/^\d+$/.test(name)) continue;
      let status: string;
      try {
        status = fs.readFileSync(path.join(procDir, name, "status"), "latin1");
      } catch {
        continue; // gone meanwhile
      }
      if (/^State:\s+[ZX]/m.test(status)) continue; // dead, waiting for its parent to reap it
      const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
      if (uids.some((u) => u >= first && u < end)) pids.push(Number(name));
    }
    return pids;
  };
  const found = inRange();
  for (let attempt = 0; attempt < 250; attempt++) {
    const left = attempt === 0 ? found : inRange();
    if (!left.length) return found.length;
    for (const pid of left) {
      // it may sit in a frozen cgroup outside this instance's parent (an instance that shared the
      // uid range before and died, a learner's cgroup moved elsewhere): thaw it, or it never dies
      await thawCgroupsOf(pid, procDir, hierarchies);
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`processes under the lab uid range ${first}-${end - 1} could not be killed`);
}

/** A hierarchy that can freeze: the v1 freezer's, or cgroup2 (cgroup.freeze in every non-root cgroup). */
interface FreezerHierarchy {
  /** "freezer" for v1 (the controller in /proc/PID/cgroup's second field), "" for v2 */
  controller: string;
  mount: string;
  /** the cgroup the mount shows as its root (mountinfo's fourth field) */
  root: string;
  file: "freezer.state" | "cgroup.freeze";
  thawed: string;
}

/** The freezer hierarchies mounted here, from mountinfo. */
export function freezers(mountinfo: string): FreezerHierarchy[] {
  const out: FreezerHierarchy[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    const mount = left[4]?.replace(/\\040/g, " ");
    const root = left[3]?.replace(/\\040/g, " ");
    if (!mount || !root) continue;
    if (fstype === "cgroup2" && !out.some((h) => h.controller === "")) out.push({ controller: "", mount, root, file: "cgroup.freeze", thawed: "0" });
    if (fstype === "cgroup" && (superOpts ?? "").split(",").includes("freezer") && !out.some((h) => h.controller === "freezer"))
      out.push({ controller: "freezer", mount, root, file: "freezer.state", thawed: "THAWED" });
  }
  return out;
}

/**
 * Thaws the cgroups a process sits in (and their frozen ancestors: a cgroup below a frozen one
 * stays frozen whatever its own file says; cgroup-v2.rst "Core Interface Files", cgroup.freeze;
 * Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst, parent_freezing).
 */
async function thawCgroupsOf(pid: number, procDir: string, hierarchies: FreezerHierarchy[]): Promise<void> {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(procDir, String(pid), "cgroup"), "utf8").split("\n");
  } catch {
    return; // gone
  }
  for (const line of lines) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const h = hierarchies.find((x) => (m[1] === "0" ? x.controller === "" : m[2]!.split(",").includes(x.controller) && x.controller !== ""));
    if (!h) continue;
    const rel = path.posix.relative(h.root, m[3]!);
    if (rel.startsWith("..")) continue; // outside what this mount shows
    const parts = rel.split("/").filter(Boolean);
    // outermost first: a child cannot thaw while its parent is frozen
    for (let i = 1; i <= parts.length; i++) {
      const f = path.join(h.mount, ...parts.slice(0, i), h.file);
      try {
        if ((await fsp.readFile(f, "utf8")).trim() !== h.thawed) await fsp.writeFile(f, h.thawed);
      } catch {}
    }
  }
}

/**
 * Claims the state directory for this process: one live server per state directory (and so per
 * cgroup parent and uid range, which the operator gives each instance together). A lock left by a
 * server that died is taken over. Returns the release function.
 */
export function lockStateDir(stateDir: string): () => void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const lock = path.join(stateDir, "server.lock");
  const me = `${process.pid} ${startTime(process.pid)}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lock, me, { flag: "wx", mode: 0o644 });
      const release = () => {
        try {
          if (fs.readFileSync(lock, "utf8") === me) fs.unlinkSync(lock);
        } catch {}
      };
      process.once("exit", release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = "";
    try {
      holder = fs.readFileSync(lock, "utf8");
    } catch {
      continue;
    }
    const [pid, start] = holder.split(" ");
    if (pid && start && startTime(Number(pid)) === start)
      throw new StateDirBusyError(`another nslab server (pid ${pid}) uses the state directory ${stateDir}. Two servers on one host need their own NSLAB_STATE_DIR, NSLAB_CGROUP_PARENT and NSLAB_UID_BASE.`);
    // its server is gone: take the lock over (a stale lock is what kill -9 leaves)
    try {
      fs.unlinkSync(lock);
    } catch {}
  }
  throw new StateDirBusyError(`could not lock the state directory ${stateDir}`);
}

export class StateDirBusyError extends Error {}

/** A process's start time (clock ticks since boot), which tells a live pid from a reused one. */
function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    // the command name may hold spaces and parentheses: fields count from the last ")"
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}
