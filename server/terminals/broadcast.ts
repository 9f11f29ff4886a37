import "server-only";
import headlessPkg from "@xterm/headless";
import serializePkg from "@xterm/addon-serialize";
import { STREAM_MAX, type StreamMessage } from "../../lib/classes.ts";
import type { TerminalObserver } from "./terminal.ts";

const { Terminal: HeadlessTerminal } = headlessPkg;
const { SerializeAddon } = serializePkg;
type Headless = InstanceType<typeof HeadlessTerminal>;
type Serializer = InstanceType<typeof SerializeAddon>;

/** One read-only viewer of a stream (a WebSocket, in the server). Sending must never block. */
export interface StreamViewer {
  sendData(data: Buffer): void;
  sendControl(msg: StreamMessage): void;
  /** bytes handed to the connection and not yet written to the network (ws: bufferedAmount) */
  buffered(): number;
}

/** What a stream follows: a terminal (terminal.ts implements this). */
export interface StreamSource {
  readonly cols: number;
  readonly rows: number;
  observe(o: TerminalObserver): () => void;
  recent(maxBytes: number): Buffer;
}

export interface StreamOptions {
  /** per viewer: above this many unsent bytes it is "behind", gets nothing, and later a fresh screen */
  maxQueueBytes: number;
  /** the source's output is relayed at most this fast; beyond it the stream drops to snapshots */
  bytesPerSec: number;
  burstBytes: number;
  /** scrollback lines a joining viewer gets with the screen */
  scrollback: number;
  onEnd?(): void;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  maxQueueBytes: 256 * 1024,
  bytesPerSec: 512 * 1024,
  burstBytes: 1024 * 1024,
  scrollback: 200,
};

/** how much recent output rebuilds the screen after the stream dropped data over its rate */
const SEED_BYTES = 64 * 1024;
const COALESCE_MS = 4;
const STREAM_CHUNK = 2048;
const CHECK_MS = 100;

type Item = Buffer | { cols: number; rows: number };
interface ViewerState {
  mode: "sync" | "live" | "behind";
  /** the model barrier whose snapshot this viewer waits for (null: the next one to be issued) */
  waitFor: number | null;
  reason: Extract<StreamMessage, { type: "reset" }>["reason"];
  /** output after the barrier, held until the snapshot is sent */
  pending: Item[];
  pendingBytes: number;
}

const cap = (cols: number, rows: number) => ({
  cols: Math.max(2, Math.min(STREAM_MAX.cols, cols)),
  rows: Math.max(1, Math.min(STREAM_MAX.rows, rows)),
});

/**
 * A terminal relayed read-only to many viewers, the way asciinema's live streams do it: a
 * server-side terminal model (@xterm/headless) follows the output, so a viewer who joins late, or
 * who fell behind, gets the current screen at once (@xterm/addon-serialize) and then the live
 * bytes. Every viewer has its own bounded queue: one that does not keep up is skipped (never
 * waited for, never queued without limit) and resynchronised with a snapshot once its connection
 * drains, so a slow viewer costs the others nothing. The source's rate into the stream is capped:
 * above it the stream stops relaying bytes and, once the flood eases, sends everyone a fresh
 * screen. The model is capped at STREAM_MAX columns and rows.
 *
 * Snapshots are exact: a joining viewer is tied to a write barrier in the model (`write("", cb)`);
 * in the callback the model holds exactly the output before the barrier, and the viewer gets that
 * screen followed by every byte after it.
 *
 * Owner: whoever made it (the classroom); dispose() stops following the source.
 */
export class TerminalStream {
  private model: Headless;
  private serializer: Serializer;
  private readonly viewers = new Map<StreamViewer, ViewerState>();
  private readonly unobserve: () => void;
  private barrierInFlight: number | null = null;
  private nextBarrier = 1;
  private out: Buffer[] = [];
  private outBytes = 0;
  private outTimer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private lastFlushBytes = 0;
  private tokens: number;
  private lastRefill = performance.now();
  private overflow = false;
  private checkTimer: NodeJS.Timeout | null = null;
  private disposed = false;
  cols: number;
  rows: number;
  /** relayed bytes and dropped-over-rate bytes, for the bench and tests */
  readonly stats = { bytes: 0, dropped: 0, snapshots: 0, behind: 0 };

