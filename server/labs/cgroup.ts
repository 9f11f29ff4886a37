import "server-only";
import { execFile, spawnSync } from "node:child_process";
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
  /** `others`: every other hierarchy mounted (cpuset, freezer, name=systemd, a hybrid cgroup2...),
   * one mount point each: a lab gets a cgroup of its own there too, without limits (finding 11) */
  | { version: 1; mounts: Partial<Record<Controller, string>>; others?: string[] }
  | { version: 2; mount: string }
  | { version: 0; reason: string };

export interface Limits {
  pids: number;
  memoryBytes: number;
  cpuPercent: number;
  /** v1: memory.kmem.tcp.limit_in_bytes */
  tcpBytes?: number;
  /** v2: cgroup.max.descendants */
  cgroups?: number;
}

/** Reads the host's cgroup mounts from /proc/self/mountinfo. */
export function detectCgroups(mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8")): CgroupLayout {
  const v1: Partial<Record<Controller, string>> = {};
  let v2: string | null = null;
  const all: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    const mountPoint = left[4]?.replace(/\\040/g, " ");
    if (!mountPoint) continue;
    if (fstype === "cgroup" || fstype === "cgroup2") all.push(mountPoint);
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
  if (v1.pids && v1.memory) {
    // one mount point per hierarchy (a hierarchy mounted twice is one superblock)
    const seen = new Set(Object.values(v1).map((m) => devOf(m!)));
    const others: string[] = [];
    for (const m of all) {
      const dev = devOf(m);
      if (dev === null || seen.has(dev)) continue;
      seen.add(dev);
      others.push(m);
    }
    return { version: 1, mounts: v1, others };
  }
  return { version: 0, reason: "no cgroup hierarchy with the pids and memory controllers is mounted" };
}

/** The super-block options of the cgroup2 mount at `mountPoint` (nsdelegate, memory_recursiveprot...). */
export function cgroup2Options(mountPoint: string, mountinfo = fs.readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0 || line.slice(0, sep).split(" ")[4]?.replace(/\\040/g, " ") !== mountPoint) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(" ");
    if (fstype === "cgroup2") return (superOpts ?? "").split(",");
  }
  return [];
}

function devOf(mountPoint: string): number | null {
  try {
    return fs.statSync(mountPoint).dev;
  } catch {
    return null;
  }
}

export interface LabCgroup {
  /**
   * cgroup.procs files the native core puts a new lab's first process into before it unshares its
   * cgroup namespace: the cgroup that becomes the namespace's root, and the one bound at the lab's
   * /sys/fs/cgroup, so that the two are the same directory.
   */
  rootProcs: string[];
  /** cgroup.procs files every later process of the lab (terminal, check) joins */
  procsFiles: string[];
  /** v2: the leaf that holds the lab's processes (init is moved there once the lab exists) */
  leaf: { dir: string; owner: { uid: number; gid: number } | null } | null;
  /** (host dir, path inside the lab) pairs to bind into the lab's /sys/fs/cgroup */
  binds: [string, string][];
  dirs: string[];
  /** the lab's own directories, where it may make child cgroups (v1: pids, memory, cpu, freezer) */
  delegated?: string[];
}

export class Cgroups {
  /** v2: the directory labs' cgroups are made in (set by prepare) */
  private v2Parent: string | null = null;
  /** v1: the other hierarchies a lab gets a cgroup in; one we cannot write (read-only) is left out */
  private others: string[];
  /**
   * Whether a control file exists in a hierarchy, by "<parent dir>/<file>": the same for every lab's
   * cgroup there (a controller's files), so each lab's creation does not ask again (on v1 that was
   * ~16 lookups in cgroupfs per lab, on the event loop).
   */
  private readonly hasFile = new Map<string, boolean>();

  constructor(readonly layout: CgroupLayout, private readonly parentName = "nslab") {
    this.others = layout.version === 1 ? [...(layout.others ?? [])] : [];
  }

  get version(): 0 | 1 | 2 {
    return this.layout.version;
  }

  /**
   * The directories labs' cgroups are made in: one per hierarchy on v1; on v2 one, inside the
   * server's own systemd unit when the unit delegates its cgroup (see prepare), else at the top.
   */
  parentDirs(): string[] {
    const L = this.layout;
    if (L.version === 1) return [...Object.values(L.mounts), ...this.others].map((m) => path.join(m!, this.parentName));
    if (L.version === 2) return [this.v2Parent ?? path.join(L.mount, this.parentName)];
    return [];
  }

