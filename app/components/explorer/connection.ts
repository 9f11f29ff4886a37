/**
 * The explorer's WebSocket (WS /api/labs/:id/explorer), independent of React: delivers server
 * messages, re-sends the chosen mount pids after every (re)connect, and reconnects with
 * exponential backoff until the lab is gone (close code 4410) or the connection is disposed.
 */
import type { ExplorerClientMessage, ExplorerServerMessage } from "@/lib/protocol";

export type ExplorerConnState =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; retryAt: number }
  | { kind: "gone"; message: string };

/** The subset of the browser's WebSocket this uses (a fake in tests). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ExplorerConnOptions {
  url: () => string;
  onMessage(msg: ExplorerServerMessage): void;
  onState(s: ExplorerConnState): void;
  socket?: (url: string) => SocketLike;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

const OPEN = 1;

export class ExplorerConnection {
  private ws: SocketLike | null = null;
  private gen = 0;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private pids: number[] = [];
  private disposed = false;
  private gone = false;
  private readonly min: number;
  private readonly max: number;

  constructor(private readonly o: ExplorerConnOptions) {
    this.min = o.backoffMinMs ?? 500;
    this.max = o.backoffMaxMs ?? 10_000;
  }

  connect(): void {
    if (this.disposed || this.gone) return;
    this.clearRetry();
    const gen = ++this.gen;
    this.o.onState(this.attempt === 0 ? { kind: "connecting" } : { kind: "reconnecting", attempt: this.attempt, retryAt: Date.now() });
    let ws: SocketLike;
    try {
      ws = this.o.socket ? this.o.socket(this.o.url()) : (new WebSocket(this.o.url()) as unknown as SocketLike);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (gen !== this.gen) return;
      this.o.onState({ kind: "open" });
      this.sendPids();
    };
    ws.onmessage = (ev) => {
      if (gen !== this.gen || typeof ev.data !== "string") return;
      let msg: ExplorerServerMessage;
      try {
        msg = JSON.parse(ev.data) as ExplorerServerMessage;
      } catch {
        return;
      }
      if (msg.type === "snapshot") this.attempt = 0; // a working connection: the next failure starts the backoff over
      if (msg.type === "error" && msg.code === "lab_gone") {
        this.gone = true;
        this.o.onState({ kind: "gone", message: msg.message });
      }
      this.o.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.ws = null;
      if (this.disposed) return;
      if (ev.code === 4410 || this.gone) {
        this.gone = true;
        this.o.onState({ kind: "gone", message: "The lab is not running any more." });
        return;
      }
      this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  /** Whose mount tables to follow (sent now if connected, and after every reconnect). */
  setMountPids(pids: number[]): void {
    const next = [...new Set(pids)].slice(0, 4);
    if (next.length === this.pids.length && next.every((p, i) => p === this.pids[i])) return;
    this.pids = next;
    this.sendPids();
  }

  /** Skip the wait (a button). */
  reconnectNow(): void {
    if (this.disposed || this.gone || (this.ws && this.ws.readyState <= OPEN)) return;
    this.connect();
  }

  dispose(): void {
    this.disposed = true;
    this.clearRetry();
    const ws = this.ws;
    this.ws = null;
    this.gen++;
    try {
      ws?.close(1000, "bye");
    } catch {}
  }

  private sendPids(): void {
    if (!this.ws || this.ws.readyState !== OPEN) return;
    const msg: ExplorerClientMessage = this.pids.length === 1 ? { type: "mounts", pid: this.pids[0]! } : this.pids.length ? { type: "mounts", pids: this.pids } : { type: "mounts", pid: null };
    this.ws.send(JSON.stringify(msg));
  }

  private scheduleRetry(): void {
    this.attempt++;
    const delay = Math.min(this.max, this.min * 2 ** (this.attempt - 1)) * (0.8 + Math.random() * 0.4);
    const retryAt = Date.now() + delay;
    this.o.onState({ kind: "reconnecting", attempt: this.attempt, retryAt });
    this.retry = setTimeout(() => this.connect(), delay);
  }

  private clearRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}
