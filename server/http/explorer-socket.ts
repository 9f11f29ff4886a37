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

export class ExplorerSockets {
  private wss: WebSocketServer;
  private track: (ws: WebSocket) => void;

  constructor(readonly hub: ExplorerHub) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: EXPLORER_MAX_FRAME, perMessageDeflate: false });
    this.track = keepAlive(this.wss);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, lab: LabHandle): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, lab));
  }

  private connected(ws: WebSocket, lab: LabHandle): void {
    this.track(ws);
    const out = new Outbox(ws);
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
 * Sends messages in order while the socket keeps up. When a slow client lets the send buffer grow,
 * snapshots and mount tables (each replaces the previous one) are held back and only the newest is
 * sent once the buffer drains; trace entries are kept (bounded) and sent in one message.
 */
class Outbox {
  private snapshot: ExplorerServerMessage | null = null;
  private mounts = new Map<number, ExplorerServerMessage>();
  private trace: TraceEntry[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ws: WebSocket) {}

  send(msg: ExplorerServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount <= HIGH_WATER && !this.timer) return this.write(msg);
    if (msg.type === "snapshot") this.snapshot = msg;
    else if (msg.type === "mounts") this.mounts.set(msg.pid, msg);
    else if (msg.type === "trace") this.trace = [...this.trace, ...msg.entries].slice(-2000);
    else this.write(msg);
    this.timer ??= setInterval(() => this.flush(), 100);
  }

  private flush(): void {
    if (this.ws.readyState !== this.ws.OPEN) return this.dispose();
    if (this.ws.bufferedAmount > HIGH_WATER) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.snapshot) this.write(this.snapshot);
    for (const m of this.mounts.values()) this.write(m);
    if (this.trace.length) this.write({ type: "trace", entries: this.trace });
    this.snapshot = null;
    this.mounts.clear();
    this.trace = [];
  }

  private write(msg: ExplorerServerMessage): void {
    this.ws.send(JSON.stringify(msg));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
