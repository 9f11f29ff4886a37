import "server-only";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LabEndReason, LabMode } from "../../lib/protocol.ts";
import type { Config } from "../config.ts";
import { initBinary, loadNative, NativeError, closeFd, features, labCreate, labShell, prepareLabHelper, sealedCopy, setHelperTimeout, unprepareLabHelper } from "../native/core.ts";
import { Cgroups, detectCgroups, labParents, type LabCgroup } from "./cgroup.ts";
import { CgroupGuard } from "./cgroup-guard.ts";
import { MemoryLabDirectory, type LabDirectory } from "./directory.ts";
import { CapacityError, LabCreateError } from "./errors.ts";
import { lowerMountMax } from "./host.ts";
import { IdRanges } from "./ids.ts";
import { digestMatches, firstShellSpec, Lab, tokenHash } from "./lab.ts";
import type { LifetimePolicy } from "./lifetime.ts";
import { LabProcess } from "./process.ts";
import { recover, lockStateDir } from "./recovery.ts";
import { rootfs, writeEtcTemplate } from "./rootfs.ts";
import type { LabSpec } from "../native/spec.ts";
import type { LearnerCall } from "../native/syscalls.ts";
import { TraceLog } from "./trace.ts";

/**
 * What the rest of the server does at points of a lab's life, handed in by the wiring
 * (server/server.ts), so that the lab core imports nothing of lessons or terminals.
 */
export interface LabHooks {
  /** a lab made for the pool: make it ready for a learner (terminals/: a shell at its first prompt) */
  warm?(lab: Lab): Promise<unknown>;
  /** a pooled lab was handed to a learner (terminals/: the waiting shell's grace period starts) */
  handedOut?(lab: Lab): void;
  /**
   * a lab made for a learner whose page opens a terminal at once (CreateOptions.terminal): start
   * that terminal's shell now, in the background, so it starts while the answer travels and the
   * page connects, as a pooled lab's already has (terminals/: the socket takes it)
   */
  prestart?(lab: Lab): void;
  /**
   * what that terminal runs, and its size: a lab made for such a page starts it with the lab, in
   * the same native call (LabSpec.shell: no second helper, no wait for this thread between them),
   * and holds it for the terminal (Lab.takeFirstShell)
   */
  firstShell?: { argv: string[]; cols: number; rows: number };
  /** a lab made for a lesson: set it up for the lesson (lessons/: its setup scripts) before it is returned */
  assignLesson?(lab: Lab, lesson: string): Promise<unknown>;
  /** a namespace call of the learner's commands (the tracer's record): inspect/ infers what it did
   * and records it in the lab's trace; without this hook it is recorded as it came */
  learnerCall?(lab: Lab, scope: string, call: LearnerCall): void;
}

/**
 * A new lab and its token. The token is the caller's to hand to the learner once: the lab keeps
 * only its hash, and nothing here keeps the token.
 */
export interface CreatedLab {
  lab: Lab;
  token: string;
}

export interface CreateOptions {
  lesson?: string | null;
  clientIp?: string;
  /** already admitted elsewhere (a class join): the per-address cap does not apply (a classroom shares one address) */
  admitted?: boolean;
  /** the owner's lifetime for this lab instead of the server's (a class: no idle timeout, its end as the deadline) */
  lifetime?: Partial<LifetimePolicy>;
  /** a learner's page opens a terminal as soon as it has the lab: its shell is started now (LabHooks.prestart) */
  terminal?: boolean;
}

/** What the manager tells whoever watches it (metrics, logs, admission), wired by server.ts. */
export interface LabEvents {
  /** a lab was handed to a learner: from the pool, or made for them (ms: how long that took) */
  created?(lab: Lab, info: { pooled: boolean; ms: number }): void;
  /** making a lab failed at `step` (a native step, "cgroup", "setup" or "server") */
  failed?(step: string, err: unknown): void;
  /** a learner's lab ended */
  ended?(lab: Lab, reason: LabEndReason): void;
  /** a lab's pages were warned that it will be put away */
  expiring?(lab: Lab, at: number, reason: string): void;
}

