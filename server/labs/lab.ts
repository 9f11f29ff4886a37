import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import type { LabEndReason, LabMode, LabStatus, TraceEntry } from "../../lib/protocol.ts";
import { closeFd, spawn, signalName, NativeError, setWinsize, type FirstShell, type RawTrace, type Spawned } from "../native/core.ts";
import { errnoName } from "../../lib/errno.ts";
import type { FirstShellSpec, SpawnSpec } from "../native/spec.ts";
import { syscalls, type LearnerCall } from "../native/syscalls.ts";
import { learnerEntry } from "./learner-calls.ts";
import type { Cgroups, LabCgroup } from "./cgroup.ts";
import { LabGoneError } from "./errors.ts";
import { LabLifetime, type LifetimePolicy } from "./lifetime.ts";
import { labPids, pidNamespace } from "./pidns.ts";
import { LabProcess, readPipe } from "./process.ts";
import { TraceLog } from "./trace.ts";
import type { ExecOptions, ExecResult, LabHandle } from "./types.ts";

const SHELL_ENV = [
  "TERM=xterm-256color",
  "COLORTERM=truecolor",
  "HOME=/root",
  "USER=root",
  "LOGNAME=root",
  "SHELL=/bin/bash",
  "LANG=C.UTF-8",
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
];
const EXEC_OUTPUT_LIMIT = 64 * 1024;

export interface LabInit {
  id: string;
  tokenHash: Buffer;
  mode: LabMode;
  hostname: string;
  lesson: string | null;
  clientIp: string;
  init: LabProcess;
  timens: boolean;
  cgroup: LabCgroup | null;
  cgroups: Cgroups;
  limits: LabStatus["limits"];
  trace: TraceLog;
  /** report the namespace calls of the learner's commands (processes on ptys) into the trace */
  traceSyscalls: boolean;
  /** where those calls go (inspect/ infers their results); without it, straight into the trace */
  learnerCall?: (lab: Lab, scope: string, call: LearnerCall) => void;
  lifetime: LifetimePolicy;
}

/**
 * What a lab's first shell is started with when it comes with the lab (LabSpec.shell, a page's
 * first terminal): a terminal's environment, in the cgroups every later process of the lab joins;
 * the native core adds NSLAB_NS itself, since the lab's namespaces exist only then (shellEnv).
 */
export function firstShellSpec(argv: string[], size: { cols: number; rows: number }, cgroup: LabCgroup | null, traceSyscalls: boolean): FirstShellSpec {
  const first = new Set(cgroup?.rootProcs ?? []);
  return {
    size: { rows: size.rows, cols: size.cols },
    ...(traceSyscalls ? { traceSyscalls: true } : {}),
    cwd: "/root",
    cgroupProcs: (cgroup?.procsFiles ?? []).filter((f) => !first.has(f)),
    argv,
    env: [...SHELL_ENV, "NSLAB_NS_HOME=1"],
    nsEnv: "NSLAB_NS",
  };
}

/** A lab's first shell while the lab holds it (Lab.holdFirstShell). */
interface HeldShell {
  sp: Spawned;
  started: number;
  proc: LabProcess;
}

/** Ends a first shell nobody will take: its session, its pty, its listener. */
function endHeldShell(h: HeldShell): void {
  h.proc.killGroup("SIGHUP");
  h.proc.kill("SIGKILL");
  closeFd(h.sp.master ?? -1);
  if (h.sp.listener !== undefined) closeFd(h.sp.listener);
}

/** A process started on a new pty of the lab's own devpts (a terminal's shell). */
export interface PtyProcess {
  proc: LabProcess;
  /** the pty master; its owner closes it */
  master: number;
}

/**
 * One learner's lab. It owns its init process, the processes it runs for checks, and its cgroup;
 * `destroy()` releases all of them (the manager releases the uid range). It starts processes in
 * the lab on a pty or on pipes, and knows nothing of what they are for: terminals/ owns the
 * shells it starts on ptys (the terminal set of each lab), lessons/ the scripts it runs.
 */
