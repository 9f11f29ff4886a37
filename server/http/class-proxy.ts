import "server-only";
import http from "node:http";
import type { Duplex } from "node:stream";
import { isCode, normalizeCode } from "../../lib/classes.ts";
import { isClassId } from "../../lib/ids.ts";
import type { Classroom } from "../classes/classroom.ts";
import type { ClassStore } from "../classes/store.ts";
import type { ClassLeases } from "../cluster/class-owners.ts";
import { INTERNAL_HEADER, secretMatches } from "../cluster/secret.ts";
import { HttpError } from "./errors.ts";
import { forwardRequest, spliceUpgrade } from "./proxy.ts";
import { readBody, send } from "./router.ts";

/**
 * Web's routing of classes (docs/scaling.md, "Classes across web replicas"). A class lives on the
 * one replica holding its lease (cluster/class-owners.ts): its runtime, sockets, broadcast model.
 * Any replica a request reaches looks the lease up: its own class, or nobody's (it takes the lease
 * and loads the class from the store: Classroom.adopt), is served here by the ordinary class routes
 * and sockets; another replica's is streamed there, a socket spliced as lab sockets are to agents.
 * A join names its class by code: the code is looked up in the store first.
 *
 * A request forwarded by a replica carries the internal secret and HOP: it is served where it
 * arrives (never forwarded again), taking the lease if it is free; if the lease moved meanwhile
 * the client hears 503 and tries again.
 */
export const HOP = "x-nslab-class-hop";
const CLASS_PATH = /^\/api\/classes\/([^/]+)(?:\/|$)/;
const SOCKET_PATH = /^\/api\/classes\/([^/]+)\/(dashboard|learner|broadcast|learners\/[^/]+\/(watch|drive))$/;

export interface ClassProxyDeps {
  classes: Classroom;
  store: ClassStore;
  leases: ClassLeases;
  secret: string;
  /** this replica's URL as the others reach it (NSLAB_WEB_URL, or where it listens) */
  me(): string;
}

type Where = { here: true } | { there: string } | { moving: true };

export class ClassProxy {
  private readonly keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly renewer: NodeJS.Timeout;

  constructor(private readonly d: ClassProxyDeps) {
    // this replica's classes keep their leases; one it lost (it was cut off from Redis for longer
    // than the lease) stops here, and its pages reconnect to the new owner
    this.renewer = setInterval(() => void this.renew(), Math.max(200, Math.floor(d.leases.ttlMs / 3)));
    this.renewer.unref();
  }

  private async renew(): Promise<void> {
    const ids = this.d.classes.liveIds();
    if (!ids.length) return;
    try {
      for (const id of await this.d.leases.renew(ids, this.d.me())) this.d.classes.letGo(id);
    } catch {
      // Redis away: the leases run on until they expire; renewed at the next tick if it is back
    }
  }

  /** The client's address: a peer replica's forwarded request says whose it is. */
  fromPeer(req: http.IncomingMessage): boolean {
    return secretMatches(req.headers[INTERNAL_HEADER], this.d.secret);
  }

  private async where(id: string, hop: boolean): Promise<Where> {
    const me = this.d.me();
    for (let attempt = 0; attempt < 3; attempt++) {
      const owner = await this.d.leases.owner(id);
      if (owner === me || (owner === null && (await this.d.leases.claim(id, me)))) {
        await this.d.classes.adopt(id);
        return { here: true };
      }
      if (owner !== null) return hop ? { moving: true } : { there: owner };
    }
    return { moving: true };
  }

  /** The class a request is about (its id in the path, or a join's code), or null: not a class request for routing. */
  private async classOf(req: http.IncomingMessage, path: string): Promise<{ id: string | null; body?: Buffer } | null> {
    if (req.method === "POST" && path === "/api/classes/join") {
      const body = await readBody(req);
      let code: unknown;
      try {
        code = (JSON.parse(body.toString("utf8")) as { code?: unknown } | null)?.code;
      } catch {}
      const c = typeof code === "string" ? normalizeCode(code) : "";
      const rec = isCode(c) ? await this.d.store.classByCode(c) : null;
      // no such class, or it ended: the local routes say so (and count the wrong code)
      return { id: rec && rec.state !== "ended" ? rec.id : null, body };
    }
    const m = CLASS_PATH.exec(path);
    return m && isClassId(m[1]) ? { id: m[1]! } : null;
  }

  /**
   * Routes an HTTP request under /api/classes: "forwarded" (answered by the owner), or "local"
   * with the body if it was read here (the caller's router serves it).
   */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, ip: string): Promise<{ local: true; body?: Buffer } | { forwarded: true }> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!path.startsWith("/api/classes/")) return { local: true };
    let c: { id: string | null; body?: Buffer } | null;
    try {
      c = await this.classOf(req, path);
    } catch (e) {
      if (e instanceof HttpError) {
        send(res, e.status, { error: e.code, message: e.message });
        return { forwarded: true };
      }
      throw e;
    }
    if (!c || !c.id) return { local: true, body: c?.body };
    const w = await this.where(c.id, this.fromPeer(req) && req.headers[HOP] === "1");
    if ("here" in w) return { local: true, body: c.body };
    if ("moving" in w) {
      send(res, 503, { error: "class_moving", message: "This class is moving to another server; try again in a few seconds." }, { "retry-after": "2" });
      return { forwarded: true };
    }
    const out = await forwardRequest(req, res, w.there, { [INTERNAL_HEADER]: this.d.secret, "x-forwarded-for": ip, [HOP]: "1" }, this.keepAlive, c.body);
    if (out === "unreachable")
      // the owner went: its lease runs out within ttl, then the next request makes another replica the owner
      send(res, 503, { error: "class_moving", message: "This class is moving to another server; try again in a few seconds." }, { "retry-after": String(Math.ceil(this.d.leases.ttlMs / 1000)) });
    return { forwarded: true };
  }

  /**
   * Routes a class socket: `local` (the caller's class sockets take it) or handled here (spliced to
   * the owner, or refused while the class moves).
   */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ip: string, local: (req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    const m = SOCKET_PATH.exec(url.pathname);
    if (!m || !isClassId(m[1])) return false;
    void (async () => {
      const w = await this.where(m[1]!, this.fromPeer(req) && req.headers[HOP] === "1");
      if ("here" in w) {
        if (!local(req, socket, head, url)) refuse(socket, 404, "not_found", "No WebSocket endpoint here.");
      } else if ("moving" in w || !(await spliceUpgrade(req, socket, head, w.there, { [INTERNAL_HEADER]: this.d.secret, "x-forwarded-for": ip, [HOP]: "1" })))
        refuse(socket, 503, "class_moving", "This class is moving to another server; try again in a few seconds.");
    })().catch((e) => {
      console.error("nslab: routing a class socket failed:", e);
      refuse(socket, 500, "internal", "Something went wrong on the server.");
    });
    return true;
  }

  close(): void {
    clearInterval(this.renewer);
    this.keepAlive.destroy();
  }
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(`HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
