import "server-only";
import fs from "node:fs";
import { EXPLORER_MAX_MOUNT_PIDS, NS_TYPES, type ExplorerServerMessage, type LabSnapshot, type TraceEntry } from "../../lib/protocol.ts";
import type { LabHandle } from "../labs/types.ts";
import { LabInspector, snapshotHash, type TerminalShell } from "./snapshot.ts";

/**
 * Pushes what a lab's kernel state looks like to whoever watches it (the explorer WebSocket).
 *
 * Nothing runs for a lab nobody watches: the first subscriber starts its watch (an activity
 * listener, a poll timer, a trace listener), the last one to leave stops all of it. While watched,
 * the lab is inspected again shortly after each activity event (terminal output, a finished
 * command: throttled to one inspection per `debounceMs`) and every `pollMs` for changes nothing
 * announces (a background `sleep 1; unshare …`). A snapshot is sent only when its hash changed.
 */

export type Send = (msg: ExplorerServerMessage) => void;

/** A subscription: call it to leave; `.mounts(pids)` chooses whose mount tables to follow. */
export interface Subscription {
  (): void;
  mounts(pids: number[]): void;
}

export interface HubOptions {
  /** after an activity event, inspect within this many ms (default 50) */
  debounceMs?: number;
  /** inspect at least this often while watched (default 250: background changes show within 300 ms) */
  pollMs?: number;
  /** trace entries a new subscriber gets from the lab's ring (default 500) */
  traceBacklog?: number;
  /** false once a lab is gone (default: its `running`): its subscribers get a "lab_gone" error and the watch stops */
  isAlive?: (lab: LabHandle) => boolean;
  /** how many processes' mounts one subscriber may follow (default 4) */
  maxMountPids?: number;
  /** the shell the server started for each open terminal of a lab (marks each process's terminal; default none) */
  shellsOf?: (lab: LabHandle) => TerminalShell[];
}

interface Subscriber {
  send: Send;
  mountPids: number[];
  mountHashes: Map<number, string>;
}

class Watch {
  readonly subs = new Set<Subscriber>();
  readonly inspector: LabInspector;
  hash: string | null = null;
  last: LabSnapshot | null = null;
  lastSeq = 0;
  debounce: NodeJS.Timeout | null = null;
  poll: NodeJS.Timeout | null = null;
  running: Promise<void> | null = null;
  again = false;
  disposed = false;
  traceQueued = false;
  offs: (() => void)[] = [];
  errorLogged = false;
  /** the last cheap fingerprint the poll saw, and when something last changed */
  print: string | null = null;
  changedAt = Date.now();
  ticks = 0;
  constructor(
    readonly lab: LabHandle,
    shells: () => TerminalShell[],
  ) {
    this.inspector = new LabInspector(lab, shells);
  }
}

export class ExplorerHub {
  private readonly watches = new Map<LabHandle, Watch>();
  private readonly o: Required<HubOptions>;

  constructor(opts: HubOptions = {}) {
    this.o = {
      debounceMs: opts.debounceMs ?? 50,
      pollMs: opts.pollMs ?? 250,
      traceBacklog: opts.traceBacklog ?? 500,
      isAlive: opts.isAlive ?? ((lab) => lab.running),
      maxMountPids: opts.maxMountPids ?? EXPLORER_MAX_MOUNT_PIDS,
      shellsOf: opts.shellsOf ?? (() => []),
    };
  }

  /** Labs with at least one subscriber (each has exactly one poll timer). */
  get watching(): number {
    return this.watches.size;
  }

  /** Whether this lab has a running watch (timers, listeners). */
  isWatching(lab: LabHandle): boolean {
    return this.watches.has(lab);
  }

