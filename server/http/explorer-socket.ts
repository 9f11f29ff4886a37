import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { CLOSE, EXPLORER_MAX_FRAME, parseExplorerClientMessage, type ExplorerServerMessage, type TraceEntry } from "../../lib/protocol.ts";
import type { LabHandle } from "../labs/types.ts";
import type { ExplorerHub, Subscription } from "../inspect/watch.ts";
import { keepAlive } from "./heartbeat.ts";

/**
 * WS /api/labs/:id/explorer: the live explorer (docs/protocol.md). The server sends
 * ExplorerServerMessage frames (JSON text): a snapshot on connect and whenever the lab changes,
 * the trace as it grows, and the mount tables the client asked for. The client sends
 * {"type":"mounts","pid":N|null} or {"type":"mounts","pids":[N,...]} to choose whose mounts to
 * follow. What to send comes from the ExplorerHub (server/inspect/watch.ts); this is the socket.
 */

const HIGH_WATER = 512 * 1024; // above this many buffered bytes, snapshots and mounts are coalesced

export interface ExplorerSocketOptions {
  /** a socket whose send buffer stays above the high-water mark this long is closed (default 15 s) */
  stallMs?: number;
  /** told each socket closed for not reading */
  onStalled?: () => void;
}

export class ExplorerSockets {
  private wss: WebSocketServer;
  private track: (ws: WebSocket) => void;
  private readonly stallMs: number;

  constructor(
    readonly hub: ExplorerHub,
    private readonly o: ExplorerSocketOptions = {},
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: EXPLORER_MAX_FRAME, perMessageDeflate: false });
    this.track = keepAlive(this.wss);
    this.stallMs = o.stallMs ?? 15_000;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, lab: LabHandle): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, lab));
  }

  private connected(ws: WebSocket, lab: LabHandle): void {
    this.track(ws);
    const out = new Outbox(ws, this.stallMs, () => this.o.onStalled?.());
    const sub: Subscription = this.hub.subscribe(lab, (msg) => {
      out.send(msg);
      if (msg.type === "error" && msg.code === "lab_gone") ws.close(CLOSE.LAB_GONE, "lab gone");
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return out.send({ type: "error", code: "bad_message", message: "The explorer takes JSON text frames." });
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const msg = parseExplorerClientMessage(buf.toString("utf8"));
      if ("error" in msg) return out.send({ type: "error", code: "bad_message", message: msg.error });
      sub.mounts(msg.pids);
    });
    const leave = () => {
      sub();
      out.dispose();
    };
    ws.on("close", leave);
    ws.on("error", leave);
  }
}

/**
 * The text frame of a message, made once however many sockets send it: the hub hands every
 * subscriber the same message object, and ws sends a Buffer without copying it (a server does not
 * mask), so a thousand explorers of one lab share one copy of each snapshot, not a thousand
 * (issue 12, finding 7).
 */
const frames = new WeakMap<ExplorerServerMessage, Buffer>();
export function frameOf(msg: ExplorerServerMessage): Buffer {
  let f = frames.get(msg);
  if (!f) frames.set(msg, (f = Buffer.from(JSON.stringify(msg))));
  return f;
}

/**
 * Sends messages in order while the socket keeps up. When a slow client lets the send buffer grow,
 * snapshots and mount tables (each replaces the previous one) are held back and only the newest is
 * sent once the buffer drains; trace entries are kept (bounded) and sent in one message. A client
 * that does not drain its buffer below the high-water mark within `stallMs` is not reading: its
 * socket is closed (terminated: a close frame would wait behind the data it does not read).
 */
class Outbox {
  private snapshot: ExplorerServerMessage | null = null;
  private mounts = new Map<number, ExplorerServerMessage>();
  private trace: TraceEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stalledSince = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly stallMs: number,
    private readonly onStalled: () => void,
  ) {}

  send(msg: ExplorerServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount <= HIGH_WATER && !this.timer) return this.write(msg);
    if (msg.type === "snapshot") this.snapshot = msg;
    else if (msg.type === "mounts") this.mounts.set(msg.pid, msg);
    else if (msg.type === "trace") this.trace = [...this.trace, ...msg.entries].slice(-2000);
    else this.write(msg);
    this.stalledSince ||= Date.now();
    this.timer ??= setInterval(() => this.flush(), 100);
  }

  private flush(): void {
    if (this.ws.readyState !== this.ws.OPEN) return this.dispose();
    if (this.ws.bufferedAmount > HIGH_WATER) {
      if (Date.now() - this.stalledSince < this.stallMs) return;
      this.dispose();
      this.onStalled();
      this.ws.terminate();
      return;
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stalledSince = 0;
    if (this.snapshot) this.write(this.snapshot);
    for (const m of this.mounts.values()) this.write(m);
    if (this.trace.length) this.write({ type: "trace", entries: this.trace });
    this.snapshot = null;
    this.mounts.clear();
    this.trace = [];
  }

  private write(msg: ExplorerServerMessage): void {
    this.ws.send(frameOf(msg), { binary: false });
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.snapshot = null;
    this.mounts.clear();
    this.trace = [];
  }
}
