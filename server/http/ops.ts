import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Access } from "../access/access.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { bearerToken } from "./client.ts";
import { send } from "./router.ts";

/**
 * For load balancers and monitoring, outside /api:
 *  - GET /healthz: 200 while the process serves requests (liveness);
 *  - GET /readyz: 200 while it takes new labs, 503 (and why) while draining, stopping or full;
 *  - GET /metrics: Prometheus text. Open to a scraper on the same host that connects directly
 *    (no X-Forwarded-For); through the proxy it needs the operator key, so the public site does
 *    not publish it.
 */
export interface OpsDeps {
  metrics: Metrics;
  access: Access;
  /** null when ready, else why not */
  notReady(): string | null;
}

export function opsHandler(d: OpsDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (path === "/healthz") {
      send(res, 200, { ok: true });
      return true;
    }
    if (path === "/readyz") {
      const why = d.notReady();
      send(res, why ? 503 : 200, why ? { ready: false, reason: why } : { ready: true });
      return true;
    }
    if (path === "/metrics") {
      const direct = !req.headers["x-forwarded-for"] && isLoopback(req.socket.remoteAddress);
      if (!direct && !(d.access.operatorEnabled && (await d.access.operatorCheck(req.socket.remoteAddress ?? "?", bearerToken(req, new URLSearchParams()))).ok)) {
        send(res, 404, { error: "not_found", message: "Not found." });
        return true;
      }
      const text = await d.metrics.text();
      res.writeHead(200, { "content-type": d.metrics.contentType, "cache-control": "no-store" });
      res.end(text);
      return true;
    }
    return false;
  };
}

function isLoopback(a: string | undefined): boolean {
  return !!a && (a === "::1" || a.startsWith("127.") || a.startsWith("::ffff:127."));
}
