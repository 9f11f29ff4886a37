import "server-only";
import tty from "node:tty";
import { CLOSE, FLOW_HIGH_WATER, FLOW_LOW_WATER, type ClosedReason, type CloseCode, type LabEndReason, type ServerControl } from "../../lib/protocol.ts";
import { setWinsize, signalName } from "../native/core.ts";
import type { ExitStatus } from "../native/exits.ts";
import type { LabProcess } from "../labs/process.ts";
import { CommandMarks } from "./osc.ts";

const COALESCE_MS = 2;
const COALESCE_BYTES = 32 * 1024;
/** a flush at least this big means output is streaming (a pty read is at most ~4 KiB), not echo */
const STREAM_CHUNK = 2048;
import { Scrollback } from "./scrollback.ts";

/** One attached browser (or other client) of a terminal. */
export interface TerminalClient {
  sendData(data: Buffer): void;
  sendControl(msg: ServerControl): void;
  /** Ends the connection (the terminal stays). */
  close(code: CloseCode, reason: string): void;
}

export interface TerminalOptions {
  scrollbackBytes: number;
  graceMs: number;
  inputBytesPerSec: number;
  inputBurstBytes: number;
}

/**
 * Someone following a terminal's output without driving it (a broadcast stream, an instructor
 * looking over a learner's shoulder). Observers see every byte the pty gives, attached client or
 * not, and are never flow-controlled: they must not block (see broadcast.ts).
 */
export interface TerminalObserver {
  output(data: Buffer): void;
  resize(cols: number, rows: number): void;
  closed(): void;
}

export interface TerminalHooks {
  /** output, or the shell's exit */
  onActivity(): void;
  /** input from the learner (or someone they let type) */
  onInput?(): void;
  onDisposed(t: Terminal): void;
}

/**
 * A shell on a pty of a lab's own devpts. It owns the pty master (through the tty stream) and the
 * shell process. One client at a time is attached; a new attachment replaces the old one, so
 * input is never duplicated. Output is flow-controlled by the client's acknowledgements: above
 * FLOW_HIGH_WATER unacknowledged bytes the pty is not read, so a `yes` flood waits in the kernel's
 * pty buffer instead of in our memory or the browser's. While nobody is attached, output is read
 * into the scrollback until a scrollback's worth has arrived, then the pty is left to fill.
 */
export class Terminal {
  private stream: tty.ReadStream;
  private scroll: Scrollback;
  private marks = new CommandMarks();
  private client: TerminalClient | null = null;
  private unacked = 0;
  private paused = false;
  /** output read while nobody is attached; reading stops once a scrollback's worth is held */
  private detachedBytes = 0;
  /** output read but not yet sent to the client (see onOutput) */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingMarks: number[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private lastFlushBytes = 0;
  private graceTimer: NodeJS.Timeout | null = null;
  private tokens: number;
  private lastRefill = Date.now();
  private disposed = false;
  private readonly observers = new Set<TerminalObserver>();
  exit: ExitStatus | null = null;
  everAttached = false;
  cols: number;
  rows: number;

  constructor(
    readonly id: string,
    private readonly proc: LabProcess,
    private readonly masterFd: number,
    size: { cols: number; rows: number },
    private readonly opts: TerminalOptions,
    private readonly hooks: TerminalHooks,
  ) {
    this.cols = size.cols;
    this.rows = size.rows;
    this.scroll = new Scrollback(opts.scrollbackBytes);
    this.tokens = opts.inputBurstBytes;
    this.stream = new tty.ReadStream(masterFd);
    this.stream.on("data", (d: Buffer) => this.onOutput(d));
    // EIO is how a pty master reports that the shell side is gone; exit comes from the monitor
    this.stream.on("error", () => {});
    proc.exited.then((st) => this.onExit(st));
    this.startGrace();
  }

  get attached(): boolean {
    return this.client !== null;
  }
  get pid(): number {
    return this.proc.pid;
  }
  get outputOffset(): number {
    return this.scroll.end;
  }

  attach(client: TerminalClient, offset: number): void {
    if (this.disposed) throw new Error("terminal is closed");
    if (this.client && this.client !== client) this.client.close(CLOSE.ATTACHED_ELSEWHERE, "attached elsewhere");
    this.dropPending(); // the replay below covers it
    this.client = client;
    this.everAttached = true;
    this.clearGrace();
    const { data, from, complete } = this.scroll.since(offset);
    client.sendControl({ type: "ready", terminal: this.id, offset: from, replayed: data.length, reset: !complete });
    if (data.length) client.sendData(data);
    this.unacked = data.length;
    if (this.exit) client.sendControl(exitMessage(this.exit));
    this.setPaused(this.unacked > FLOW_HIGH_WATER);
  }

  detach(client: TerminalClient): void {
    if (this.client !== client) return;
    this.dropPending();
    this.client = null;
    // keep reading what the shell prints meanwhile, up to a scrollback's worth, so a reattach
    // shows it; then the pty fills and the shell waits, as on a stopped terminal
    this.detachedBytes = 0;
    this.setPaused(false);
    if (this.exit) this.dispose("terminal-closed");
    else this.startGrace();
  }

  /** Input from the attached client. Returns false when over the input rate limit (dropped). */
  input(client: TerminalClient, data: Buffer): boolean {
    if (client !== this.client || this.exit || this.disposed) return true;
    return this.write(data);
  }

  /** Writes input to the pty within the input rate limit (token bucket); false when dropped. */
  private write(data: Buffer): boolean {
    this.hooks.onInput?.();
    const now = Date.now();
    this.tokens = Math.min(this.opts.inputBurstBytes, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.inputBytesPerSec);
    this.lastRefill = now;
    if (data.length > this.tokens) return false;
    this.tokens -= data.length;
    this.stream.write(data);
    return true;
  }

  /**
   * Input from someone the learner let take over (not the attached client); the same rate limit
   * as the learner's own input applies to both together. False when dropped.
   */
  inject(data: Buffer): boolean {
    if (this.exit || this.disposed) return false;
    return this.write(data);
  }

  /** Follows the output from now on; returns the function that stops following. */
  observe(o: TerminalObserver): () => void {
    if (this.disposed) {
      o.closed();
      return () => {};
    }
    this.observers.add(o);
    return () => this.observers.delete(o);
  }

  get closed(): boolean {
    return this.disposed;
  }

  /** The last `maxBytes` of output (what a new observer needs to rebuild the screen). */
  recent(maxBytes: number): Buffer {
    return this.scroll.since(Math.max(0, this.scroll.end - maxBytes)).data;
  }

  ack(client: TerminalClient, bytes: number): void {
    if (client !== this.client) return;
    this.unacked = Math.max(0, this.unacked - bytes);
    if (this.paused && this.unacked < FLOW_LOW_WATER) this.setPaused(false);
  }

  resize(cols: number, rows: number): boolean {
    if (this.disposed) return false;
    this.cols = cols;
    this.rows = rows;
    for (const o of this.observers) o.resize(cols, rows);
    return setWinsize(this.masterFd, rows, cols);
  }

  /** Ends the shell (SIGHUP to its session, then SIGKILL) and releases the pty. */
  dispose(reason: ClosedReason, why?: { message: string; ended: LabEndReason }): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearGrace();
    this.flush(); // the last output before the end
    if (!this.exit) {
      this.proc.killGroup("SIGHUP");
      this.proc.kill("SIGKILL");
    }
    this.stream.destroy(); // closes the master fd
    const messages = {
      "grace-expired": "This terminal was closed after being disconnected for too long.",
      "lab-destroyed": "The lab was shut down.",
      "terminal-closed": "The terminal was closed.",
    };
    if (this.client) {
      this.client.sendControl({ type: "closed", reason, message: why?.message ?? messages[reason], ...(why ? { ended: why.ended } : {}) });
      this.client.close(CLOSE.TERMINAL_CLOSED, reason);
      this.client = null;
    }
    for (const o of [...this.observers]) o.closed();
    this.observers.clear();
    this.hooks.onDisposed(this);
  }

