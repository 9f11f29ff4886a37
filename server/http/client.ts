import "server-only";
import type { IncomingMessage } from "node:http";
import { isToken } from "../../lib/ids.ts";

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers["x-forwarded-for"];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(",")[0]?.trim();
    if (first && first.length <= 64) return first;
  }
  return req.socket.remoteAddress ?? "unknown";
}

/** The bearer token of a request: Authorization header, or ?token= (WebSockets cannot set headers). */
export function bearerToken(req: IncomingMessage, query: URLSearchParams): string | null {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)$/.exec(h.trim());
    return m && isToken(m[1]) ? m[1] : null;
  }
  const q = query.get("token");
  return isToken(q) ? q : null;
}

/**
 * A WebSocket's Origin, when present, must be this site (same host as the request) or one of the
 * configured extra origins: a page elsewhere must not drive a learner's shell with their token.
 * Clients without Origin (not browsers) are allowed; they still need the token.
 */
export function originAllowed(req: IncomingMessage, extra: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (extra.includes(url.origin)) return true;
  return url.host === req.headers.host;
}