  /**
   * Creates the parent directories and, on v2, enables the controllers for children.
   *
   * v2 under systemd: if the server runs in a unit with Delegate=yes, that unit's cgroup is the
   * server's to manage (systemd's delegation contract), so labs go inside it, where the unit's own
   * limits (MemoryMax=, TasksMax=, CPUQuota=) bound all labs together and stopping the unit ends
   * them all. The unit's cgroup must then hold no process itself ("no internal processes"), so the
   * server first moves the unit's processes into a leaf, `server`. Without delegation (a shell,
   * a unit without Delegate=yes) labs go at the top of the tree, as Docker's cgroupfs driver does.
   */
  prepare(): void {
    const L = this.layout;
    if (L.version === 1) {
      for (const mnt of Object.values(L.mounts)) fs.mkdirSync(path.join(mnt!, this.parentName), { recursive: true });
      // the other hierarchies only keep the lab from seeing the host's tree there (finding 11): one
      // the server cannot write (mounted read-only in a container, say) is left out, not fatal
      this.others = this.others.filter((mnt) => {
        const dir = path.join(mnt, this.parentName);
        try {
          fs.mkdirSync(dir, { recursive: true });
          inheritCpuset(dir);
          return true;
        } catch (e) {
          console.error(`nslab: labs get no cgroup of their own in ${mnt} (${(e as Error).message}); they can mount it and see its tree`);
          return false;
        }
      });
    } else if (L.version === 2) {
      const unit = delegatedUnit(L.mount);
      const base = unit?.dir ?? L.mount;
      const have = fs.readFileSync(path.join(L.mount, "cgroup.controllers"), "utf8").split(/\s+/);
      const enable = CONTROLLERS.filter((c) => have.includes(c)).map((c) => `+${c}`).join(" ");
      if (unit) vacate(unit.dir);
      fs.writeFileSync(path.join(base, "cgroup.subtree_control"), enable);
      const parent = path.join(base, this.parentName);
      fs.mkdirSync(parent, { recursive: true });
      fs.writeFileSync(path.join(parent, "cgroup.subtree_control"), enable);
      this.v2Parent = parent;
    }
  }

  /** Removes the parent directories once no lab is left in them (a busy one stays: another instance's). */
  release(): void {
    for (const dir of this.parentDirs()) {
      try {
        fs.rmdirSync(dir);
      } catch {}
    }
  }

