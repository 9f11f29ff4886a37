/**
 * One terminal's WebSocket, independent of React and xterm: attaches to (or opens) a shell, counts
 * the stream offset so a reconnect resumes exactly where it stopped, acknowledges output after the
 * terminal has rendered it (flow control), and reconnects with exponential backoff.
 */
import { ACK_EVERY, type ClientControl, type ServerControl } from "@/lib/protocol";
import { labSocketUrl, type LabCredentials } from "./api";

/** Where output goes (xterm, in the app). `done` is called once the bytes are rendered. */
export interface TerminalSink {
  write(data: Uint8Array, done: () => void): void;
  reset(): void;
  /** Current size, or null while the terminal has no layout (hidden); never 0×0. */
  size(): { cols: number; rows: number } | null;
}

export type FinalReason =
  | "grace-expired"
  | "lab-destroyed"
  | "terminal-closed"
  | "attached-elsewhere"
  | "too-many-terminals"
  | "failed";

export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; retryAt: number }
  | { kind: "closed"; reason: FinalReason; message: string };

export interface ConnectionEvents {
  state(s: ConnectionState): void;
  /** The server assigned (or confirmed) the terminal id. */
  ready(terminal: string): void;
  exit(code: number | null, signal: string | null): void;
  /** The shell finished a command (its prompt came back). */
  command(exitCode: number): void;
  /** A transient error to show briefly; the connection stays. */
  error(code: string, message: string): void;
}

export interface ConnectionOptions {
  lab: LabCredentials;
  terminal: string | null; // reattach to this terminal, or open a new one
  sink: TerminalSink;
  events: ConnectionEvents;
  /** Asked after repeated failures: is the lab still there? */
  probe?: () => Promise<"ok" | "gone" | "unknown">;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
const PING_EVERY_MS = 25_000;
const ACK_IDLE_MS = 40;
const OUTBOX_MAX = 64 * 1024;

export class TerminalConnection {
  private ws: WebSocket | null = null;
  private gen = 0; // bumps on every socket, so late callbacks from an old one are ignored
  private terminal: string | null;
  private offset = 0; // stream offset of the next byte we expect
  private unackedRendered = 0; // rendered since the last ack, on the current socket
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private ready = false;
  private final: { reason: FinalReason; message: string } | null = null;
  private disposed = false;
  private outbox: Uint8Array[] = [];
  private lastSize: { cols: number; rows: number } | null = null;
  private encoder = new TextEncoder();
  private readonly onOnline = () => this.reconnectNow();

  constructor(private readonly o: ConnectionOptions) {
    this.terminal = o.terminal;
    window.addEventListener("online", this.onOnline);
  }

  get terminalId(): string | null {
    return this.terminal;
  }