  constructor(
    private readonly source: StreamSource,
    private readonly opts: StreamOptions = DEFAULT_STREAM_OPTIONS,
  ) {
    const size = cap(source.cols, source.rows);
    this.cols = size.cols;
    this.rows = size.rows;
    this.tokens = opts.burstBytes;
    [this.model, this.serializer] = this.newModel();
    this.unobserve = source.observe({
      output: (d) => this.onOutput(d),
      resize: (c, r) => this.onResize(c, r),
      closed: () => {
        this.dispose();
        this.opts.onEnd?.();
      },
    });
  }

  /** A terminal model holding what is on the source's screen now (rebuilt from its recent output). */
  private newModel(): [Headless, Serializer] {
    const model = new HeadlessTerminal({ cols: this.cols, rows: this.rows, scrollback: this.opts.scrollback, allowProposedApi: true });
    const serializer = new SerializeAddon();
    model.loadAddon(serializer);
    model.write(this.source.recent(SEED_BYTES));
    return [model, serializer];
  }

  get size(): number {
    return this.viewers.size;
  }

  /** A new viewer: it gets a reset, the current screen, then the live output. */
  add(v: StreamViewer, reason: ViewerState["reason"] = "join"): void {
    if (this.disposed) return;
    this.viewers.set(v, { mode: "sync", waitFor: null, reason, pending: [], pendingBytes: 0 });
    this.issueBarrier();
  }

  remove(v: StreamViewer): void {
    this.viewers.delete(v);
  }

  has(v: StreamViewer): boolean {
    return this.viewers.has(v);
  }

  /** Resolves once the model has taken in all output so far and every waiting viewer has its screen. */
  async idle(): Promise<void> {
    do await new Promise<void>((r) => this.model.write("", r));
    while (this.barrierInFlight !== null && !this.disposed);
  }

  /** The current screen as text lines (tests, and the dashboard's preview). */
  screenText(): string {
    const b = this.model.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n").trimEnd();
  }

  /** Stops following the source; viewers stay with the owner, who tells them what happened. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unobserve();
    if (this.outTimer) clearTimeout(this.outTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.viewers.clear();
    this.model.dispose();
  }

  private onOutput(data: Buffer): void {
    if (this.disposed) return;
    const now = performance.now();
    this.tokens = Math.min(this.opts.burstBytes, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.bytesPerSec);
    this.lastRefill = now;
    if (this.overflow || data.length > this.tokens) {
      // over the rate: relay nothing; once the tokens are back, everyone gets a fresh screen
      this.overflow = true;
      this.stats.dropped += data.length;
      this.ensureCheck();
      return;
    }
    this.tokens -= data.length;
    this.stats.bytes += data.length;
    this.model.write(data);
    for (const st of this.viewers.values()) if (st.mode === "sync" && st.waitFor !== null) this.hold(st, data);
    this.out.push(data);
    this.outBytes += data.length;
    // small output, or output after quiet, goes at once (a keystroke's echo); output that streams
    // is gathered for COALESCE_MS, so a flood is a few big frames per viewer rather than many small
    const streaming = now - this.lastFlush < COALESCE_MS && this.lastFlushBytes >= STREAM_CHUNK;
    if (!streaming || this.outBytes >= 32 * 1024) this.flush();
    else if (!this.outTimer) this.outTimer = setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    if (this.outTimer) clearTimeout(this.outTimer);
    this.outTimer = null;
    this.lastFlush = performance.now();
    if (!this.out.length) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    this.lastFlushBytes = data.length;
    for (const [v, st] of this.viewers) {
      if (st.mode !== "live") continue;
      if (v.buffered() > this.opts.maxQueueBytes) {
        st.mode = "behind";
        this.stats.behind++;
        this.ensureCheck();
        continue;
      }
      v.sendData(data);
    }
  }

  private onResize(cols: number, rows: number): void {
    if (this.disposed) return;
    const size = cap(cols, rows);
    if (size.cols === this.cols && size.rows === this.rows) return;
    this.flush();
    this.cols = size.cols;
    this.rows = size.rows;
    this.model.resize(size.cols, size.rows);
    for (const [v, st] of this.viewers) {
      if (st.mode === "live") v.sendControl({ type: "resize", ...size });
      else if (st.mode === "sync" && st.waitFor !== null) this.hold(st, size);
    }
  }

  /** Output (or a resize) for a viewer waiting for its snapshot; too much, and it waits for a later one. */
  private hold(st: ViewerState, item: Item): void {
    st.pending.push(item);
    st.pendingBytes += Buffer.isBuffer(item) ? item.length : 0;
    if (st.pendingBytes > this.opts.maxQueueBytes) {
      st.pending = [];
      st.pendingBytes = 0;
      st.waitFor = null;
      this.issueBarrier();
    }
  }