  create(id: string, limits: Limits, owner: { uid: number; gid: number } | null, op: TraceOp = (_s, _a, fn) => fn()): LabCgroup {
    const L = this.layout;
    const write = (dir: string, file: string, value: string) =>
      op("write", `"${path.join(dir, file)}", "${value}"`, () => fs.writeFileSync(path.join(dir, file), value));
    const has = (dir: string, file: string) => {
      const key = path.join(path.dirname(dir), file);
      let h = this.hasFile.get(key);
      if (h === undefined) this.hasFile.set(key, (h = fs.existsSync(path.join(dir, file))));
      return h;
    };
    const tryWrite = (dir: string, file: string, value: string) => {
      if (has(dir, file)) write(dir, file, value);
    };
    const rollback: string[] = []; // every directory made, parents first
    const mkdir = (dir: string) => op("mkdir", `"${dir}", 0755`, () => (fs.mkdirSync(dir), rollback.push(dir)));
    const made: LabCgroup = { rootProcs: [], procsFiles: [], leaf: null, binds: [], dirs: [], delegated: [] };
    // the parents go when the last lab of an instance that shut down goes (release): make them again
    if (!this.parentDirs().every((d) => fs.existsSync(d))) this.prepare();
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
            // v1 counts socket buffers apart from memory.limit_in_bytes, and only once this limit
            // is written (a lab queued 803 MiB on loopback with 7 MiB charged: finding 5)
            if (limits.tcpBytes) tryWrite(dir, "memory.kmem.tcp.limit_in_bytes", String(limits.tcpBytes));
          }
          if (c === "cpu") {
            write(dir, "cpu.cfs_period_us", "100000");
            write(dir, "cpu.cfs_quota_us", String(limits.cpuPercent * 1000));
          }
          // lesson 10 makes child cgroups in each of these four; the other hierarchies (below) stay
          // the host's, so the lab cannot make cgroups there
          // (v1 cannot cap how many the lab makes: the server counts them, cgroup-guard.ts)
          if (owner) {
            op("chown", `"${dir}", ${owner.uid}, ${owner.gid}`, () => delegate(dir, owner, ["cgroup.procs", "tasks"]));
            made.delegated!.push(dir);
          }
          made.rootProcs.push(path.join(dir, "cgroup.procs"));
          made.procsFiles.push(path.join(dir, "cgroup.procs"));
          made.binds.push([dir, `/sys/fs/cgroup/${c}`]);
        }
        // A cgroup of its own in every other hierarchy, before the lab's cgroup namespace exists:
        // the namespace's root is then the lab's cgroup there too, and mounting such a hierarchy in
        // the lab shows the lab's subtree, not the host's tree (finding 11). No limits, not the lab's.
        for (const mnt of this.others) {
          const dir = path.join(mnt, this.parentName, id);
          mkdir(dir);
          made.dirs.push(dir);
          if (has(dir, "cpuset.cpus")) inheritCpuset(dir);
          made.rootProcs.push(path.join(dir, "cgroup.procs"));
          made.procsFiles.push(path.join(dir, "cgroup.procs"));
        }
      } else if (L.version === 2) {
        const dir = path.join(this.parentDirs()[0]!, id);
        mkdir(dir);
        made.dirs.push(dir);
        write(dir, "pids.max", String(limits.pids));
        write(dir, "memory.max", String(limits.memoryBytes));
        tryWrite(dir, "memory.swap.max", "0");
        tryWrite(dir, "cpu.max", `${limits.cpuPercent * 1000} 100000`);
        // a lab makes at most this many cgroups below its own (30,000 made every walk of the tree
        // slow, and memory cgroup ids are a host-wide 65,535: findings 2 and 6); +1 for the leaf
        // `init` below. The kernel checks every ancestor's limit, so the lab cannot raise it by
        // writing a higher one in a cgroup of its own.
        if (limits.cgroups) tryWrite(dir, "cgroup.max.descendants", String(limits.cgroups + 1));
        if (owner) {
          op("chown", `"${dir}", ${owner.uid}, ${owner.gid}`, () => delegate(dir, owner, V2_DELEGATED));
          made.delegated!.push(dir);
        }
        // The lab's cgroup namespace is rooted at `dir`, and `dir` is what the lab sees at
        // /sys/fs/cgroup: the first process is born in `dir`, unshares its cgroup namespace there
        // (native/src/cgroup.c), and only then moves down into the leaf `init`, where every later
        // process of the lab starts too. Why a leaf: v2 lets a cgroup hand controllers to its
        // children only while it holds no processes itself ("no internal processes",
        // cgroups(7)), so the lab's root stays empty and the lab's root user may enable
        // controllers in it for cgroups of their own. Under nsdelegate the namespace root is a
        // delegation boundary: the lab can move its processes anywhere below it (and nowhere
        // else), and cannot write the limits of `dir` itself.
        const leaf = path.join(dir, "init");
        mkdir(leaf);
        if (owner) op("chown", `"${leaf}", ${owner.uid}, ${owner.gid}`, () => delegate(leaf, owner, V2_DELEGATED));
        made.rootProcs.push(path.join(dir, "cgroup.procs"));
        made.procsFiles.push(path.join(leaf, "cgroup.procs"));
        made.leaf = { dir: leaf, owner };
        made.binds.push([dir, "/sys/fs/cgroup"]);
      }
    } catch (err) {
      for (const d of rollback.reverse()) {
        try {
          fs.rmdirSync(d);
        } catch {}
      }
      throw err;
    }
    return made;
  }

  /**
   * Once the lab exists (its cgroup namespace is rooted at the lab's cgroup), moves its init down
   * into the leaf on v2. Nothing to do on v1, where processes may live beside child cgroups.
   */
  settle(cg: LabCgroup, initPid: number, op: TraceOp = (_s, _a, fn) => fn()): void {
    if (!cg.leaf) return;
    const procs = path.join(cg.leaf.dir, "cgroup.procs");
    op("write", `"${procs}", "${initPid}"`, () => fs.writeFileSync(procs, String(initPid)));
  }

  /**
   * The leaf that new processes join, made again if the lab removed it (its root may: the leaf is
   * its own). Without it no terminal or check could start in the lab.
   */
  ensureLeaf(cg: LabCgroup): void {
    const leaf = cg.leaf;
    if (!leaf || fs.existsSync(leaf.dir)) return;
    try {
      fs.mkdirSync(leaf.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (leaf.owner) delegate(leaf.dir, leaf.owner, V2_DELEGATED);
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

  /**
   * Memory in use (page cache included, as the limit counts it) and the number of tasks; null where
   * unreadable. `pids`: the lab's processes, for its CPU time where no cpuacct counter is at hand.
   */
  usage(cg: LabCgroup, pids: () => number[] = () => this.pidsSync(cg)): { memoryBytes: number | null; pids: number | null; cpuSeconds?: number | null } {
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
      // cpuacct.usage, in whichever hierarchy cpuacct is (with cpu, or alone: the lab has a cgroup
      // in every hierarchy); else the lab's processes' own times
      const acct = [c, ...cg.dirs].find((d) => d && fs.existsSync(path.join(d, "cpuacct.usage")));
      const ns = read(acct ? path.join(acct, "cpuacct.usage") : null);
      const cpuSeconds = ns !== null ? ns / 1e9 : processCpuSeconds(pids());
      return { memoryBytes: read(m && path.join(m, "memory.usage_in_bytes")), pids: read(p && path.join(p, "pids.current")), cpuSeconds };
    }
    return { memoryBytes: null, pids: null };
  }

  /**
   * Freezes the whole lab at once (v1: its freezer cgroup, whose state its own child cgroups cannot
   * undo; v2: cgroup.freeze): a lab about to be ended for what it is doing stops doing it now, not
   * once its init gets the CPU to die. destroy() kills, then thaws.
   */
  freeze(cg: LabCgroup): void {
    const L = this.layout;
    const dir = L.version === 2 ? cg.dirs[0] : L.version === 1 ? cg.dirs.find((d) => L.mounts.freezer && d.startsWith(L.mounts.freezer + "/")) : undefined;
    if (!dir) return;
    try {
      fs.writeFileSync(path.join(dir, L.version === 2 ? "cgroup.freeze" : "freezer.state"), L.version === 2 ? "1" : "FROZEN");
    } catch {}
  }

  /** Thaws every cgroup of the lab the learner froze (v1 freezer, v2 cgroup.freeze), so its tasks can die. */
  async thaw(cg: LabCgroup): Promise<void> {
    const L = this.layout;
    // only the hierarchy that can freeze: a lab's thousands of pids or memory cgroups are not read
    const freezer = L.version === 1 ? L.mounts.freezer : undefined;
    const dirs = L.version === 2 ? cg.dirs.slice(0, 1) : L.version === 1 ? cg.dirs.filter((d) => freezer && d.startsWith(freezer + "/")) : cg.dirs;
    for (const dir of dirs) await thawTree(dir);
  }

  /** Kills whatever is left and removes the lab's cgroups, children first. */
  async destroy(cg: LabCgroup): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      // a frozen task cannot act on SIGKILL (v1 freezer) and a frozen cgroup keeps it: thaw first
      await this.thaw(cg);
      // one walk per round: each cgroup is removed, and whatever still runs in one that is busy is killed
      let busy = false;
      for (const dir of cg.dirs) busy = (await removeTree(dir)) !== true || busy;
      if (!busy) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`cgroups of a lab could not be removed: ${cg.dirs.join(", ")}`);
  }
}

