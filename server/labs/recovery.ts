import "server-only";
import fs from "node:fs";
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
  for (const parent of parents) {
    let labs: fs.Dirent[];
    try {
      labs = fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory());
    } catch {
      continue;
    }
    for (const e of labs) {
      const dir = path.join(parent, e.name);
      // v2 (Linux 5.14+): cgroup.kill kills the whole subtree at once
      try {
        fs.writeFileSync(path.join(dir, "cgroup.kill"), "1");
      } catch {}
      const cg = { dirs: [dir], rootProcs: [], procsFiles: [], leaf: null, binds: [] };
      report.processes += (await sweeper.pids(cg)).length;
      await sweeper.destroy(cg);
      report.cgroups++;
    }
  }
  if (scope.uids) report.processes += await killUidRange(scope.uids, scope.procDir ?? "/proc");
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
async function killUidRange([first, end]: [number, number], procDir: string): Promise<number> {
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
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`processes under the lab uid range ${first}-${end - 1} could not be killed`);
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