  private onOutput(data: Buffer): void {
    this.scroll.append(data);
    for (const o of this.observers) o.output(data);
    const finished = this.marks.scan(data);
    if (this.client) {
      this.pending.push(data);
      this.pendingBytes += data.length;
      this.pendingMarks.push(...finished);
      // Small output, or output after quiet, goes out at once (a keystroke's echo); output that
      // streams is sent in frames of up to COALESCE_BYTES or every COALESCE_MS, not one per pty
      // read (measured with bench/terminal: flood 44 -> 63 MB/s, 95% of a bare pty's rate).
      const streaming = performance.now() - this.lastFlush < COALESCE_MS && this.lastFlushBytes >= STREAM_CHUNK;
      if (!streaming || this.pendingBytes >= COALESCE_BYTES) this.flush();
      else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), COALESCE_MS);
    } else {
      this.detachedBytes += data.length;
      if (this.detachedBytes >= this.opts.scrollbackBytes) this.setPaused(true);
    }
    this.hooks.onActivity();
  }

  /** Sends what is pending to the attached client, then the command marks it carried. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.lastFlush = performance.now();
    const client = this.client;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.lastFlushBytes = data.length;
    const marks = this.pendingMarks;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMarks = [];
    if (!client || !data.length) return;
    client.sendData(data);
    this.unacked += data.length;
    if (this.unacked > FLOW_HIGH_WATER) this.setPaused(true);
    for (const code of marks) client.sendControl({ type: "command", exitCode: code });
  }

  /** Forgets unsent output when the client goes: the scrollback holds it for a reattach. */
  private dropPending(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMarks = [];
  }

  private onExit(st: ExitStatus): void {
    this.exit = st;
    // let the last output drain from the pty before announcing the exit
    setTimeout(() => {
      if (this.disposed) return;
      this.flush();
      this.client?.sendControl(exitMessage(st));
      this.hooks.onActivity();
      if (!this.client) this.startGrace();
    }, 30);
  }

  private setPaused(p: boolean): void {
    if (p === this.paused) return;
    this.paused = p;
    if (p) this.stream.pause();
    else this.stream.resume();
  }

  /** A pooled lab's terminal waits unattached; its grace period starts when the lab is handed out. */
  restartGrace(): void {
    if (!this.client && !this.disposed) this.startGrace();
  }

  private startGrace(): void {
    this.clearGrace();
    // 0 (the default): a disconnected shell is kept as long as its lab
    if (this.opts.graceMs === 0) return;
    this.graceTimer = setTimeout(() => this.dispose(this.exit ? "terminal-closed" : "grace-expired"), this.opts.graceMs);
    this.graceTimer.unref();
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }
}

function exitMessage(st: ExitStatus): ServerControl {
  return { type: "exit", code: st.code, signal: signalName(st.signal) };
}
