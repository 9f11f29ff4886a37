import "server-only";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

/**
 * Per-lab cgroups on cgroup v1 (one hierarchy per controller, as on this project's dev machine)
 * and v2 (one unified tree, most distributions). The server creates the lab's cgroup and writes
 * its limits before the lab exists; the native core moves the lab's first process in before it
 * runs. The lab's root owns its cgroup directory (delegation), so learners can create child
 * cgroups below it, but the limit files of the lab's own cgroup stay root-owned on the host.
 */
export type Controller = "pids" | "memory" | "cpu" | "freezer";
/** freezer (v1 only; v2 has cgroup.freeze in every cgroup) sets no limit: the lab gets it for the cgroups lesson. */
const CONTROLLERS: Controller[] = ["pids", "memory", "cpu", "freezer"];

export type CgroupLayout =
  | { version: 1; mounts: Partial<Record<Controller, string>> }
  | { version: 2; mount: string }
  | { version: 0; reason: string };

export interface Limits {
  pids: number;
  memoryBytes: number;
  cpuPercent: number;
}

/** Reads the host's cgroup mounts from /proc/self/mountinfo. */
export function detectCgroups(mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8")): CgroupLayout {
  const v1: Partial<Record<Controller, string>> = {};
  let v2: string | null = null;
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    const mountPoint = left[4]?.replace(/\\040/g, " ");
    if (!mountPoint) continue;
    if (fstype === "cgroup2") {
      let ctl = "";
      try {
        ctl = fs.readFileSync(path.join(mountPoint, "cgroup.controllers"), "utf8");
      } catch {}
      const have = new Set(ctl.trim().split(/\s+/));
      if (have.has("pids") && have.has("memory") && !v2) v2 = mountPoint;
    } else if (fstype === "cgroup") {
      const opts = new Set((superOpts ?? "").split(","));
      for (const c of CONTROLLERS) if (opts.has(c) && !v1[c]) v1[c] = mountPoint;
    }
  }
  if (v2) return { version: 2, mount: v2 };
  if (v1.pids && v1.memory) return { version: 1, mounts: v1 };
  return { version: 0, reason: "no cgroup hierarchy with the pids and memory controllers is mounted" };
}

export interface LabCgroup {
  /** cgroup.procs files the native core writes the lab's pid into */
  procsFiles: string[];
  /** (host dir, path inside the lab) pairs to bind into the lab's /sys/fs/cgroup */
  binds: [string, string][];
  dirs: string[];
}

export class Cgroups {
  constructor(readonly layout: CgroupLayout, private readonly parentName = "nslab") {}

  get version(): 0 | 1 | 2 {
    return this.layout.version;
  }

  /** Creates the parent directories and, on v2, enables the controllers for children. */
  prepare(): void {
    const L = this.layout;
    if (L.version === 1) {
      for (const mnt of Object.values(L.mounts)) fs.mkdirSync(path.join(mnt!, this.parentName), { recursive: true });
    } else if (L.version === 2) {
      const parent = path.join(L.mount, this.parentName);
      fs.mkdirSync(parent, { recursive: true });
      const want = ["pids", "memory", "cpu"].filter((c) => fs.readFileSync(path.join(L.mount, "cgroup.controllers"), "utf8").split(/\s+/).includes(c));
      const enable = want.map((c) => `+${c}`).join(" ");
      fs.writeFileSync(path.join(L.mount, "cgroup.subtree_control"), enable);
      fs.writeFileSync(path.join(parent, "cgroup.subtree_control"), enable);
    }
  }

