import "server-only";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";

/** Test helpers: real process trees made with unshare(1), found again through /proc. */

/** Every process below `pid` (scanning /proc: this kernel may lack /proc/PID/task/TID/children). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const m = /^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${name}/status`, "utf8"));
      if (m) parent.set(Number(name), Number(m[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out.sort((a, b) => a - b);
}

export function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

// the real timer, kept before any test mocks setTimeout (node:test's mock.timers)
const realSetTimeout = globalThis.setTimeout;

/** Real time, even while a test has mocked the timers. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}

export async function waitFor<T>(fn: () => T | null | undefined | false, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realSleep(20);
  }
}

/** A shell script run in its own process group; `stop()` kills the whole group. */
export class Scene {
  readonly child: ChildProcess;
  constructor(script: string) {
    this.child = spawn("bash", ["-c", script], { detached: true, stdio: ["ignore", "ignore", "inherit"] });
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** Waits until `count` processes named `name` run below the scene, and returns their pids. */
  async find(name: string, count = 1): Promise<number[]> {
    return waitFor(() => {
      const ps = descendants(this.pid).filter((p) => comm(p) === name);
      return ps.length >= count ? ps : null;
    }, `${count} ${name} below pid ${this.pid}`);
  }
  all(): number[] {
    return [this.pid, ...descendants(this.pid)];
  }
  async stop(): Promise<void> {
    const pids = this.all();
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {}
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
    if (this.child.exitCode === null && this.child.signalCode === null) await new Promise((r) => this.child.once("exit", r));
  }
}