  connect(): void {
    if (this.disposed) return;
    this.clearRetry();
    this.final = null;
    const gen = ++this.gen;
    this.ready = false;
    this.unackedRendered = 0;
    const size = this.o.sink.size();
    const params: Record<string, string | number | undefined> = this.terminal
      ? { terminal: this.terminal, offset: this.offset }
      : { cols: size?.cols, rows: size?.rows };
    this.o.events.state(this.attempt === 0 ? { kind: "connecting" } : { kind: "reconnecting", attempt: this.attempt, retryAt: Date.now() });
    let ws: WebSocket;
    try {
      ws = new WebSocket(labSocketUrl(this.o.lab, "terminals", params));
    } catch {
      this.scheduleRetry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (gen !== this.gen) return;
      if (typeof ev.data === "string") this.onControl(ev.data, gen);
      else this.onData(new Uint8Array(ev.data as ArrayBuffer), gen);
    };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.onClose(ev.code, ev.reason);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  /** Types text into the shell (queued while connecting). */
  send(text: string): void {
    this.sendBytes(this.encoder.encode(text));
  }

  /** xterm's onBinary: a string of byte values. */
  sendBinaryString(s: string): void {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.sendBytes(b);
  }

  private sendBytes(b: Uint8Array): void {
    if (this.final || this.disposed) return;
    if (this.ws && this.ready && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(b);
      return;
    }
    const queued = this.outbox.reduce((n, x) => n + x.length, 0);
    if (queued + b.length <= OUTBOX_MAX) this.outbox.push(b);
  }

  /** The terminal's size changed (already debounced by the caller). */
  resize(cols: number, rows: number): void {
    if (!(cols > 0 && rows > 0)) return;
    if (this.lastSize && this.lastSize.cols === cols && this.lastSize.rows === rows) return;
    this.lastSize = { cols, rows };
    if (this.ready) this.control({ type: "resize", cols, rows });
  }

  /** Skip the backoff wait (a button, the browser coming back online), or take a terminal back. */
  reconnectNow(): void {
    if (this.disposed) return;
    if (this.final && this.final.reason !== "attached-elsewhere" && this.final.reason !== "failed") return;
    if (!this.final && (this.ready || this.ws?.readyState === WebSocket.CONNECTING)) return;
    this.dropSocket();
    this.connect();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    window.removeEventListener("online", this.onOnline);
    this.clearRetry();
    this.dropSocket();
  }

  /* ---------------------------------------------------------------- internals */

  private control(m: ClientControl): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private onControl(text: string, gen: number): void {
    let m: ServerControl;
    try {
      m = JSON.parse(text) as ServerControl;
    } catch {
      return;
    }
    switch (m.type) {
      case "ready": {
        if (m.reset || m.offset !== this.offset) this.o.sink.reset();
        this.offset = m.offset;
        this.terminal = m.terminal;
        this.ready = true;
        this.attempt = 0;
        this.unackedRendered = 0;
        this.o.events.ready(m.terminal);
        this.o.events.state({ kind: "open" });
        const size = this.o.sink.size() ?? this.lastSize;
        if (size) {
          this.lastSize = size;
          this.control({ type: "resize", cols: size.cols, rows: size.rows });
        }
        for (const b of this.outbox.splice(0)) this.ws?.send(b);
        this.startPing(gen);
        break;
      }
      case "exit":
        this.o.events.exit(m.code, m.signal);
        break;
      case "closed":
        this.final = { reason: m.reason, message: m.message };
        break;
      case "error":
        if (m.code === "too_many_terminals") this.final = { reason: "too-many-terminals", message: m.message };
        else if (m.code === "terminal_failed") this.final = { reason: "failed", message: m.message };
        else this.o.events.error(m.code, m.message);
        break;
      case "command":
        this.o.events.command(m.exitCode);
        break;
      case "pong":
        break;
    }
  }

  private onData(data: Uint8Array, gen: number): void {
    this.offset += data.length;
    this.o.sink.write(data, () => {
      if (gen !== this.gen) return; // rendered after a reconnect: the new socket never sent these
      this.unackedRendered += data.length;
      if (this.unackedRendered >= ACK_EVERY) this.flushAck();
      else if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAck(), ACK_IDLE_MS);
    });
  }

  private flushAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.unackedRendered > 0 && this.ready) {
      this.control({ type: "ack", bytes: this.unackedRendered });
      this.unackedRendered = 0;
    }
  }

  private onClose(code: number, reason: string): void {
    this.ws = null;
    this.ready = false;
    this.stopPing();
    if (this.disposed) return;
    if (!this.final) {
      if (code === 4001) this.final = { reason: "attached-elsewhere", message: reason };
      else if (code === 4404) this.final = { reason: "terminal-closed", message: reason };
      else if (code === 4410) this.final = { reason: "lab-destroyed", message: reason };
      else if (code === 4429) this.final = { reason: "too-many-terminals", message: reason };
      else if (code === 4000) this.final = { reason: reason === "lab-destroyed" ? "lab-destroyed" : reason === "grace-expired" ? "grace-expired" : "terminal-closed", message: reason };
    }
    if (this.final) {
      this.outbox = [];
      this.o.events.state({ kind: "closed", ...this.final });
      return;
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt++;
    this.o.events.state({ kind: "reconnecting", attempt: this.attempt, retryAt: Date.now() + delay });
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retry();
    }, delay);
  }

  private async retry(): Promise<void> {
    if (this.disposed) return;
    // after a few failures, ask whether there is still a lab to connect to
    if (this.attempt >= 3 && this.o.probe) {
      const p = await this.o.probe().catch(() => "unknown" as const);
      if (this.disposed) return;
      if (p === "gone") {
        this.final = { reason: "lab-destroyed", message: "" };
        this.o.events.state({ kind: "closed", ...this.final });
        return;
      }
    }
    this.connect();
  }

  private startPing(gen: number): void {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (gen === this.gen) this.control({ type: "ping", t: Date.now() });
    }, PING_EVERY_MS);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private dropSocket(): void {
    this.gen++;
    this.stopPing();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, "client closing");
      } catch {
        /* never opened */
      }
    }
  }
}