  create(id: string, limits: Limits, owner: { uid: number; gid: number } | null, op: TraceOp = (_s, _a, fn) => fn()): LabCgroup {
    const L = this.layout;
    const write = (dir: string, file: string, value: string) =>
      op("write", `"${path.join(dir, file)}", "${value}"`, () => fs.writeFileSync(path.join(dir, file), value));
    const tryWrite = (dir: string, file: string, value: string) => {
      if (fs.existsSync(path.join(dir, file))) write(dir, file, value);
    };
    const mkdir = (dir: string) => op("mkdir", `"${dir}", 0755`, () => fs.mkdirSync(dir));
    const made: LabCgroup = { procsFiles: [], binds: [], dirs: [] };
    try {
      if (L.version === 1) {
        for (const c of CONTROLLERS) {
          const mnt = L.mounts[c];
          if (!mnt) continue;
          const dir = path.join(mnt, this.parentName, id);
          mkdir(dir);
          made.dirs.push(dir);
          if (c === "pids") write(dir, "pids.max", String(limits.pids));
          if (c === "memory") {
            write(dir, "memory.limit_in_bytes", String(limits.memoryBytes));
            tryWrite(dir, "memory.memsw.limit_in_bytes", String(limits.memoryBytes)); // no swap escape
          }
          if (c === "cpu") {
            write(dir, "cpu.cfs_period_us", "100000");
            write(dir, "cpu.cfs_quota_us", String(limits.cpuPercent * 1000));
          }
          if (owner) op("chown", `"${dir}", ${owner.uid}, ${owner.gid}`, () => delegate(dir, owner, ["cgroup.procs", "tasks"]));
          made.procsFiles.push(path.join(dir, "cgroup.procs"));
          made.binds.push([dir, `/sys/fs/cgroup/${c}`]);
        }
      } else if (L.version === 2) {
        const dir = path.join(L.mount, this.parentName, id);
        mkdir(dir);
        made.dirs.push(dir);
        write(dir, "pids.max", String(limits.pids));
        write(dir, "memory.max", String(limits.memoryBytes));
        tryWrite(dir, "memory.swap.max", "0");
        tryWrite(dir, "cpu.max", `${limits.cpuPercent * 1000} 100000`);
        if (owner) op("chown", `"${dir}", ${owner.uid}, ${owner.gid}`, () => delegate(dir, owner, ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"]));
        // v2 forbids processes in a cgroup that hands controllers to its children ("no internal
        // processes", cgroups(7)); the lab's processes live in a leaf, so the lab's root may
        // enable controllers for cgroups of its own beside it.
        const leaf = path.join(dir, "init");
        mkdir(leaf);
        if (owner) op("chown", `"${leaf}", ${owner.uid}, ${owner.gid}`, () => delegate(leaf, owner, ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"]));
        made.procsFiles.push(path.join(leaf, "cgroup.procs"));
        made.binds.push([dir, "/sys/fs/cgroup"]);
      }
    } catch (err) {
      for (const d of made.dirs) fs.rmSync(d, { recursive: false, force: true });
      throw err;
    }
    return made;
  }

  /** Host pids in a lab's cgroups, children included. */
  async pids(cg: LabCgroup): Promise<number[]> {
    const out = new Set<number>();
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        const procs = await fsp.readFile(path.join(dir, "cgroup.procs"), "utf8");
        for (const p of procs.split("\n")) if (p) out.add(Number(p));
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => walk(path.join(dir, e.name))));
    };
    // every process is in exactly one cgroup of each hierarchy: one hierarchy lists them all
    if (cg.dirs[0]) await walk(cg.dirs[0]);
    return [...out];
  }

  /** The same, read synchronously: a handful of cgroupfs reads, for frequent cheap polls. */
  pidsSync(cg: LabCgroup): number[] {
    const out: number[] = [];
    const walk = (dir: string): void => {
      try {
        for (const p of fs.readFileSync(path.join(dir, "cgroup.procs"), "latin1").split("\n")) if (p) out.push(Number(p));
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
      } catch {}
    };
    if (cg.dirs[0]) walk(cg.dirs[0]);
    return out;
  }

  /** Memory in use (page cache included, as the limit counts it) and the number of tasks; null where unreadable. */
  usage(cg: LabCgroup): { memoryBytes: number | null; pids: number | null; cpuSeconds?: number | null } {
    const L = this.layout;
    const read = (file: string | null): number | null => {
      if (!file) return null;
      try {
        const v = Number(fs.readFileSync(file, "latin1").trim());
        return Number.isFinite(v) ? v : null;
      } catch {
        return null;
      }
    };
    if (L.version === 2) {
      const d = cg.dirs[0] ?? null;
      let cpu: number | null = null;
      try {
        const usec = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(d!, "cpu.stat"), "latin1"))?.[1];
        cpu = usec ? Number(usec) / 1e6 : null;
      } catch {}
      return { memoryBytes: read(d && path.join(d, "memory.current")), pids: read(d && path.join(d, "pids.current")), cpuSeconds: cpu };
    }
    if (L.version === 1) {
      const dir = (c: Controller) => cg.dirs.find((d) => L.mounts[c] && d.startsWith(L.mounts[c] + "/")) ?? null;
      const m = dir("memory");
      const p = dir("pids");
      const c = dir("cpu");
      // cpuacct.usage where cpu and cpuacct share a hierarchy; else the lab's processes' own times
      const ns = read(c && path.join(c, "cpuacct.usage"));
      const cpuSeconds = ns !== null ? ns / 1e9 : processCpuSeconds(this.pidsSync(cg));
      return { memoryBytes: read(m && path.join(m, "memory.usage_in_bytes")), pids: read(p && path.join(p, "pids.current")), cpuSeconds };
    }
    return { memoryBytes: null, pids: null };
  }

  /** Thaws every cgroup of the lab the learner froze (v1 freezer, v2 cgroup.freeze), so its tasks can die. */
  async thaw(cg: LabCgroup): Promise<void> {
    for (const dir of cg.dirs) await thawTree(dir);
  }

  /** Kills whatever is left and removes the lab's cgroups, children first. */
  async destroy(cg: LabCgroup): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      // a frozen task cannot act on SIGKILL (v1 freezer) and a frozen cgroup keeps it: thaw first
      await this.thaw(cg);
      const left = await this.pids(cg);
      for (const pid of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      let busy = false;
      for (const dir of cg.dirs) busy = !(await removeTree(dir)) || busy;
      if (!busy) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`cgroups of a lab could not be removed: ${cg.dirs.join(", ")}`);
  }
}

