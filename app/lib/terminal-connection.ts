/**
 * One terminal's WebSocket, independent of React and xterm: attaches to (or opens) a shell, counts
 * the stream offset so a reconnect resumes exactly where it stopped, and acknowledges output after
 * the terminal has rendered it (flow control). Reconnecting is ReconnectingSocket's job.
 */
import { ACK_EVERY, CLOSE, type ClientControl, type ServerControl } from "@/lib/protocol";
import { labSocketUrl, type LabCredentials } from "./api";
import { labLifetime } from "./lab-lifetime";
import { mark } from "./marks";
import { ReconnectingSocket, type Final, type LinkState, type SocketLike } from "./reconnecting-socket";

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

export type ConnectionState = LinkState<FinalReason>;

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
  /** A fake socket in tests. */
  socket?: (url: string) => SocketLike;
  /** A new terminal's socket already open (the lesson page's early script): used for the first connect. */
  early?: SocketLike | null;
}

/** After this many failed attempts in a row, ask the API whether the lab still exists. */
const PROBE_AFTER = 3;
const PING_EVERY_MS = 25_000;
const ACK_IDLE_MS = 40;
const OUTBOX_MAX = 64 * 1024;

export class TerminalConnection {
  private readonly link: ReconnectingSocket<FinalReason>;
  private terminal: string | null;
  private offset = 0; // stream offset of the next byte we expect
  private sockGen = 0; // bumps on every socket, so renders of an old socket's bytes are not acked
  private unackedRendered = 0; // rendered since the last ack, on the current socket
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private ready = false;
  private outbox: Uint8Array[] = [];
  private lastSize: { cols: number; rows: number } | null = null;
  private encoder = new TextEncoder();

  constructor(private readonly o: ConnectionOptions) {
    this.terminal = o.terminal;
    let early = o.terminal === null ? (o.early ?? null) : null;
    const socket =
      early || o.socket
        ? (url: string): SocketLike => {
            const s = early;
            early = null;
            return s ?? (o.socket ? o.socket(url) : (new WebSocket(url) as unknown as SocketLike));
          }
        : undefined;
    this.link = new ReconnectingSocket<FinalReason>({
      url: () => this.url(),
      binaryType: "arraybuffer",
      socket,
      onState: (s) => o.events.state(s),
      onMessage: (data) => {
        if (typeof data === "string") this.onControl(data);
        else if (data instanceof ArrayBuffer) this.onData(new Uint8Array(data));
      },
      onClose: (code, reason) => {
        this.socketGone();
        return finalOf(code, reason);
      },
      onFinal: () => {
        this.socketGone();
        this.outbox = [];
      },
      beforeRetry: async (attempt) => {
        this.socketGone();
        if (attempt < PROBE_AFTER || !o.probe) return null;
        return (await o.probe()) === "gone" ? { reason: "lab-destroyed", message: "" } : null;
      },
    });
  }

  get terminalId(): string | null {
    return this.terminal;
  }

  connect(): void {
    this.link.connect();
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
    if (this.link.stopped) return;
    if (this.ready && this.link.send(b)) return;
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
    const f = this.link.stopped;
    if (f) {
      if (f.reason === "attached-elsewhere" || f.reason === "failed") this.link.reconnectNow(true);
      return;
    }
    this.link.reconnectNow();
  }

  dispose(): void {
    this.socketGone();
    this.link.dispose();
  }

  /* ---------------------------------------------------------------- internals */

  private url(): string {
    this.socketGone();
    this.sockGen++;
    const size = this.o.sink.size();
    const params: Record<string, string | number | undefined> = this.terminal
      ? { terminal: this.terminal, offset: this.offset }
      : { cols: size?.cols, rows: size?.rows };
    mark("terminal-socket");
    return labSocketUrl(this.o.lab, "terminals", params);
  }

  private control(m: ClientControl): void {
    this.link.send(JSON.stringify(m));
  }

  private onControl(text: string): void {
    let m: ServerControl;
    try {
      m = JSON.parse(text) as ServerControl;
    } catch {
      return;
    }
    switch (m.type) {
      case "ready": {
        mark("terminal-ready");
        if (m.reset || m.offset !== this.offset) this.o.sink.reset();
        this.offset = m.offset;
        this.terminal = m.terminal;
        this.ready = true;
        this.unackedRendered = 0;
        this.o.events.ready(m.terminal);
        this.link.markOpen();
        const size = this.o.sink.size() ?? this.lastSize;
        if (size) {
          this.lastSize = size;
          this.control({ type: "resize", cols: size.cols, rows: size.rows });
        }
        for (const b of this.outbox.splice(0)) this.link.send(b);
        this.startPing();
        break;
      }
      case "exit":
        this.o.events.exit(m.code, m.signal);
        break;
      case "closed":
        if (m.ended) labLifetime.ended(this.o.lab.id, m.ended);
        this.link.expectFinal({ reason: m.reason, message: m.message });
        break;
      case "lab-expiring":
        labLifetime.expiring(this.o.lab.id, m.at, m.reason);
        break;
      case "lab-extended":
        labLifetime.extended(this.o.lab.id);
        break;
      case "error":
        if (m.code === "too_many_terminals") this.link.expectFinal({ reason: "too-many-terminals", message: m.message });
        else if (m.code === "terminal_failed") this.link.expectFinal({ reason: "failed", message: m.message });
        else this.o.events.error(m.code, m.message);
        break;
      case "command":
        this.o.events.command(m.exitCode);
        break;
      case "pong":
        break;
    }
  }

  private onData(data: Uint8Array): void {
    mark("first-output");
    const gen = this.sockGen;
    this.offset += data.length;
    this.o.sink.write(data, () => {
      if (gen !== this.sockGen) return; // rendered after a reconnect: the new socket never sent these
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

  private startPing(): void {
    this.stopPing();
    this.pingTimer = setInterval(() => this.control({ type: "ping", t: Date.now() }), PING_EVERY_MS);
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /** The current socket is gone (closed, replaced or disposed): nothing more is acked or pinged on it. */
  private socketGone(): void {
    this.ready = false;
    this.unackedRendered = 0;
    this.stopPing();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }
}

/** What a close code means for a terminal: gone for good (and why), or null to reconnect. */
function finalOf(code: number, reason: string): Final<FinalReason> | null {
  if (code === CLOSE.ATTACHED_ELSEWHERE) return { reason: "attached-elsewhere", message: reason };
  if (code === CLOSE.NO_SUCH_TERMINAL) return { reason: "terminal-closed", message: reason };
  if (code === CLOSE.LAB_GONE) return { reason: "lab-destroyed", message: reason };
  if (code === CLOSE.TOO_MANY_TERMINALS) return { reason: "too-many-terminals", message: reason };
  if (code === CLOSE.TERMINAL_CLOSED)
    return { reason: reason === "lab-destroyed" ? "lab-destroyed" : reason === "grace-expired" ? "grace-expired" : "terminal-closed", message: reason };
  return null;
}