export class Lab implements LabHandle {
  readonly id: string;
  readonly mode: LabMode;
  readonly hostname: string;
  lesson: string | null;
  clientIp: string;
  readonly createdAt = new Date();
  readonly traceLog: TraceLog;
  /**
   * SHA-256 digests of the lab's tokens (never a token itself): one per hand-out, newest last. A
   * class lab is handed to its learner again on each rejoin with a fresh token (the class keeps
   * none); older ones stay valid for the learner's other tabs, up to MAX_TOKENS.
   */
  private tokenHashes: Buffer[];
  private readonly init: LabProcess;
  private readonly scripts = new Set<LabProcess>();
  private readonly activity = new Set<() => void>();
  private readonly destroyListeners = new Set<() => void>();
  private destroying: Promise<void> | null = null;
  /** the lab's pid namespace ("pid:[…]"), read from init once */
  private pidNs: string | null = null;
  /** what a terminal's shell is told of the lab's namespaces (read from init on the first shell) */
  private homeEnv: string[] | null = null;
  /** the shell that came with the lab (holdFirstShell), until a terminal takes it or the lab goes */
  private firstShell: { argv: string[]; held: Promise<HeldShell | null> } | null = null;
  /** stops delivering the learner calls of each traced pty process (the native tracer keeps
   * their listeners until no process uses them) */
  private readonly unwatch: (() => void)[] = [];
  /** when it is put away, and the warning before (see lifetime.ts) */
  readonly lifetime: LabLifetime;
  /** why it ended, once it started to (set before the destroy listeners run) */
  endReason: LabEndReason | null = null;
  /** for the time-to-first-prompt metric: when it was asked for (performance.now()), and from where */
  requested: { at: number; pooled: boolean } | null = null;

  constructor(private readonly o: LabInit) {
    this.id = o.id;
    this.mode = o.mode;
    this.hostname = o.hostname;
    this.lesson = o.lesson;
    this.clientIp = o.clientIp;
    this.tokenHashes = [o.tokenHash];
    this.init = o.init;
    this.traceLog = o.trace;
    this.pidNs = pidNamespace(o.init.pid);
    this.lifetime = new LabLifetime(o.lifetime);
    o.init.exited.then(() => this.emitActivity());
  }

  /** Input, output or an API call: the idle timeout starts again. */
  touch(): void {
    this.lifetime.touch();
  }

  get initPid(): number {
    return this.init.pid;
  }
  /** Whether the lab has a time namespace of its own (the kernel may refuse one: native/src/lab.c). */
  get timens(): boolean {
    return this.o.timens;
  }
  /** The lab's cgroups on the host (null without cgroups): for tests and the explorer. */
  get cgroup(): LabCgroup | null {
    return this.o.cgroup;
  }
  get running(): boolean {
    return !this.destroying && !this.init.exitStatus;
  }

  /** Hands a pre-made (pooled) lab to its learner: a fresh token (its hash), their address, their lesson. */
  handOut(tokenHash: Buffer, clientIp: string, lesson: string | null): void {
    this.tokenHashes = [tokenHash];
    this.clientIp = clientIp;
    this.lesson = lesson;
    this.lifetime.start();
  }

  /** Another token for the same lab (its hash): the oldest beyond MAX_TOKENS stops working. */
  addToken(tokenHash: Buffer): void {
    this.tokenHashes.push(tokenHash);
    if (this.tokenHashes.length > MAX_TOKENS) this.tokenHashes.shift();
  }

  /** The SHA-256 digests of the lab's tokens (the tokens themselves are never kept). */
  get tokenDigests(): readonly Buffer[] {
    return this.tokenHashes;
  }

  tokenMatches(token: string): boolean {
    return digestMatches(token, this.tokenHashes);
  }

  /** The lab's part of its status (LabStatus but its terminals, which terminals/ knows). */
  status(): Omit<LabStatus, "terminals"> {
    return {
      id: this.id,
      state: this.destroying ? "destroyed" : this.init.exitStatus ? "exited" : "running",
      mode: this.mode,
      hostname: this.hostname,
      lesson: this.lesson,
      createdAt: this.createdAt.toISOString(),
      ...this.expiry(),
      limits: this.o.limits,
    };
  }

  /** When the lab will be put away if nothing happens, and why (null: never, or not running). */
  private expiry(): Pick<LabStatus, "expiresAt" | "expiryReason"> {
    const e = this.running ? this.lifetime.expiry() : null;
    return { expiresAt: e ? new Date(e.at).toISOString() : null, expiryReason: e?.reason ?? null };
  }