/**
 * The files a v2 delegatee gets beside the directory itself (Documentation/admin-guide/cgroup-v2.rst,
 * "Delegation Containment"): enough to make cgroups below, move processes between them and enable
 * controllers for them; the limits of the delegated cgroup itself stay the host's.
 */
const V2_DELEGATED = ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"];

/** Where a server started now would make its labs' cgroups (Cgroups.parentDirs after prepare), without making anything. */
export function labParents(layout: CgroupLayout, parentName: string): string[] {
  if (layout.version === 1) return Object.values(layout.mounts).map((m) => path.join(m!, parentName));
  if (layout.version === 2) return [path.join(delegatedUnit(layout.mount)?.dir ?? layout.mount, parentName)];
  return [];
}

/**
 * v2: the systemd unit this process runs in, if it has Delegate=yes: its name and its cgroup
 * directory. Read from /proc/self/cgroup (the unit is the last `.service` or `.scope` in the path;
 * the process may already sit in a leaf below it) and `systemctl show`.
 */
export function delegatedUnit(mount: string, self = readSelfCgroup()): { name: string; dir: string } | null {
  const parts = (/^0::(\/.*)$/m.exec(self)?.[1] ?? "").split("/").filter(Boolean);
  let i = parts.length - 1;
  while (i >= 0 && !/\.(service|scope)$/.test(parts[i]!)) i--;
  if (i < 0) return null;
  const name = parts[i]!;
  const r = spawnSync("systemctl", ["show", "--property=Delegate", "--value", name], { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0 || r.stdout.trim() !== "yes") return null;
  return { name, dir: path.join(mount, ...parts.slice(0, i + 1)) };
}

function readSelfCgroup(): string {
  try {
    return fs.readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    return "";
  }
}

/** Moves every process of a delegated unit's cgroup into its leaf `server` (new ones may appear meanwhile). */
function vacate(unitDir: string): void {
  const leaf = path.join(unitDir, "server");
  fs.mkdirSync(leaf, { recursive: true });
  for (let round = 0; round < 20; round++) {
    const pids = fs.readFileSync(path.join(unitDir, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
    if (!pids.length) return;
    for (const p of pids) {
      try {
        fs.writeFileSync(path.join(leaf, "cgroup.procs"), p);
      } catch {} // gone meanwhile
    }
  }
  throw new Error(`could not move the processes of ${unitDir} into ${leaf}: they keep appearing`);
}

/**
 * A v1 cpuset cgroup takes no process until its cpus and mems are set (cgroups(7)); a new one
 * starts with them empty. Copied from the parent, as `cgroup.clone_children` would do.
 */
function inheritCpuset(dir: string): void {
  for (const f of ["cpuset.cpus", "cpuset.mems"]) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8").trim()) continue;
    fs.writeFileSync(file, fs.readFileSync(path.join(path.dirname(dir), f), "utf8").trim());
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

/**
 * A lab can make cgroup paths longer than PATH_MAX (a few dozen levels of long names), which no
 * path-based call can name. find(1) walks with directory descriptors (fts), so it reaches them:
 * used below `dir` (nameable) once a path under it is not.
 */
function findBelow(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve) => execFile("find", [dir, ...args], { timeout: 60_000 }, () => resolve()));
}
const tooLong = (e: unknown) => (e as NodeJS.ErrnoException).code === "ENAMETOOLONG";

/** Thaws a cgroup and every child the lab froze: v1 freezer.state, v2 cgroup.freeze. */
async function thawTree(dir: string): Promise<void | "too-long"> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    return tooLong(e) ? "too-long" : undefined;
  }
  for (const [file, thawed] of [["freezer.state", "THAWED"], ["cgroup.freeze", "0"]] as const) {
    try {
      if ((await fsp.readFile(path.join(dir, file), "utf8")).trim() !== thawed) await fsp.writeFile(path.join(dir, file), thawed);
    } catch {}
  }
  for (const e of entries)
    if (e.isDirectory() && (await thawTree(path.join(dir, e.name))) === "too-long")
      await findBelow(dir, ["-depth", "(", "-name", "freezer.state", "-o", "-name", "cgroup.freeze", ")", "-execdir", "sh", "-c", 'for f; do case $f in *freezer.state) echo THAWED;; *) echo 0;; esac > "$f"; done', "sh", "{}", "+"]);
}

/** rmdir a cgroup and every child cgroup below it; false while something is still busy. */
async function removeTree(dir: string): Promise<boolean | "too-long"> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (tooLong(e)) return "too-long";
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
  let ok = true;
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const r = await removeTree(path.join(dir, e.name));
    // the processes are gone by now (their pid namespace was killed): rmdir all that is left
    if (r === "too-long") await findBelow(dir, ["-mindepth", "1", "-depth", "-type", "d", "-delete"]);
    ok = r === true && ok;
  }
  try {
    await fsp.rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") ok = false;
    if (code === "EBUSY") await killIn(dir);
  }
  return ok;
}

/** SIGKILL to every process in one cgroup (not its children). */
async function killIn(dir: string): Promise<void> {
  let procs = "";
  try {
    procs = await fsp.readFile(path.join(dir, "cgroup.procs"), "latin1");
  } catch {}
  for (const p of procs.split("\n")) {
    if (!p) continue;
    try {
      process.kill(Number(p), "SIGKILL");
    } catch {}
  }
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
