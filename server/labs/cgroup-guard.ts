import "server-only";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";

/**
 * A bound on how many cgroups a lab makes below its own on cgroup v1 (issue 12, findings 2 and 6).
 *
 * v2 has `cgroup.max.descendants`, which the kernel enforces (cgroup.ts). v1 has nothing like it,
 * and lesson 10 needs the lab to make cgroups in pids, memory, cpu and freezer, so the lab keeps
 * mkdir rights there. Unbounded, one lab made 30,000 in 1.4 s, and each v1 memory cgroup takes one
 * of the host's 65,535 memory cgroup ids (new labs, and every other cgroup on the host, then fail);
 * its memory limit stops it only near 50,000 (~10 KiB each).
 *
 * So the server watches: an inotify watch (fs.watch) on each directory of the lab's subtrees tells
 * it at once that a cgroup was made (cgroupfs files cannot be made, so a `rename` event in a
 * cgroup directory is always a child cgroup made, removed or renamed). Each such event marks the
 * lab for a count, which runs off the event loop's critical path (async stat and readdir, one
 * count per lab at a time, again if events came meanwhile) and stops as soon as it passes the
 * limit: a kernfs directory's link count is 2 + its subdirectories, so a wide directory is counted
 * by one stat and never listed. A lab above the limit in any hierarchy is ended (`onOver`); its
 * init gets SIGKILL at once, which ends every process of its pid namespace.
 *
 * Cost: one watch per cgroup directory of a lab (at most limit + 1 per hierarchy are ever counted
 * or watched), nothing while the lab makes no cgroups. A lost event (the inotify queue overflows
 * when the loop stalls) is caught by a slow sweep: every `sweepMs` the host's /proc/cgroups counts
 * (one small read) are compared with the last ones, and every lab is counted again if they moved.
 *
 * A path the server cannot name (deeper than PATH_MAX, which long names reach in a few dozen
 * levels) cannot be counted, so a lab that makes one is treated as above the limit.
 */

export interface GuardOver {
  /** the hierarchy directory (the lab's cgroup there) that passed the limit */
  dir: string;
  /** how many cgroups were counted below it when the count stopped (> limit) */
  counted: number;
  /** why: too many, or a path too deep to count */
  why: "count" | "unreadable";
}

export interface CgroupGuardOptions {
  /** cgroups a lab may make below its own, in each hierarchy */
  limit: number;
  /** called once for a lab that passed the limit (the owner ends it) */
  onOver(id: string, over: GuardOver): void;
  /** how often the /proc/cgroups sweep looks for events that inotify lost; 0: never */
  sweepMs?: number;
  /** false: no inotify watches, the sweep alone notices new cgroups (a test of the sweep: it
   * stands for the events an overflowing inotify queue loses) */
  inotify?: boolean;
}

export class CgroupGuard {
  private readonly labs = new Map<string, LabWatch>();
  private readonly sweeper: NodeJS.Timeout | null = null;
  private lastHost = "";

  constructor(private readonly o: CgroupGuardOptions) {
    const ms = o.sweepMs ?? 5000;
    if (ms > 0) {
      this.sweeper = setInterval(() => void this.sweep(), ms);
      this.sweeper.unref();
    }
  }

  /** Starts watching a lab's subtrees: `roots` are its cgroup directories where it may make cgroups. */
  add(id: string, roots: string[]): void {
    if (this.labs.has(id) || !roots.length) return;
    const w = new LabWatch(id, roots, this.o.limit, this.o.inotify ?? true, (over) => {
      this.remove(id);
      this.o.onOver(id, over);
    });
    this.labs.set(id, w);
    void w.check();
  }

  remove(id: string): void {
    this.labs.get(id)?.close();
    this.labs.delete(id);
  }

  /**
   * The most cgroups the last finished count found below the lab's own in one hierarchy; undefined
   * before the first count (or for a lab not watched).
   */
  counted(id: string): number | undefined {
    return this.labs.get(id)?.counted;
  }

  /** How many counts ran for the lab (tests wait for one after a change). */
  counts(id: string): number {
    return this.labs.get(id)?.runs ?? 0;
  }

  /** Counts every lab again if the host's cgroup counts moved since the last sweep. */
  private async sweep(): Promise<void> {
    let now: string;
    try {
      now = await fsp.readFile("/proc/cgroups", "latin1");
    } catch {
      return;
    }
    if (now === this.lastHost) return;
    this.lastHost = now;
    for (const w of this.labs.values()) void w.check();
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const id of [...this.labs.keys()]) this.remove(id);
  }
}

class LabWatch {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private running = false;
  private again = false;
  private closed = false;
  counted: number | undefined;
  runs = 0;

  constructor(
    readonly id: string,
    private readonly roots: string[],
    private readonly limit: number,
    private readonly inotify: boolean,
    private readonly over: (o: GuardOver) => void,
  ) {}

  /** Counts the lab's cgroups (once at a time; again afterwards if asked meanwhile). */
  async check(): Promise<void> {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        const seen = new Set<string>();
        let most = 0;
        for (const root of this.roots) {
          const r = await this.walk(root, seen);
          if (this.closed) return;
          if (r.why || r.counted > this.limit) {
            this.close();
            this.over({ dir: root, counted: r.counted, why: r.why ?? "count" });
            return;
          }
          most = Math.max(most, r.counted);
        }
        // directories removed since: their watches go (the kernel dropped them already)
        for (const [dir, w] of this.watchers)
          if (!seen.has(dir)) {
            w.close();
            this.watchers.delete(dir);
          }
        this.counted = most;
        this.runs++;
      } while (this.again && !this.closed);
    } finally {
      this.running = false;
    }
  }

  /**
   * Breadth first below `root`, stopping once more than `limit` were counted. Each directory is
   * watched before it is read, so a cgroup made in it after the read is an event.
   */
  private async walk(root: string, seen: Set<string>): Promise<{ counted: number; why?: "unreadable" }> {
    let counted = 0;
    const queue = [root];
    while (queue.length) {
      const dir = queue.shift()!;
      seen.add(dir);
      this.watch(dir);
      let subdirs: number;
      let names: fs.Dirent[] = [];
      try {
        // kernfs keeps a directory's link count at 2 + its subdirectories
        subdirs = (await fsp.stat(dir)).nlink - 2;
        counted += subdirs;
        if (counted > this.limit) return { counted };
        if (subdirs > 0) names = await fsp.readdir(dir, { withFileTypes: true });
      } catch (e) {
        // gone meanwhile (removed, or the lab is being destroyed): nothing below it to count
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        return { counted, why: "unreadable" };
      }
      if (this.closed) return { counted };
      for (const e of names) if (e.isDirectory()) queue.push(path.join(dir, e.name));
    }
    return { counted };
  }

  private watch(dir: string): void {
    if (this.closed || !this.inotify || this.watchers.has(dir)) return;
    try {
      const w = fs.watch(dir, { persistent: false }, (type) => {
        if (type === "rename") void this.check();
      });
      w.on("error", () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      // removed meanwhile, or a path too long to watch: the stat that follows says which
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