/** How long the manager remembers why a lab ended, so its page can say so (GET /api/labs/:id: 410). */
const ENDED_KEEP_MS = 24 * 3600_000;
/** the clientIp of a lab made for the warm pool, until it is handed to a learner */
export const POOL_CLIENT = "pool";
const ENDED_KEEP_COUNT = 20_000;
/** demand in this window makes the pool bigger and its refill parallel (a burst) */
const BURST_WINDOW_MS = 10_000;
/** outside a burst, how long after a lab is asked for the pool's refill waits (the page connects meanwhile) */
const REFILL_AFTER_MS = 250;

/** A lab's cgroups made ahead (LabManager.spare), with the id and uid range they are for. */
interface SpareCgroups {
  id: string;
  range: { slot: number; hostId: number };
  cgroup: LabCgroup;
  /** the new lab's trace, which starts with these steps */
  trace: TraceLog;
}

/**
 * Owns every lab: creates them (uid range, cgroup, native create), finds them by id and token,
 * destroys them, and on shutdown destroys all. One per server process.
 */
export class LabManager {
  readonly mode: LabMode;
  readonly cgroups: Cgroups;
  private readonly labs: LabDirectory;
  /** the uid range slot each lab holds (root mode), given back when it is destroyed */
  private readonly slots = new Map<string, number>();
  private readonly ids: IdRanges;
  private readonly initFd: number;
  private readonly timens: boolean;
  private readonly etcTemplate: string;
  private readonly staging: string;
  private readonly hide: string[];
  private closed = false;
  /** ready labs, not yet anyone's (see Config.poolSize) */
  private readonly pool: Lab[] = [];
  /** pool labs being made now */
  private refilling = 0;
  /** times labs were asked for, within BURST_WINDOW_MS */
  private demand: number[] = [];
  private readonly events: LabEvents[] = [];
  /** why recent labs ended, by id (with their token's digest: only their owner may ask) */
  private readonly endedLabs = new Map<string, { tokenHashes: readonly Buffer[]; reason: LabEndReason; at: number }>();
  private sweeper: NodeJS.Timeout | null = null;
  /**
   * The next new lab's cgroups, made when a lab ends: a lab's cgroups are some fifty file system
   * calls on the event loop (on cgroup v1, ten hierarchies: mkdir, limits, delegation), which then
   * come off the path of the next lab made on request (pool empty) or for the pool. One at most;
   * it holds a uid range like a lab (the next lab's), and goes at shutdown (or, after a crash,
   * with the rest at recovery).
   */
  private spare: SpareCgroups | null = null;
  /** the next lab's helper being started ahead (native nslab_lab_prepare), made when a lab ends like `spare` */
  private preparing: Promise<unknown> | null = null;
  /** cgroup v1: counts the cgroups each lab makes below its own and ends a lab above the limit (v2: the kernel's cap) */
  readonly cgroupGuard: CgroupGuard | null = null;

