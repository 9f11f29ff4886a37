import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "../config.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import { isLabId } from "../../lib/ids.ts";
import { lookUpLab } from "./auth.ts";
import { originAllowed } from "./client.ts";

export type LabUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, lab: Lab, query: URLSearchParams) => void;

export interface UpgradeDeps {
  config: Pick<Config, "allowedOrigins">;
  mgr: LabManager;
  routes: { terminals: LabUpgrade; explorer: LabUpgrade };
  next: ((req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void> | void) | null;
  /** other socket endpoints (the classroom's): true when they took the request */
  others?: ((req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean)[];
}

const PATH = /^\/api\/labs\/([^/]+)\/(terminals|explorer)$/;

function refuse(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: text.toLowerCase().replace(/ /g, "_"), message });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The one place WebSocket upgrades are routed: lab sockets, Next's dev socket, or a refusal. */
export function createUpgradeDispatcher(d: UpgradeDeps) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://localhost");
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
    const route = m[2] === "terminals" ? d.routes.terminals : d.routes.explorer;
    route(req, socket, head, found.lab, url.searchParams);
  };
}