/** Runs one filesystem step, letting the caller record it in the lab's trace. */
export type TraceOp = (sys: string, args: string, fn: () => void) => void;

function delegate(dir: string, owner: { uid: number; gid: number }, files: string[]): void {
  fs.chownSync(dir, owner.uid, owner.gid);
  for (const f of files) {
    try {
      fs.chownSync(path.join(dir, f), owner.uid, owner.gid);
    } catch {}
  }
}

/** Thaws a cgroup and every child the lab froze: v1 freezer.state, v2 cgroup.freeze. */
async function thawTree(dir: string): Promise<void> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const [file, thawed] of [["freezer.state", "THAWED"], ["cgroup.freeze", "0"]] as const) {
    try {
      if ((await fsp.readFile(path.join(dir, file), "utf8")).trim() !== thawed) await fsp.writeFile(path.join(dir, file), thawed);
    } catch {}
  }
  for (const e of entries) if (e.isDirectory()) await thawTree(path.join(dir, e.name));
}

/** rmdir a cgroup and every child cgroup below it; false while something is still busy. */
async function removeTree(dir: string): Promise<boolean> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
  let ok = true;
  for (const e of entries) if (e.isDirectory()) ok = (await removeTree(path.join(dir, e.name))) && ok;
  try {
    await fsp.rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") ok = false;
  }
  return ok;
}

/** CLK_TCK on Linux (USER_HZ is 100 on every architecture Node runs on) */
const TICKS_PER_SECOND = 100;

/**
 * CPU time of these processes and of their reaped children (utime + stime + cutime + cstime from
 * /proc/PID/stat): a lab's cumulative CPU where no cpuacct counter is at hand. Children's time
 * moves into their parent's cutime when they are reaped, and the lab's init reaps every orphan.
 */
function processCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields 14-17 of proc(5), counted from after the command name (which starts at field 3)
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {}
  }
  return ticks / TICKS_PER_SECOND;
}