  private constructor(
    readonly config: Config,
    private readonly hooks: LabHooks,
    private readonly unlockStateDir: () => void,
    directory: LabDirectory,
  ) {
    this.labs = directory;
    this.mode = config.mode;
    this.cgroups = new Cgroups(this.mode === "root" ? detectCgroups() : { version: 0, reason: "rootless mode" }, config.cgroupParent);
    if (this.mode === "root") {
      this.cgroups.prepare();
      const m = lowerMountMax(config.mountMax);
      if (m)
        console.error(
          `nslab: fs.mount-max lowered from ${m.before} to ${m.after} (NSLAB_MOUNT_MAX; the largest mount namespace here holds ${m.largestNamespace}): no mount namespace, a lab's or the host's, may hold more mounts.`,
        );
      if (this.cgroups.version === 1 && config.limits.cgroups)
        this.cgroupGuard = new CgroupGuard({
          limit: config.limits.cgroups,
          onOver: (id, over) => {
            console.error(
              over.why === "count"
                ? `nslab: lab ${id} made more than ${config.limits.cgroups} cgroups below ${over.dir} (NSLAB_CGROUPS_MAX; ${over.counted} counted): ending it`
                : `nslab: lab ${id} made a cgroup path below ${over.dir} too deep to count: ending it`,
            );
            const lab = this.labs.get(id);
            if (lab?.cgroup) this.cgroups.freeze(lab.cgroup);
            void this.destroy(id, "cgroup-limit").catch((e) => console.error("nslab: ending a lab failed:", e));
          },
        });
    }
    this.ids = new IdRanges(config.uidBase, config.maxLabs, config.idsPerLab);
    fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o755 });
    this.etcTemplate = path.join(config.stateDir, "etc");
    writeEtcTemplate(this.etcTemplate, this.cgroups.version);
    this.staging = path.join(config.stateDir, "root");
    fs.mkdirSync(this.staging, { recursive: true, mode: 0o755 });
    this.initFd = sealedCopy(initBinary());
    this.timens = features().timens === true;
    // nslab's own files must not be visible in a lab: hide the install if a bound dir holds it
    const root = config.root;
    this.hide = ["/usr", "/bin", "/sbin", "/lib", "/lib64"].some((d) => root === d || root.startsWith(d + "/")) ? [root] : [];
  }

  static async start(config: Config, hooks: LabHooks = {}, directory: LabDirectory = new MemoryLabDirectory()): Promise<LabManager> {
    loadNative(config);
    setHelperTimeout(config.helperTimeoutMs);
    // one live server per state dir / cgroup parent / uid range; then remove what a server that
    // died without shutting down (kill -9) left behind, before any new lab exists
    const unlock = lockStateDir(config.stateDir);
    let mgr: LabManager;
    try {
      const root = config.mode === "root";
      const r = await recover({
        stateDir: config.stateDir,
        cgroupParent: config.cgroupParent,
        parents: root ? labParents(detectCgroups(), config.cgroupParent) : [],
        uids: root ? [config.uidBase, config.uidBase + config.maxLabs * config.idsPerLab] : null,
      });
      if (r.cgroups || r.processes)
        console.error(`nslab: cleaned up after a server that did not shut down: ${r.cgroups} lab cgroups removed, ${r.processes} processes killed`);
      mgr = new LabManager(config, hooks, unlock, directory);
    } catch (e) {
      unlock();
      throw e;
    }
    mgr.refill();
    mgr.sweeper = setInterval(() => mgr.sweep(), 1000);
    mgr.sweeper.unref();
    return mgr;
  }

  observe(e: LabEvents): () => void {
    this.events.push(e);
    return () => {
      const i = this.events.indexOf(e);
      if (i >= 0) this.events.splice(i, 1);
    };
  }

  private emit<K extends keyof LabEvents>(k: K, ...args: Parameters<NonNullable<LabEvents[K]>>): void {
    for (const e of this.events) {
      try {
        (e[k] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (err) {
        console.error("nslab: a lab event listener failed", err);
      }
    }
  }

  /**
   * How many labs the pool should hold now: `poolSize`, and more during a burst (more requests in
   * the last 10 s than the pool holds, as when a class starts): one more per request beyond the
   * pool's size, up to four times the pool.
   */
  private poolTarget(now = Date.now()): number {
    const base = this.config.poolSize;
    if (!base) return 0;
    while (this.demand.length && now - this.demand[0]! > BURST_WINDOW_MS) this.demand.shift();
    return Math.min(base * 4, Math.max(base, this.demand.length));
  }

  /**
   * Keeps the pool at its target in the background: one lab at a time normally, as many at once
   * as there are CPUs during a burst (more requests in 10 s than the pool holds).
   */
  private refill(): void {
    if (this.closed) return;
    const target = this.poolTarget();
    const burst = this.demand.length > this.config.poolSize;
    const workers = burst ? Math.max(2, os.availableParallelism()) : 1;
    while (this.refilling < workers && this.pool.length + this.refilling < target && this.labs.size + this.refilling < this.config.maxLabs - 1) {
      this.refilling++;
      void this.refillOne().finally(() => {
        this.refilling--;
        if (!this.closed) setImmediate(() => this.refill());
      });
    }
  }

  private async refillOne(): Promise<void> {
    try {
      // its shell (the warm hook's terminal) starts with it
      const { lab } = await this.createCold({ clientIp: POOL_CLIENT, admitted: true, terminal: !!this.hooks.warm });
      try {
        await this.hooks.warm?.(lab);
      } catch (e) {
        await this.destroy(lab.id);
        throw e;
      }
      if (this.closed) await this.destroy(lab.id);
      else this.pool.push(lab);
    } catch (e) {
      if (!this.closed) console.error("nslab: could not prepare a lab for the pool:", e instanceof Error ? e.message : e);
      await new Promise((r) => setTimeout(r, 1000)); // do not spin on a host that cannot make labs
    }
  }

  /**
   * Once a second: puts away labs whose time is up (idle, maximum lifetime, deadline), warns the
   * pages of labs whose time is nearly up, and trims a pool a burst left bigger than it should be.
   */
  private sweep(now = Date.now()): void {
    if (this.closed) return;
    for (const lab of this.labs.all()) {
      if (!lab.running || this.pool.includes(lab)) continue;
      const r = lab.lifetime.tick(now, this.config.expiryWarningMs);
      if (!r) continue;
      if (r.kind === "end") void this.destroy(lab.id, r.reason).catch((e) => console.error("nslab: putting a lab away failed:", e));
      else if (r.kind === "warn") {
        lab.lifetime.emit({ type: "expiring", at: r.at, reason: r.reason });
        this.emit("expiring", lab, r.at, r.reason);
      } else lab.lifetime.emit({ type: "extended", at: r.at });
    }
    const target = this.poolTarget(now);
    while (this.pool.length > target) {
      const extra = this.pool.pop()!;
      void this.destroy(extra.id).catch(() => {});
    }
    for (const [id, e] of this.endedLabs) {
      if (now - e.at < ENDED_KEEP_MS && this.endedLabs.size <= ENDED_KEEP_COUNT) break;
      this.endedLabs.delete(id);
    }
  }

  /** The owner's hook: changes a lab's lifetime (a class sets its deadline; null turns a limit off). */
  setLifetime(id: string, patch: Partial<LifetimePolicy>): boolean {
    const lab = this.labs.get(id);
    if (!lab || this.pool.includes(lab)) return false;
    lab.lifetime.set(patch);
    return true;
  }

  /** Why a lab ended, if it did recently and `token` was its token; undefined otherwise. */
  ended(id: string, token: string | null | undefined): { reason: LabEndReason; at: number } | undefined {
    const e = token ? this.endedLabs.get(id) : undefined;
    if (!e) return undefined;
    return digestMatches(token!, e.tokenHashes) ? { reason: e.reason, at: e.at } : undefined;
  }

  get pooled(): number {
    return this.pool.length;
  }

  /**
   * Labs that belong to learners: neither pooled nor being made for the pool (a refill in progress
   * is not a learner's lab, and counting it made a server look fuller than it was during a burst).
   */
  get count(): number {
    let n = 0;
    for (const l of this.labs.all()) if (l.clientIp !== POOL_CLIENT) n++;
    return n;
  }

  countForClient(ip: string): number {
    let n = 0;
    for (const l of this.labs.all()) if (l.clientIp === ip && !this.pool.includes(l)) n++;
    return n;
  }

  async create(opts: CreateOptions = {}): Promise<CreatedLab> {
    if (this.closed) throw new CapacityError("The server is shutting down.", false);
    const clientIp = opts.clientIp ?? "local";
    if (!opts.admitted && this.countForClient(clientIp) >= this.config.labsPerClient)
      throw new CapacityError(`Your address already has ${this.config.labsPerClient} labs open. Close one (or reset a lesson's lab) first.`, true);
    const started = performance.now();
    this.demand.push(Date.now());
    let lab: Lab | undefined;
    while ((lab = this.pool.shift()) && !lab.running) await this.destroy(lab.id).catch(() => {});
    // The refill begins once this learner's page has its lab and its prompt: a new lab's first
    // steps (its cgroups, its spec) run on this thread and its making takes a core, which would hold
    // up the answer and the socket of the lab just handed out. In a burst it begins at once.
    if (this.demand.length > this.config.poolSize) setImmediate(() => this.refill());
    else setTimeout(() => this.refill(), REFILL_AFTER_MS);
    let made: CreatedLab;
    if (!lab) {
      try {
        made = await this.createCold(opts);
      } catch (e) {
        if (!(e instanceof CapacityError)) this.emit("failed", failedStep(e), e);
        throw e;
      }
      // after the lesson's setup (its files are there for the login shell), before the answer
      if (opts.terminal) this.hooks.prestart?.(made.lab);
    } else {
      const token = newToken();
      lab.handOut(tokenHash(token), clientIp, opts.lesson ?? null);
      if (opts.lifetime) lab.lifetime.set(opts.lifetime);
      this.hooks.handedOut?.(lab);
      try {
        if (opts.lesson) await this.hooks.assignLesson?.(lab, opts.lesson);
      } catch (e) {
        this.emit("failed", "setup", e);
        await this.destroy(lab.id);
        throw e;
      }
      made = { lab, token };
    }
    made.lab.requested = { at: started, pooled: !!lab };
    this.emit("created", made.lab, { pooled: !!lab, ms: performance.now() - started });
    return made;
  }

  private async createCold(opts: CreateOptions): Promise<CreatedLab> {
    const clientIp = opts.clientIp ?? "local";
    if (this.labs.size >= this.config.maxLabs)
      throw new CapacityError(`This server is at its limit of ${this.config.maxLabs} labs. Try again in a few minutes.`, false);
    if (!opts.admitted && this.countForClient(clientIp) >= this.config.labsPerClient)
      throw new CapacityError(`Your address already has ${this.config.labsPerClient} labs open. Close one (or reset a lesson's lab) first.`, true);
    // the cgroups a lab's end made ahead, if any (with their id and uid range), else new ones
    const spare = this.spare;
    this.spare = null;
    // the helper being started ahead is joining these cgroups: this lab takes it once it is ready
    // (a lab in other cgroups would not, and it would wait in these until the next one let it go)
    if (spare && this.preparing) await this.preparing;
    const range = spare?.range ?? (this.mode === "root" ? this.ids.acquire() : { slot: -1, hostId: this.config.uid });
    if (!range) throw new CapacityError("No uid range is free for a new lab.", false);
    const id = spare?.id ?? crypto.randomBytes(8).toString("hex");
    const token = newToken();
    const hostname = `lab-${id.slice(0, 6)}`;
    const trace = spare?.trace ?? new TraceLog();
    let cgroup: LabCgroup | null = spare?.cgroup ?? null;
    try {
      const L = this.config.limits;
      if (!cgroup && this.cgroups.version)
        cgroup = this.cgroups.create(id, L, { uid: range.hostId, gid: range.hostId }, (sys, args, fn) => trace.addServer("lab", sys, args, fn));
      // a page's first terminal starts with the lab (after a lesson's setup, if it has one: its
      // files are there for the login shell)
      const first = opts.terminal && !opts.lesson ? this.hooks.firstShell : undefined;
      const spec = this.labSpec(hostname, range.hostId, cgroup);
      if (first) spec.shell = firstShellSpec(first.argv, first, cgroup, this.config.traceSyscalls);
      const started = Date.now();
      let created;
      try {
        created = await labCreate(spec);
      } catch (e) {
        if (e instanceof NativeError) {
          trace.addNative("lab", e.trace, started);
          throw new LabCreateError(e);
        }
        throw e;
      }
      // its first shell is being started by the same helper: collected in the background, the
      // lab is answered now (its terminal waits for the shell: Lab.takeFirstShell)
      const shell = created.shellPending ? { started: Date.now(), done: labShell(created.shellPending) } : null;
      trace.addNative("lab", created.trace, started);
      const lab = new Lab({
        id,
        tokenHash: tokenHash(token),
        mode: this.mode,
        hostname,
        lesson: opts.lesson ?? null,
        clientIp,
        init: new LabProcess(created.pid, created.pidfd),
        timens: created.timens,
        cgroup,
        cgroups: this.cgroups,
        limits: { pids: L.pids, memoryBytes: L.memoryBytes, cpuPercent: L.cpuPercent, scratchBytes: L.scratchBytes },
        trace,
        traceSyscalls: this.config.traceSyscalls,
        ...(this.hooks.learnerCall ? { learnerCall: this.hooks.learnerCall } : {}),
        lifetime: {
          idleMs: this.config.idleTimeoutMs || null,
          maxMs: this.config.maxLifetimeMs || null,
          deadline: null,
          ...opts.lifetime,
        },
      });
      if (shell) lab.holdFirstShell(shell.done, first!.argv, shell.started);
      this.labs.add(lab);
      if (range.slot >= 0) this.slots.set(id, range.slot);
      if (cgroup?.delegated) this.cgroupGuard?.add(id, cgroup.delegated);
      if (cgroup) this.cgroups.settle(cgroup, created.pid, (sys, args, fn) => trace.addServer("lab", sys, args, fn));
      if (opts.lesson) await this.hooks.assignLesson?.(lab, opts.lesson);
      return { lab, token };
    } catch (e) {
      if (!this.labs.get(id)) {
        if (cgroup) await this.cgroups.destroy(cgroup).catch(() => {});
        if (range.slot >= 0) this.ids.release(range.slot);
      } else {
        await this.destroy(id);
      }
      throw e;
    }
  }

  /**
   * What the native core builds for a lab (the policy): root mode maps idsPerLab ids from the
   * lab's own range; rootless mode maps root to the server's own uid and gid only, and must deny
   * setgroups first (user_namespaces(7); CVE-2014-8989).
   */
  private labSpec(hostname: string, hostId: number, cgroup: LabCgroup | null): LabSpec {
    const rootless = this.mode === "rootless";
    const n = this.config.idsPerLab;
    return {
      hostname,
      domainname: "(none)",
      uidMap: { inside: 0, outside: hostId, count: rootless ? 1 : n },
      gidMap: { inside: 0, outside: rootless ? this.config.gid : hostId, count: rootless ? 1 : n },
      setgroups: rootless ? "deny" : "allow",
      timens: this.timens,
      initFd: this.initFd,
      cgroupProcs: cgroup?.rootProcs ?? [],
      ...rootfs({
        stagingDir: this.staging,
        etcTemplate: this.etcTemplate,
        scratchBytes: this.config.limits.scratchBytes,
        shmBytes: this.config.limits.shmBytes,
        cgroupBinds: cgroup?.binds ?? [],
        rootless,
        hide: this.hide,
      }),
    };
  }

  get(id: string): Lab | undefined {
    return this.labs.get(id);
  }

  /** The lab if the token is right; undefined for an unknown lab or a wrong token alike. */
  authenticate(id: string, token: string | null | undefined): Lab | undefined {
    if (!token || typeof id !== "string") return undefined;
    const lab = this.labs.get(id);
    // a lab being destroyed is no longer anyone's (ended() says why)
    return lab && !lab.endReason && lab.tokenMatches(token) ? lab : undefined;
  }

  /**
   * A further token for a live, handed-out lab, for an owner that hands the lab out again (a class
   * learner rejoining): the caller passes it on and keeps it no more than the manager does.
   */
  issueToken(id: string): string | undefined {
    const lab = this.labs.get(id);
    if (!lab || lab.endReason || !lab.running) return undefined;
    const token = newToken();
    lab.addToken(tokenHash(token));
    return token;
  }

  /** Every lab, pooled ones included. */
  all(): Lab[] {
    return this.labs.all();
  }

  /** Labs that belong to learners (pooled ones excluded). */
  list(): Lab[] {
    return this.labs.all().filter((l) => !this.pool.includes(l));
  }

  /**
   * Destroys the lab, then forgets it and frees its uid range (even if destroying failed).
   * `reason` is what its pages are told ("deleted": its learner asked for it).
   */
  async destroy(id: string, reason: LabEndReason = "deleted"): Promise<boolean> {
    const lab = this.labs.get(id);
    if (!lab) return false;
    const i = this.pool.indexOf(lab);
    if (i >= 0) this.pool.splice(i, 1);
    this.cgroupGuard?.remove(id);
    const handedOut = lab.clientIp !== POOL_CLIENT;
    // a lab its learner deleted is just gone (404); one the server put away says why (410), from now on
    if (reason !== "deleted" && handedOut && !lab.endReason) this.endedLabs.set(id, { tokenHashes: [...lab.tokenDigests], reason, at: Date.now() });
    try {
      await lab.destroy(reason);
    } finally {
      this.labs.remove(id);
      const slot = this.slots.get(id);
      this.slots.delete(id);
      if (slot !== undefined) this.ids.release(slot);
      if (handedOut) this.emit("ended", lab, lab.endReason ?? reason);
      // the next lab's cgroups and helper, ready when it is asked for
      this.makeSpare();
      if (!this.closed && !this.preparing) this.preparing = prepareLabHelper(this.initFd, this.spare?.cgroup.rootProcs ?? []).finally(() => (this.preparing = null));
    }
    return true;
  }

  /** The id the next lab's cgroups were made for (their directories' name), if they are made. */
  get spareCgroups(): string | null {
    return this.spare?.id ?? null;
  }

  /** Makes the next lab's cgroups now (see `spare`), unless they are made already. */
  private makeSpare(): void {
    if (this.closed || this.spare || this.mode !== "root" || !this.cgroups.version) return;
    const range = this.ids.acquire();
    if (!range) return;
    const id = crypto.randomBytes(8).toString("hex");
    const trace = new TraceLog();
    try {
      const cgroup = this.cgroups.create(id, this.config.limits, { uid: range.hostId, gid: range.hostId }, (sys, args, fn) => trace.addServer("lab", sys, args, fn));
      this.spare = { id, range, cgroup, trace };
    } catch (e) {
      this.ids.release(range.slot);
      console.error("nslab: could not make a lab's cgroups ahead:", e instanceof Error ? e.message : e);
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.cgroupGuard?.close();
    this.pool.length = 0;
    await Promise.allSettled(this.labs.all().map((l) => this.destroy(l.id, "shutdown")));
    // the helper started ahead goes first: it is in the spare cgroups
    await this.preparing;
    unprepareLabHelper(this.initFd);
    const spare = this.spare;
    this.spare = null;
    if (spare) {
      await this.cgroups.destroy(spare.cgroup).catch(() => {});
      this.ids.release(spare.range.slot);
    }
    this.cgroups.release();
    closeFd(this.initFd);
    this.unlockStateDir();
  }
}


/** 192 random bits, base64url: the lab's bearer token. */
function newToken(): string {
  return crypto.randomBytes(24).toString("base64url");
}


/** The step a lab creation failed at, for the failures metric. */
function failedStep(e: unknown): string {
  if (e instanceof LabCreateError) return e.failure.step || "native";
  const msg = e instanceof Error ? e.message : "";
  if (/cgroup/i.test(msg) || (e as NodeJS.ErrnoException)?.syscall === "mkdir") return "cgroup";
  return "server";
}
