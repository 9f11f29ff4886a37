import "server-only";
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { isLabId } from "../../lib/ids.ts";
import type { LabEndReason } from "../../lib/protocol.ts";
import type { AgentPool, AgentState } from "../cluster/agents.ts";
import { routeFor, type LabRoute, type LabRoutes } from "../cluster/directory.ts";
import { INTERNAL_HEADER } from "../cluster/secret.ts";
import { bearerToken, originAllowed } from "./client.ts";
import { ENDED } from "./labs.ts";
import { send } from "./router.ts";

/**
 * Web's routing of everything about one lab (docs/scaling.md, "Routing"): the lab API under
 * /api/labs/:id/… and the terminal and Explorer WebSockets. The directory says which agent holds
 * the lab (and checks the token's digest first, so a guess never reaches an agent); the request
 * then goes to that agent unchanged, with the internal secret and the learner's address added.
 * A WebSocket becomes two TCP connections spliced together after the upgrade request: web reads
 * no frame, so the cost is one loopback-or-LAN hop and a copy (bench/scale.ts measures it).
 * No hash affinity: a lab is where the directory says, whatever agents come or go.
 */
const LAB_PATH = /^\/api\/labs\/([^/]+)(\/.*)?$/;
const SOCKET_PATH = /^\/api\/labs\/([^/]+)\/(terminals|explorer)$/;
/** hop-by-hop headers (RFC 9110 §7.6.1) and what web sets itself */
const DROP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", INTERNAL_HEADER, "x-forwarded-for"]);

export interface ProxyDeps {
  routes: LabRoutes;
  pool: AgentPool;
  secret: string;
  allowedOrigins: string[];
}

type Resolved = { route: LabRoute; agent: AgentState } | { ended: { reason: LabEndReason; at: number } } | { refused: "no-token" | "no-lab" };

export class LabProxy {
  private readonly keepAlive = new http.Agent({ keepAlive: true, maxSockets: 512 });
  /** spliced sockets by agent, so an agent declared dead closes its learners' sockets at once */
  private readonly sockets = new Map<string, Set<Duplex>>();

  constructor(private readonly d: ProxyDeps) {}

  private async resolve(id: string, token: string | null): Promise<Resolved> {
    if (!token) return { refused: "no-token" };
    if (!isLabId(id)) return { refused: "no-lab" };
    const found = await routeFor(this.d.routes, id, token);
    if (!found) return { refused: "no-lab" };
    if ("ended" in found) return found;
    const agent = this.d.pool.get(found.route.agent);
    if (!agent || !agent.up) return { ended: await this.lost(id) };
    return { route: found.route, agent };
  }

  private async lost(id: string): Promise<{ reason: LabEndReason; at: number }> {
    const at = Date.now();
    await this.d.routes.end(id, "agent-lost", at);
    return (await this.d.routes.get(id))?.ended ?? { reason: "agent-lost", at };
  }

  /** An agent is dead: its spliced sockets close now (their pages probe the lab and learn why). */
  agentDown(name: string): void {
    for (const s of this.sockets.get(name) ?? []) s.destroy();
    this.sockets.delete(name);
  }