  subscribe(lab: LabHandle, send: Send): Subscription {
    let w = this.watches.get(lab);
    if (!w) w = this.start(lab);
    const sub: Subscriber = { send, mountPids: [], mountHashes: new Map() };
    w.subs.add(sub);
    const watch = w;

    // what the newcomer needs at once: the current picture and the trace so far
    if (watch.last) deliver(sub, { type: "snapshot", snapshot: watch.last });
    this.pullTrace(watch);
    const backlog = lab.trace().filter((e) => e.seq <= watch.lastSeq).slice(-this.o.traceBacklog);
    if (backlog.length) deliver(sub, { type: "trace", entries: backlog });
    this.refresh(watch);

    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      watch.subs.delete(sub);
      if (watch.subs.size === 0) this.stop(watch);
    };
    return Object.assign(leave, {
      mounts: (pids: number[]) => {
        if (left) return;
        sub.mountPids = [...new Set(pids.filter((p) => Number.isSafeInteger(p) && p > 0))].slice(0, this.o.maxMountPids);
        sub.mountHashes.clear(); // the next refresh sends them even if unchanged
        this.refresh(watch);
      },
    });
  }

  /** Resolves once no inspection of this lab is running or queued (what a test waits for). */
  async settled(lab: LabHandle): Promise<void> {
    for (let w = this.watches.get(lab); w?.running; w = this.watches.get(lab)) await w.running;
  }

  /** Stops every watch (server shutdown). */
  close(): void {
    for (const w of [...this.watches.values()]) this.stop(w);
  }

  private start(lab: LabHandle): Watch {
    const w = new Watch(lab, () => this.o.shellsOf(lab));
    this.watches.set(lab, w);
    w.offs.push(lab.onActivity(() => this.activity(w)));
    w.offs.push(
      lab.onTrace(() => {
        // batch the records of one native call into one message
        if (w.traceQueued) return;
        w.traceQueued = true;
        setImmediate(() => {
          w.traceQueued = false;
          this.pullTrace(w);
        });
      }),
    );
    w.poll = setInterval(() => this.pollTick(w), this.o.pollMs);
    w.poll.unref();
    w.lastSeq = lab.trace().at(-1)?.seq ?? 0;
    return w;
  }

  private stop(w: Watch): void {
    if (w.disposed) return;
    w.disposed = true;
    if (w.debounce) clearTimeout(w.debounce);
    if (w.poll) clearInterval(w.poll);
    w.debounce = w.poll = null;
    for (const off of w.offs.splice(0)) off();
    w.subs.clear();
    if (this.watches.get(w.lab) === w) this.watches.delete(w.lab);
  }

  private activity(w: Watch): void {
    if (w.disposed || w.debounce) return;
    w.debounce = setTimeout(() => {
      w.debounce = null;
      this.refresh(w);
    }, this.o.debounceMs);
    w.debounce.unref();
  }

  private broadcast(w: Watch, msg: ExplorerServerMessage): void {
    for (const s of w.subs) deliver(s, msg);
  }

  private pullTrace(w: Watch): void {
    if (w.disposed) return;
    const entries = w.lab.trace();
    const fresh = entries.filter((e) => e.seq > w.lastSeq);
    if (!fresh.length) return;
    w.lastSeq = fresh.at(-1)!.seq;
    this.broadcast(w, { type: "trace", entries: fresh });
  }

  /**
   * The poll looks for changes nobody announced. It first takes a cheap fingerprint (the lab's
   * pids, each one's comm and namespace links: ~10 small reads per process) and inspects fully
   * only when that changed or someone follows mount tables. A lab quiet for a while is polled at a
   * quarter of the rate; terminal activity still triggers an inspection at once. Measured with
   * bench/explorer-idle.ts: 50 watched idle labs went from 24 % of a core to a few percent.
   */
  private async pollTick(w: Watch): Promise<void> {
    if (w.disposed || w.running) return;
    const quiet = Date.now() - w.changedAt > IDLE_AFTER_MS;
    if (quiet && w.ticks++ % 4 !== 0) return;
    const followsMounts = [...w.subs].some((s) => s.mountPids.length > 0);
    if (!followsMounts && this.o.isAlive(w.lab)) {
      const print = await fingerprint(w.lab).catch(() => null);
      if (print !== null && print === w.print) return;
      w.print = print;
    }
    this.refresh(w);
  }

  private failed(w: Watch, e: unknown): void {
    if (!w.errorLogged) console.error(`nslab: inspecting lab ${w.lab.id} failed:`, e);
    w.errorLogged = true;
  }

  /** Inspects the lab now, or once more after the inspection under way. */
  private refresh(w: Watch): void {
    if (w.disposed) return;
    if (w.running) {
      w.again = true;
      return;
    }
    w.running = (async () => {
      try {
        do {
          w.again = false;
          await this.inspect(w);
        } while (w.again && !w.disposed);
      } catch (e) {
        // whatever a lab's state does to the reading or the encoding of it (a huge table:
        // ERR_STRING_TOO_LONG), the watch goes on and the server stays up
        this.failed(w, e);
      } finally {
        w.running = null;
      }
    })();
  }

  private async inspect(w: Watch): Promise<void> {
    if (!this.o.isAlive(w.lab)) {
      this.pullTrace(w);
      this.broadcast(w, { type: "error", code: "lab_gone", message: "The lab is not running any more." });
      this.stop(w);
      return;
    }
    let snap: LabSnapshot;
    try {
      snap = await w.inspector.snapshot();
    } catch (e) {
      return this.failed(w, e);
    }
    if (w.disposed) return;
    const h = snapshotHash(snap);
    if (h !== w.hash) {
      w.hash = h;
      w.changedAt = Date.now();
      w.last = snap;
      this.broadcast(w, { type: "snapshot", snapshot: snap });
    }
    await this.inspectMounts(w);
    this.pullTrace(w);
  }

  private async inspectMounts(w: Watch): Promise<void> {
    const pids = new Set<number>();
    for (const s of w.subs) for (const p of s.mountPids) pids.add(p);
    if (!pids.size) return;
    const tables = await w.inspector.mountTables([...pids]);
    if (w.disposed) return;
    for (const s of w.subs) {
      for (const pid of s.mountPids) {
        const t = tables.get(pid); // none: not (or no longer) a process of this lab
        const h = t?.hash ?? "none";
        if (s.mountHashes.get(pid) === h) continue;
        s.mountHashes.set(pid, h);
        // one message object per table and change, shared by every subscriber (the socket serializes it once)
        deliver(s, t ? (t.message ??= { type: "mounts", pid, mounts: t.mounts, ...(t.truncated ? { truncated: true } : {}) }) : { type: "mounts", pid, mounts: [] });
      }
      for (const pid of s.mountHashes.keys()) if (!s.mountPids.includes(pid)) s.mountHashes.delete(pid);
    }
  }
}

const IDLE_AFTER_MS = 5_000;

/** What a change to the lab's processes or namespaces would alter, read cheaply. */
async function fingerprint(lab: LabHandle): Promise<string> {
  const pids = lab.hostPidsSync() ?? (await lab.hostPids());
  const parts: string[] = [];
  for (const p of pids) {
    try {
      parts.push(`${p}:${fs.readFileSync(`/proc/${p}/comm`, "latin1")}:${NS_TYPES.map((t) => fs.readlinkSync(`/proc/${p}/ns/${t}`)).join(",")}`);
    } catch {
      parts.push(`${p}:gone`);
    }
  }
  return parts.join(";");
}

function deliver(s: Subscriber, msg: ExplorerServerMessage): void {
  try {
    s.send(msg);
  } catch (e) {
    console.error("nslab: an explorer subscriber failed", e);
  }
}