  /**
   * A terminal's shell is in the lab's own namespaces by construction (setns into init's): it is
   * told which they are (NSLAB_NS, as the lab's bash.bashrc records them) and that it is at home
   * (NSLAB_NS_HOME), so its prompt needs no stat(1) of its own namespaces, a fork and an exec
   * before the first prompt. Nested shells, which may be elsewhere, still look (bash.bashrc).
   */
  private shellEnv(): string[] {
    if (!this.homeEnv) {
      const ns: string[] = [];
      try {
        for (const t of ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"])
          if (fs.existsSync(`/proc/${this.init.pid}/ns/${t}`)) ns.push(`${t}:${fs.statSync(`/proc/${this.init.pid}/ns/${t}`).ino}`);
      } catch {
        return SHELL_ENV; // init is gone, or its namespaces are not ours to read: the shell looks itself
      }
      this.homeEnv = [...SHELL_ENV, `NSLAB_NS=${ns.join(" ")} `, "NSLAB_NS_HOME=1"];
    }
    return this.homeEnv;
  }

  /** A process in this lab: root inside (setns into every namespace, then the lab's cgroup), cwd /root, a login environment. */
  private spawnSpec(pidfd: number, stdio: "pty" | "pipes", argv: string[], size?: { rows: number; cols: number }): SpawnSpec {
    if (this.o.cgroup) this.o.cgroups.ensureLeaf(this.o.cgroup);
    return {
      lab: { pid: this.init.pid, pidfd },
      stdio,
      ...(size ? { size } : {}),
      setgroups: this.mode === "rootless" ? "deny" : "allow",
      timens: this.o.timens,
      cwd: "/root",
      cgroupProcs: this.o.cgroup?.procsFiles ?? [],
      argv,
      env: stdio === "pty" ? this.shellEnv() : SHELL_ENV,
    };
  }

  private assertRunning(): void {
    if (!this.running) throw new LabGoneError();
  }

  /**
   * What a failed spawn means: the lab may have been put away (deleted, expired, its init gone)
   * while the helper was joining it. Then whatever step failed (the cgroup's procs file, the
   * lab's /proc/PID/root, setns) only says the lab is gone, and so do we; else the failure stands.
   */
  private spawnFailed(e: unknown, traceScope: string, started: number): unknown {
    if (e instanceof NativeError) this.traceLog.addNative(traceScope, e.trace, started);
    return this.running ? e : new LabGoneError();
  }

  /**
   * Starts `argv` in the lab (root inside, cwd /root, a login environment) on a new pty of the
   * lab's own devpts, sized `cols`×`rows`. Its native trace is recorded under `traceScope`, and so
   * are, with tracing on, the namespace calls it and everything it starts make (the learner's).
   */
  async spawnPty(argv: string[], o: { cols: number; rows: number; traceScope: string }): Promise<PtyProcess> {
    this.assertRunning();
    const started = Date.now();
    let sp;
    try {
      sp = await this.init.withFd((fd) => spawn({ ...this.spawnSpec(fd, "pty", argv, { rows: o.rows, cols: o.cols }), traceSyscalls: this.o.traceSyscalls }));
    } catch (e) {
      throw this.spawnFailed(e, o.traceScope, started);
    }
    return this.ptyStarted(sp, sp.trace, started, o.traceScope);
  }

  /** A pty process the native core started: its records in the trace, its learner's calls followed. */
  private ptyStarted(sp: Spawned, trace: RawTrace[], started: number, traceScope: string, proc = new LabProcess(sp.pid, sp.pidfd)): PtyProcess {
    this.traceLog.addNative(traceScope, trace, started);
    if (sp.listener !== undefined) {
      // background jobs may outlive the terminal: the native tracer keeps the listener as long as
      // any process uses the filter, and we keep delivering until the lab goes
      try {
        const to = this.o.learnerCall;
        this.unwatch.push(syscalls.watch(sp.listener, (call) => (to ? to(this, traceScope, call) : this.traceLog.addLearner(learnerEntry(traceScope, call)))));
      } finally {
        closeFd(sp.listener);
      }
    }
    return { proc, master: sp.master! };
  }

  /**
   * The manager hands over the shell that is being started with the lab (LabSpec.shell; the
   * native call that collects it). The lab owns it (its pidfd, pty master and listener) until a
   * terminal takes it (takeFirstShell) or the lab is destroyed; its exit is watched as soon as it
   * is there, like any process the lab started. One that failed is in the lab's trace.
   */
  holdFirstShell(shell: Promise<FirstShell>, argv: string[], started: number): void {
    const held = shell.then(
      (r): HeldShell | null => {
        if (!r.ok) {
          this.traceLog.addNative("lab", r.trace, started);
          console.error(`nslab: lab ${this.id}: its first shell did not start (${r.step}: ${errnoName(r.errno)}${r.detail ? `, ${r.detail}` : ""}); its terminal starts one`);
          return null;
        }
        const sp: Spawned = { pid: r.pid, pidfd: r.pidfd, master: r.master, trace: r.trace, ...(r.listener !== undefined ? { listener: r.listener } : {}) };
        return { sp, started, proc: new LabProcess(r.pid, r.pidfd) };
      },
      (e) => (console.error(`nslab: lab ${this.id}: collecting its first shell failed:`, e), null),
    );
    this.firstShell = { argv, held };
  }

  /**
   * The shell that came with the lab (once it is there), if it runs `argv` and still runs, for a
   * terminal: traced under `traceScope`, sized `cols`×`rows`. Undefined otherwise: the caller
   * starts one (spawnPty). Only the first caller gets it.
   */
  async takeFirstShell(argv: string[], o: { cols: number; rows: number; traceScope: string }): Promise<PtyProcess | undefined> {
    const f = this.firstShell;
    if (!f || f.argv.length !== argv.length || f.argv.some((a, i) => a !== argv[i])) return undefined;
    this.firstShell = null;
    const h = await f.held;
    if (!h) return undefined;
    if (!this.running || h.proc.exitStatus) {
      endHeldShell(h);
      return undefined;
    }
    const pty = this.ptyStarted(h.sp, h.sp.trace, h.started, o.traceScope, h.proc);
    setWinsize(pty.master, o.rows, o.cols);
    return pty;
  }

  /**
   * Starts `argv` in the lab with /dev/null on stdin and pipes on stdout and stderr. The lab
   * waits for it when destroyed. Only a failure to start is traced (scripts run often).
   */
  async spawnPipes(argv: string[], o: { traceScope: string }): Promise<{ proc: LabProcess; stdout: number; stderr: number }> {
    this.assertRunning();
    const started = Date.now();
    let sp;
    try {
      sp = await this.init.withFd((fd) => spawn(this.spawnSpec(fd, "pipes", argv)));
    } catch (e) {
      throw this.spawnFailed(e, o.traceScope, started);
    }
    const proc = new LabProcess(sp.pid, sp.pidfd);
    this.scripts.add(proc);
    void proc.exited.then(() => this.scripts.delete(proc));
    return { proc, stdout: sp.stdout!, stderr: sp.stderr! };
  }

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = Math.min(Math.max(opts.timeoutMs ?? 10_000, 100), 600_000);
    const sp = await this.spawnPipes(["/bin/bash", "-c", script.replace(/\0/g, "")], { traceScope: "exec" });
    const proc = sp.proc;
    const out = readPipe(sp.stdout, EXEC_OUTPUT_LIMIT);
    const err = readPipe(sp.stderr, EXEC_OUTPUT_LIMIT);
    let timedOut = false;
    let reaping: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.killGroup("SIGKILL");
      proc.kill("SIGKILL");
      // the exit monitor's pipe does not keep Node alive (exits.ts); until the kill is reaped this
      // does, or a caller with nothing else pending (a test, the lesson verifier) would just end
      reaping = setTimeout(() => {}, 10_000);
      // a background child may hold the pipes open; stop reading them
      setTimeout(() => (out.destroy(), err.destroy()), 200).unref();
    }, timeoutMs);
    const st = await proc.exited;
    clearTimeout(timer);
    clearTimeout(reaping);
    // children the script left running in the background (on purpose) may keep the pipes open
    const drain = setTimeout(() => (out.destroy(), err.destroy()), 300);
    const [stdout, stderr] = await Promise.all([out.done, err.done]);
    clearTimeout(drain);
    this.emitActivity();
    return { code: st.code, signal: signalName(st.signal), stdout, stderr, timedOut };
  }

  trace() {
    return this.traceLog.all();
  }

  onTrace(fn: (entries: TraceEntry[]) => void): () => void {
    return this.traceLog.onAppend(fn);
  }

  /**
   * Host pids of the lab's processes, from its process tree (pidns.ts), never from a walk of its
   * cgroups, which the lab can make as large as it likes.
   */
  async hostPids(): Promise<number[]> {
    return this.hostPidsSync();
  }

  /** What the lab uses now against its limits (cgroup counters; null without cgroups). */
  usage(): { memoryBytes: number | null; pids: number | null; cpuSeconds?: number | null; limits: LabStatus["limits"] } {
    const u = this.o.cgroup ? this.o.cgroups.usage(this.o.cgroup, () => this.hostPidsSync()) : { memoryBytes: null, pids: null, cpuSeconds: null };
    return { ...u, limits: this.o.limits };
  }

  /** The same, synchronously: one read per process of the lab, for frequent cheap polls. */
  hostPidsSync(): number[] {
    this.pidNs ??= pidNamespace(this.init.pid);
    return this.pidNs ? labPids(this.init.pid, this.pidNs) : [];
  }

  onActivity(fn: () => void): () => void {
    this.activity.add(fn);
    return () => this.activity.delete(fn);
  }

  emitActivity(): void {
    for (const fn of this.activity) {
      try {
        fn();
      } catch (e) {
        console.error("nslab: activity listener failed", e);
      }
    }
  }

  /**
   * Calls `fn` once when the lab starts to be destroyed, before its processes are killed: whoever
   * holds something in the lab (terminals/: the lab's shells and ptys) releases it then.
   */
  onDestroy(fn: () => void): () => void {
    this.destroyListeners.add(fn);
    return () => this.destroyListeners.delete(fn);
  }

  /**
   * Kills everything in the lab and waits until it is all reaped and its cgroup removed. `reason`
   * (in `endReason` for the destroy listeners) is what its pages are told.
   */
  destroy(reason: LabEndReason = "deleted"): Promise<void> {
    if (this.destroying) return this.destroying;
    this.endReason = reason;
    this.lifetime.clear();
    this.destroying = (async () => {
      for (const fn of [...this.destroyListeners]) {
        try {
          fn();
        } catch (e) {
          console.error("nslab: a lab's destroy listener failed", e);
        }
      }
      this.destroyListeners.clear();
      const unclaimed = this.firstShell;
      this.firstShell = null;
      // SIGKILL to a PID namespace's init kills every process in the namespace (pid_namespaces(7))
      this.init.kill("SIGKILL");
      // a first shell nobody took: its pty and listener closed, its exit waited for like the rest
      const first = unclaimed ? await unclaimed.held : null;
      if (first) endHeldShell(first);
      // A process the learner froze (cgroup freezer) acts on that SIGKILL only once thawed, and
      // init's exit waits for every process of its namespace (pid_namespaces(7)). The kernel kills
      // those as init exits, not at once: until then the learner's processes may still rename
      // cgroups, and a thaw's walk can miss one renamed under it. So: thaw until all are gone.
      const waits = [this.init.exited, ...(first ? [first.proc.exited] : []), ...[...this.scripts].map((p) => p.exited)];
      const exited = Promise.all(waits);
      let gone = false;
      void exited.then(() => (gone = true));
      const cg = this.o.cgroup;
      if (cg) {
        for (const until = Date.now() + 10_000; !gone && Date.now() < until; )
          await Promise.race([exited, this.o.cgroups.thaw(cg).then(() => new Promise((r) => setTimeout(r, 250)))]);
        if (!gone) throw new Error("lab processes did not exit");
      } else await withTimeout(exited, 10_000, "lab processes did not exit");
      if (this.o.cgroup) await this.o.cgroups.destroy(this.o.cgroup);
      for (const u of this.unwatch.splice(0)) u();
      this.emitActivity();
      this.activity.clear();
    })();
    return this.destroying;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new Error(what)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** How many tokens a lab honours at once (a class learner rejoining from several tabs). */
const MAX_TOKENS = 8;

/** Whether `token`'s SHA-256 is one of `digests`, comparing each in constant time (no early exit). */
export function digestMatches(token: string, digests: readonly Buffer[]): boolean {
  const h = tokenHash(token);
  let ok = false;
  for (const d of digests) if (d.length === h.length && crypto.timingSafeEqual(h, d)) ok = true;
  return ok;
}

/** What a lab keeps of a token: its SHA-256 (compared in constant time, digestMatches). */
export function tokenHash(token: string): Buffer {
  return crypto.createHash("sha256").update(token).digest();
}
