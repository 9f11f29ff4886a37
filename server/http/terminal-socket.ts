import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { isTerminalId } from "../../lib/ids.ts";
import { CLOSE, parseClientControl, TERMINAL_MAX, TERMINAL_MIN, type LabCreatedControl, type ServerControl } from "../../lib/protocol.ts";
import type { Config } from "../config.ts";
import type { Lab } from "../labs/lab.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import type { Terminal, TerminalClient } from "../terminals/terminal.ts";
import { socketEnding } from "./errors.ts";
import { keepAlive } from "./heartbeat.ts";
import type { LifetimeEvent } from "../labs/lifetime.ts";

/**
 * WS /api/labs/:id/terminals (and NEW_LAB_SOCKET, which makes the lab first): binary frames are terminal bytes both ways, text frames JSON control
 * (lib/protocol.ts, docs/protocol.md). Bad input gets an error frame and the connection stays up.
 */
/** What the terminal sockets report for the metrics (all optional). */
export interface TerminalMeter {
  input?(bytes: number): void;
  output?(bytes: number): void;
  /** the first byte of a lab's first terminal reached its learner, `seconds` after the lab was asked for */
  firstPrompt?(seconds: number, pooled: boolean): void;
}

export class TerminalSockets {
  private wss: WebSocketServer;
  private track: (ws: WebSocket) => void;

  constructor(
    config: Pick<Config, "maxFrameBytes">,
    private readonly terminals: Terminals,
    private readonly meter: TerminalMeter = {},
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false });
    this.track = keepAlive(this.wss);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, lab: Lab, query: URLSearchParams): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.connected(ws, lab, query));
  }

  /**
   * NEW_LAB_SOCKET: the socket is accepted at once and `create` runs (the admission of POST
   * /api/labs); its answer is the first message. On 201 the socket goes on as the new lab's first
   * terminal, exactly as one opened with the lab's token would; otherwise it closes (1000). A lab
   * made for a socket that closed meanwhile is `discard`ed: nobody has its token.
   */
  createLab(req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams, create: () => Promise<{ answer: LabCreatedControl; lab?: Lab }>, discard: (lab: Lab) => void): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.creating(ws, query, create, discard));
  }

  private async creating(ws: WebSocket, query: URLSearchParams, create: () => Promise<{ answer: LabCreatedControl; lab?: Lab }>, discard: (lab: Lab) => void): Promise<void> {
    this.track(ws);
    // frames that arrive while the lab is being made are kept, as while a shell starts
    const early: [RawData, boolean][] = [];
    const keep = (d: RawData, b: boolean) => void (early.length < 64 && early.push([d, b]));
    ws.on("message", keep);
    let made: { answer: LabCreatedControl; lab?: Lab };
    try {
      made = await create();
    } catch (e) {
      console.error("nslab: making a lab for a socket failed:", e);
      made = { answer: { type: "lab", status: 500, body: { error: "internal", message: "Something went wrong on the server." } } };
    }
    ws.off("message", keep);
    if (ws.readyState !== ws.OPEN) {
      if (made.lab) discard(made.lab);
      return;
    }
    ws.send(JSON.stringify(made.answer));
    if (!made.lab) {
      ws.close(1000, "no lab");
      return;
    }
    query.delete("terminal");
    await this.connected(ws, made.lab, query, { tracked: true, early });
  }

  private async connected(ws: WebSocket, lab: Lab, query: URLSearchParams, o: { tracked?: boolean; early?: [RawData, boolean][] } = {}): Promise<void> {
    if (!o.tracked) this.track(ws);
    const control = (m: ServerControl) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const client: TerminalClient = {
      sendData: (d) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(d, { binary: true });
        this.meter.output?.(d.length);
        if (lab.requested && d.length) {
          this.meter.firstPrompt?.((performance.now() - lab.requested.at) / 1000, lab.requested.pooled);
          lab.requested = null;
        }
      },
      sendControl: control,
      close: (code, reason) => ws.close(code, reason),
    };
    // frames that arrive while the shell is being started are kept and handled after attach
    const early: [RawData, boolean][] = o.early ?? [];
    const keep = (d: RawData, b: boolean) => void (early.length < 64 && early.push([d, b]));
    ws.on("message", keep);
    let term: Terminal | undefined;
    const mine = this.terminals.of(lab);
    try {
      const tid = query.get("terminal");
      if (tid) {
        term = isTerminalId(tid) ? mine.get(tid) : undefined;
        if (!term) {
          control({ type: "closed", reason: "terminal-closed", message: "That terminal no longer exists." });
          ws.close(CLOSE.NO_SUCH_TERMINAL, "no such terminal");
          return;
        }
      } else {
        const cols = clampInt(query.get("cols"), TERMINAL_MIN.cols, TERMINAL_MAX.cols, 80);
        const rows = clampInt(query.get("rows"), TERMINAL_MIN.rows, TERMINAL_MAX.rows, 24);
        // a pooled lab's shell is already waiting at its first prompt (a new lab's is being started): take it
        term = await mine.takeFresh();
        if (term) term.resize(cols, rows);
        else term = await mine.open(cols, rows);
      }
      // the socket may have closed while the shell was starting: then the terminal waits,
      // unattached, for a reattach within the grace period (or the next socket, if nobody ever had it)
      if (ws.readyState !== ws.OPEN) {
        mine.unclaim(term);
        return;
      }
      const offset = Number(query.get("offset") ?? 0);
      term.attach(client, Number.isSafeInteger(offset) && offset >= 0 ? offset : 0);
    } catch (e) {
      const end = socketEnding(e);
      if (end) {
        control(end.last);
        ws.close(end.close, end.reason);
      } else {
        console.error("nslab: opening a terminal failed:", e);
        control({ type: "error", code: "terminal_failed", message: "The terminal could not be opened." });
        ws.close(CLOSE.SERVER_ERROR, "terminal failed");
      }
      return;
    }
    const t = term;
    ws.off("message", keep);
    const onMessage = (data: RawData, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        this.meter.input?.(buf.length);
        if (!t.input(client, buf))
          control({ type: "error", code: "input_rate", message: "Input is arriving faster than the terminal accepts; some was dropped." });
        return;
      }
      const msg = parseClientControl(buf.toString("utf8"));
      if ("error" in msg) return control({ type: "error", code: "bad_message", message: msg.error });
      if (msg.type === "resize") {
        if (!t.resize(msg.cols, msg.rows)) control({ type: "error", code: "resize_failed", message: "The terminal could not be resized." });
      } else if (msg.type === "ack") t.ack(client, msg.bytes);
      else if (msg.type === "ping") control({ type: "pong", t: msg.t });
    };
    ws.on("message", onMessage);
    for (const [d, b] of early) onMessage(d, b);
    // the lab's lifetime: a warning before it is put away, and its withdrawal after activity
    const lifetime = (e: LifetimeEvent) =>
      control(e.type === "expiring" ? { type: "lab-expiring", at: new Date(e.at).toISOString(), reason: e.reason } : { type: "lab-extended", at: e.at === null ? null : new Date(e.at).toISOString() });
    const standing = lab.lifetime.standing();
    if (standing) lifetime(standing);
    const stopLifetime = lab.lifetime.on(lifetime);
    ws.on("close", () => (stopLifetime(), t.detach(client)));
    ws.on("error", () => (stopLifetime(), t.detach(client)));
  }
}

function clampInt(v: string | null, min: number, max: number, def: number): number {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : def;
}
