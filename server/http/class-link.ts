import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { LabHealth } from "../../lib/classes.ts";
import { isLabId, isTerminalId } from "../../lib/ids.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";

/**
 * An agent's side of a class lab (docs/scaling.md, "Classes across web replicas"). The class lives
 * on one web replica (its owner); its learners' labs are on agents. The owner keeps two kinds of
 * internal WebSocket to the agent holding a lab (each with the internal secret, checked before
 * the upgrade reaches here):
 *  - /internal/labs/:id/link: what the classroom follows of the lab, as JSON text frames:
 *    `state` (running, mode, hostname, health, terminals) at once, on activity (at most every
 *    STATE_MS) and every HEALTH_MS; `check` for each check or solution run in the lab (the
 *    learner's progress); `ended` when the lab ends, then the socket closes.
 *  - /internal/labs/:id/terminals/:tid/tap: one terminal's output (binary; first a `size` frame and
 *    the terminal's recent output, which rebuilds its screen), `resize` and `closed` frames; binary
 *    frames from the owner are typed into the terminal (a take-over the learner agreed to: the owner
 *    checks the consent, the agent trusts its web tier).
 */
export interface ClassLinkDeps {
  mgr: LabManager;
  terminals: Terminals;
}

const LINK = /^\/internal\/labs\/([^/]+)\/link$/;
const TAP = /^\/internal\/labs\/([^/]+)\/terminals\/([^/]+)\/tap$/;
const STATE_MS = 500;
const HEALTH_MS = 2000;
const SEED_BYTES = 64 * 1024;
/** a tap whose owner does not keep up is closed (the owner opens a fresh one, with a fresh screen) */
const TAP_BUFFER_MAX = 4 * 1024 * 1024;

export type LinkMessage =
  | { type: "state"; running: boolean; mode: string; hostname: string; health: LabHealth; terminals: { id: string; attached: boolean; exited: boolean }[] }
  | { type: "check"; lesson: string; step: string; passed: boolean; feedback: string; kind: "check" | "solve" }
  | { type: "ended"; reason: string };

export class AgentClassLinks {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  private readonly links = new Map<string, Set<WebSocket>>();
  private readonly offEnded: () => void;

  constructor(private readonly d: ClassLinkDeps) {
    this.offEnded = d.mgr.observe({
      ended: (lab, reason) => {
        for (const ws of this.links.get(lab.id) ?? []) {
          send(ws, { type: "ended", reason });
          ws.close(1000, "lab ended");
        }
      },
    });
  }

  /** A check ran in a lab: its class owner hears of it (the learner's progress). */
  check(labId: string, lesson: string, step: string, r: { passed: boolean; feedback: string }, kind: "check" | "solve"): void {
    for (const ws of this.links.get(labId) ?? []) send(ws, { type: "check", lesson, step, passed: r.passed, feedback: r.feedback.slice(0, 300), kind });
  }

  /** Takes /internal/labs/:id/link and …/tap upgrades (true), or leaves others alone (false). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const link = LINK.exec(url.pathname);
    const tap = link ? null : TAP.exec(url.pathname);
    if (!link && !tap) return false;
    const id = (link ?? tap)![1]!;
    const lab = isLabId(id) ? this.d.mgr.get(id) : undefined;
    if (!lab || !lab.running || lab.endReason) return notFound(socket), true;
    if (link) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.follow(ws, lab));
      return true;
    }
    const tid = tap![2]!;
    const term = isTerminalId(tid) ? this.d.terminals.of(lab).get(tid) : undefined;
    if (!term || term.closed) return notFound(socket), true;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ type: "size", cols: term.cols, rows: term.rows }));
      ws.send(term.recent(SEED_BYTES), { binary: true });
      const off = term.observe({
        output: (data) => {
          if (ws.bufferedAmount > TAP_BUFFER_MAX) return ws.terminate();
          ws.send(data, { binary: true });
        },
        resize: (cols, rows) => ws.send(JSON.stringify({ type: "resize", cols, rows })),
        closed: () => {
          ws.send(JSON.stringify({ type: "closed" }));
          ws.close(1000, "terminal closed");
        },
      });
      ws.on("message", (data: RawData, isBinary: boolean) => {
        if (isBinary) term.inject(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
      });
      ws.on("close", off);
      ws.on("error", () => ws.terminate());
    });
    return true;
  }

  private follow(ws: WebSocket, lab: Lab): void {
    let set = this.links.get(lab.id);
    if (!set) this.links.set(lab.id, (set = new Set()));
    set.add(ws);
    const state = () => {
      const u = lab.usage();
      send(ws, {
        type: "state",
        running: lab.running,
        mode: lab.mode,
        hostname: lab.hostname,
        health: { alive: lab.running, memoryBytes: u.memoryBytes, memoryMax: u.limits.memoryBytes, pids: u.pids, pidsMax: u.limits.pids },
        terminals: this.d.terminals.of(lab).status().map((t) => ({ id: t.id, attached: t.attached, exited: t.exited })),
      });
    };
    // activity (output, a terminal opened or closed) is sent as a state, at most every STATE_MS
    let last = 0;
    let later: NodeJS.Timeout | null = null;
    const offActivity = lab.onActivity(() => {
      const wait = last + STATE_MS - Date.now();
      if (wait <= 0) {
        last = Date.now();
        state();
      } else
        later ??= setTimeout(() => {
          later = null;
          last = Date.now();
          state();
        }, wait);
    });
    const health = setInterval(state, HEALTH_MS);
    health.unref();
    state();
    ws.on("message", () => {}); // the owner sends nothing; pings are answered by ws itself
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      offActivity();
      clearInterval(health);
      if (later) clearTimeout(later);
      set.delete(ws);
      if (!set.size) this.links.delete(lab.id);
    });
  }

  close(): void {
    this.offEnded();
    for (const set of this.links.values()) for (const ws of set) ws.terminate();
    this.links.clear();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

function send(ws: WebSocket, msg: LinkMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
}

function notFound(socket: Duplex): void {
  socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}