  /** Handles /api/labs/:id/… (true), or leaves the request to others (false). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, ip: string): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = LAB_PATH.exec(url.pathname);
    if (!m) return false;
    const r = await this.resolve(decodeURIComponentSafe(m[1]!), bearerToken(req, url.searchParams));
    if ("refused" in r) {
      if (r.refused === "no-token") send(res, 401, { error: "unauthorized", message: "This needs the lab's token (Authorization: Bearer …)." }, { "www-authenticate": "Bearer" });
      else send(res, 404, { error: "not_found", message: "No such lab, or the token does not belong to it." });
      return true;
    }
    if ("ended" in r) {
      sendEnded(res, r.ended);
      return true;
    }
    const out = await this.forward(req, res, r.agent, ip);
    if (out === "unreachable") {
      // the connection failed: is the agent dead (then the lab is lost), or was that a blip?
      const up = await this.d.pool.suspect(r.agent.name);
      if (!up) sendEnded(res, await this.lost(r.route.id));
      else send(res, 502, { error: "agent_unreachable", message: "The machine holding your lab did not answer. Try again." });
    } else if (req.method === "DELETE" && !m[2] && out === 204) await this.d.routes.remove(r.route.id);
    return true;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, agent: AgentState, ip: string): Promise<number | "unreachable"> {
    return forwardRequest(req, res, agent.url, { [INTERNAL_HEADER]: this.d.secret, "x-forwarded-for": ip }, this.keepAlive);
  }

  /** Takes a lab socket upgrade (true), or leaves it to others (false). */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ip: string): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = SOCKET_PATH.exec(url.pathname);
    if (!m) return false;
    void (async () => {
      if (!originAllowed(req, this.d.allowedOrigins)) return refuse(socket, 403, "Forbidden", "forbidden", "This origin may not open lab sockets.");
      const r = await this.resolve(decodeURIComponentSafe(m[1]!), bearerToken(req, url.searchParams));
      if ("refused" in r)
        return r.refused === "no-token"
          ? refuse(socket, 401, "Unauthorized", "unauthorized", "This needs the lab's token (?token=).")
          : refuse(socket, 404, "Not Found", "not_found", "No such lab, or the token does not belong to it.");
      if ("ended" in r) return refuse(socket, 410, "Gone", "lab_ended", ENDED[r.ended.reason]);
      const ok = await this.splice(req, socket, head, r.agent, ip);
      if (!ok) {
        const up = await this.d.pool.suspect(r.agent.name);
        if (!up) {
          const e = await this.lost(r.route.id);
          refuse(socket, 410, "Gone", "lab_ended", ENDED[e.reason]);
        } else refuse(socket, 502, "Bad Gateway", "agent_unreachable", "The machine holding your lab did not answer. Try again.");
      }
    })().catch((e) => {
      console.error("nslab: proxying a lab socket failed:", e);
      refuse(socket, 500, "Internal Server Error", "internal", "Something went wrong on the server.");
    });
    return true;
  }

  /** Connects to the agent, replays the upgrade request, then splices the two sockets. false: no connection. */
  private async splice(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentState, ip: string): Promise<boolean> {
    const up = await spliceUpgrade(req, socket, head, agent.url, { [INTERNAL_HEADER]: this.d.secret, "x-forwarded-for": ip });
    if (!up) return false;
    let set = this.sockets.get(agent.name);
    if (!set) this.sockets.set(agent.name, (set = new Set()));
    set.add(socket);
    socket.on("close", () => set.delete(socket));
    return true;
  }

  close(): void {
    for (const set of this.sockets.values()) for (const s of set) s.destroy();
    this.sockets.clear();
    this.keepAlive.destroy();
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return "";
  }
}

function sendEnded(res: http.ServerResponse, e: { reason: LabEndReason; at: number }): void {
  send(res, 410, { error: "lab_ended", message: ENDED[e.reason], reason: e.reason, endedAt: new Date(e.at).toISOString() });
}

function refuse(socket: Duplex, status: number, text: string, code: string, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Streams a request to `base` (an agent, or the web replica that owns a class) with `extra` headers
 * set (the internal secret, the client's address) and the response back. "unreachable": no
 * connection was made (the caller decides whether the target is gone).
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, base: string, extra: Record<string, string>, agent: http.Agent, body?: Buffer): Promise<number | "unreachable"> {
  const u = new URL(base);
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && !(k in extra)) headers[k] = v;
  Object.assign(headers, extra);
  if (body) headers["content-length"] = String(body.length);
  return new Promise((resolve) => {
    const up = http.request({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers, agent });
    up.on("response", (r) => {
      const h: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(r.headers)) if (!DROP.has(k)) h[k] = v;
      res.writeHead(r.statusCode ?? 502, h);
      r.pipe(res);
      r.on("end", () => resolve(r.statusCode ?? 502));
      r.on("error", () => (res.destroy(), resolve(r.statusCode ?? 502)));
    });
    up.on("error", () => {
      if (res.headersSent) {
        res.destroy();
        resolve(502);
      } else resolve("unreachable");
    });
    if (body) up.end(body);
    else req.pipe(up);
  });
}

/**
 * Connects to `base`, replays the upgrade request with `extra` headers, then splices the two
 * sockets (no frame is parsed here). Resolves to the upstream socket, or null: no connection.
 */
export function spliceUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, base: string, extra: Record<string, string>): Promise<net.Socket | null> {
  const u = new URL(base);
  const drop = new Set([INTERNAL_HEADER, "x-forwarded-for", ...Object.keys(extra)]);
  return new Promise((resolve) => {
    const up = net.connect({ host: u.hostname, port: Number(u.port || 80), noDelay: true });
    let connected = false;
    // a target cut off by the network does not refuse: give up on it after 5 s
    up.setTimeout(5000, () => up.destroy(new Error("connect timeout")));
    up.once("connect", () => {
      connected = true;
      up.setTimeout(0);
      let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
      const raw = req.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (drop.has(raw[i]!.toLowerCase())) continue;
        text += `${raw[i]}: ${raw[i + 1]}\r\n`;
      }
      for (const [k, v] of Object.entries(extra)) text += `${k}: ${v}\r\n`;
      up.write(text + "\r\n");
      if (head.length) up.write(head);
      (socket as net.Socket).setNoDelay?.(true);
      socket.on("close", () => up.destroy());
      up.on("close", () => socket.destroy());
      socket.pipe(up);
      up.pipe(socket);
      resolve(up);
    });
    up.on("error", () => {
      if (!connected) resolve(null);
      else socket.destroy();
    });
    socket.on("error", () => up.destroy());
  });
}