  /** Asks the model for a snapshot point for every viewer that waits for one. */
  private issueBarrier(): void {
    if (this.barrierInFlight !== null || this.disposed) return;
    const waiting = [...this.viewers.values()].filter((st) => st.mode === "sync" && st.waitFor === null);
    if (!waiting.length) return;
    const id = this.nextBarrier++;
    this.barrierInFlight = id;
    for (const st of waiting) st.waitFor = id;
    this.flush(); // bytes gathered before the barrier are in the model: send them to live viewers now
    const model = this.model;
    model.write("", () => {
      if (model === this.model) this.onBarrier(id);
    });
  }

  private onBarrier(id: number): void {
    this.barrierInFlight = null;
    if (this.disposed) return;
    let snapshot: Buffer | null = null;
    for (const [v, st] of this.viewers) {
      if (st.mode !== "sync" || st.waitFor !== id) continue;
      if (!snapshot) {
        snapshot = Buffer.from(this.serializer.serialize({ scrollback: this.opts.scrollback }), "utf8");
        this.stats.snapshots++;
      }
      // a resize is applied to the model at once (writes are queued), so the snapshot has today's size
      v.sendControl({ type: "reset", cols: this.cols, rows: this.rows, reason: st.reason });
      v.sendData(snapshot);
      for (const item of st.pending) {
        if (Buffer.isBuffer(item)) v.sendData(item);
        else v.sendControl({ type: "resize", ...item });
      }
      st.pending = [];
      st.pendingBytes = 0;
      st.mode = "live";
      st.waitFor = null;
    }
    this.issueBarrier(); // viewers who came while this one was in flight
  }

  /** While a viewer is behind or the stream is over its rate: look every CHECK_MS for the way out. */
  private ensureCheck(): void {
    if (this.checkTimer || this.disposed) return;
    this.checkTimer = setInterval(() => this.check(), CHECK_MS);
    this.checkTimer.unref();
  }

  private check(): void {
    let waiting = false;
    if (this.overflow) {
      const now = performance.now();
      this.tokens = Math.min(this.opts.burstBytes, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.bytesPerSec);
      this.lastRefill = now;
      if (this.tokens >= this.opts.burstBytes / 2) this.reseed();
      else waiting = true;
    }
    for (const [v, st] of this.viewers) {
      if (st.mode !== "behind") continue;
      if (v.buffered() === 0) {
        st.mode = "sync";
        st.waitFor = null;
        st.reason = "behind";
      } else waiting = true;
    }
    this.issueBarrier();
    if (!waiting && this.checkTimer) {
      clearInterval(this.checkTimer);
      this.checkTimer = null;
    }
  }

  /** After dropping output over the rate: rebuild the model from the source's recent output, resync all. */
  private reseed(): void {
    this.overflow = false;
    this.out = [];
    this.outBytes = 0;
    // a new model: the old one may still hold unparsed output that the seed repeats
    this.model.dispose();
    [this.model, this.serializer] = this.newModel();
    this.barrierInFlight = null;
    for (const st of this.viewers.values()) {
      if (st.mode === "behind") continue; // it resyncs when it drains
      st.mode = "sync";
      st.waitFor = null;
      st.reason = "rate";
      st.pending = [];
      st.pendingBytes = 0;
    }
  }
}
