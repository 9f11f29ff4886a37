import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "../config.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import { isLabId } from "../../lib/ids.ts";
import { NEW_LAB_SOCKET } from "../../lib/protocol.ts";
import { lookUpLab } from "./auth.ts";
import { clientIp, originAllowed } from "./client.ts";
import type { SocketLimits, SocketRefusal } from "./socket-limits.ts";

export type LabUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, lab: Lab, query: URLSearchParams) => void;

export interface UpgradeDeps {
  config: Pick<Config, "allowedOrigins" | "trustProxy">;
  mgr: LabManager;
  routes: {
    terminals: LabUpgrade;
    explorer: LabUpgrade;
    /** NEW_LAB_SOCKET, where this instance makes labs itself (not on a cluster's agent) */
    newLab?: (req: IncomingMessage, socket: Duplex, head: Buffer, query: URLSearchParams) => void;
  };
  next: ((req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> | void) | null;
  /** caps on open lab sockets (per address, per lab); none: no caps */
  limits?: SocketLimits;
  /** told each refusal by the limits (metrics) */
  refused?: (reason: SocketRefusal) => void;
  /** other socket endpoints (the classroom's): true when they took the request */
  others?: ((req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean)[];
}

const PATH = /^\/api\/labs\/([^/]+)\/(terminals|explorer)$/;

function refuse(socket: Duplex, status: number, text: string, message: string, code = text.toLowerCase().replace(/ /g, "_"), extra = ""): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

const TOO_MANY: Record<SocketRefusal, string> = {
  sockets_per_address: "Too many lab connections are open from your address; close some tabs and try again.",
  sockets_per_lab: "Too many connections are open to this lab; close some of its tabs and try again.",
};

/** The one place WebSocket upgrades are routed: lab sockets, Next's dev socket, or a refusal. */
export function createUpgradeDispatcher(d: UpgradeDeps) {
  /** a socket that makes its lab counts, until it closes, against its address's cap (per lab: a key of its own) */
  let making = 0;
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === NEW_LAB_SOCKET && d.routes.newLab) {
      if (!originAllowed(req, d.config.allowedOrigins)) return refuse(socket, 403, "Forbidden", "This origin may not open lab sockets.");
      const over = d.limits?.admit("terminal", `new:${++making}`, clientIp(req, d.config.trustProxy), socket) ?? null;
      if (over) {
        d.refused?.(over);
        return refuse(socket, 429, "Too Many Requests", TOO_MANY[over], over, "Retry-After: 10\r\n");
      }
      return d.routes.newLab(req, socket, head, url.searchParams);
    }
    const m = PATH.exec(url.pathname);
    if (!m || !isLabId(m[1])) {
      for (const other of d.others ?? []) if (other(req, socket, head, url)) return;
      if (d.next && url.pathname.startsWith("/_next/")) {
        void d.next(req, socket, head);
        return;
      }
      return refuse(socket, 404, "Not Found", "No WebSocket endpoint here.");
    }
    if (!originAllowed(req, d.config.allowedOrigins)) return refuse(socket, 403, "Forbidden", "This origin may not open lab sockets.");
    const found = lookUpLab(d.mgr, m[1]!, req, url.searchParams);
    if ("refused" in found) {
      if (found.refused === "no-token") return refuse(socket, 401, "Unauthorized", "This needs the lab's token (?token=).");
      return refuse(socket, 404, "Not Found", "No such lab, or the token does not belong to it.");
    }
    const kind = m[2] === "terminals" ? "terminal" : "explorer";
    const over = d.limits?.admit(kind, found.lab.id, clientIp(req, d.config.trustProxy), socket) ?? null;
    if (over) {
      d.refused?.(over);
      return refuse(socket, 429, "Too Many Requests", TOO_MANY[over], over, "Retry-After: 10\r\n");
    }
    const route = kind === "terminal" ? d.routes.terminals : d.routes.explorer;
    route(req, socket, head, found.lab, url.searchParams);
  };
}
