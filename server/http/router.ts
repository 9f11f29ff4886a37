import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiError } from "../../lib/protocol.ts";
import { apiErrorBody, HttpError, toHttpError } from "./errors.ts";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (POST/PUT/PATCH); {} when empty. Bodies over 64 KiB are refused. */
  body: unknown;
  /** The client's address, for rate limits. */
  clientIp: string;
}

export interface RouteResult {
  status: number;
  body?: unknown; // JSON-encoded; undefined sends no body
  headers?: Record<string, string>;
}

export type Handler = (ctx: RouteContext) => Promise<RouteResult> | RouteResult;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

const MAX_BODY = 64 * 1024;

/** A small router for /api: patterns like "/api/labs/:id/terminals". */
export class Router {
  private routes: Route[] = [];

  /** `prefix`: the paths this router answers (an agent's internal API is under /internal/) */
  constructor(private readonly prefix = "/api/") {}

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split("/").filter(Boolean), handler });
  }

  /** Finds the route for a path; {allowed} lists methods when only the method is wrong. */
  match(method: string, pathname: string): { route?: Route; params: Record<string, string>; allowed: string[] } {
    const segs = pathname.split("/").filter(Boolean);
    const allowed: string[] = [];
    for (const r of this.routes) {
      if (r.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        const p = r.parts[i]!;
        let seg: string;
        try {
          seg = decodeURIComponent(segs[i]!);
        } catch {
          ok = false;
          break;
        }
        if (p.startsWith(":")) params[p.slice(1)] = seg;
        else ok = p === seg;
      }
      if (!ok) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        continue;
      }
      return { route: r, params, allowed };
    }
    return { params: {}, allowed };
  }

  /** Handles a request if it is for /api; returns false to let Next handle it. */
  async handle(req: IncomingMessage, res: ServerResponse, clientIp: string, body?: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith(this.prefix)) return false;
    const method = req.method ?? "GET";
    try {
      const { route, params, allowed } = this.match(method, url.pathname);
      if (!route) {
        if (allowed.length) throw new HttpError(405, "method_not_allowed", `Use ${allowed.join(" or ")} here.`, { allow: allowed.join(", ") });
        throw new HttpError(404, "not_found", "No such API endpoint.");
      }
      // `body`: read already by whoever looked at it first (web's class routing reads a join's code)
      const parsed = method === "GET" || method === "HEAD" || method === "DELETE" ? {} : parseJson(req, body ?? (await readBody(req)));
      const result = await route.handler({ req, res, params, query: url.searchParams, body: parsed, clientIp });
      send(res, result.status, result.body, result.headers);
    } catch (err) {
      const known = toHttpError(err);
      if (known) {
        send(res, known.status, apiErrorBody(known), known.headers);
      } else {
        console.error(`api: internal error on ${method} ${url.pathname}:`, err);
        send(res, 500, { error: "internal", message: "Something went wrong on the server." } satisfies ApiError);
      }
    }
    return true;
  }
}

export function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const h: Record<string, string> = { "cache-control": "no-store", ...headers };
  if (body === undefined) {
    res.writeHead(status, h).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...h, "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A request's body, at most MAX_BODY bytes (413 beyond). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "body_too_large", `Request bodies are limited to ${MAX_BODY} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(req: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0) return {};
  const type = req.headers["content-type"] ?? "";
  if (!type.includes("application/json")) throw new HttpError(415, "unsupported_media_type", "Send JSON with Content-Type: application/json.");
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "bad_json", "The request body is not valid JSON.");
  }
}
