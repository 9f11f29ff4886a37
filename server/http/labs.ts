import "server-only";
import { isLessonId, isTerminalId } from "../../lib/ids.ts";
import type { CreateLabResponse, LabCreatedControl, LabEndReason, LabStatus, QueuedResponse } from "../../lib/protocol.ts";
import type { Access } from "../access/access.ts";
import type { Admission, GrantedLab } from "../admission/admission.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import { requireCode } from "./access-gate.ts";
import { lookUpLab } from "./auth.ts";
import { jsonObject } from "./body.ts";
import { bearerToken } from "./client.ts";
import { apiErrorBody, HttpError, toHttpError } from "./errors.ts";
import type { RouteContext, RouteResult, Router } from "./router.ts";

export const ENDED: Record<LabEndReason, string> = {
  idle: "Your lab was put away because nothing happened in it for a while. Your progress is kept: start a fresh lab.",
  "max-lifetime": "Your lab reached its maximum lifetime and was put away. Your progress is kept: start a fresh lab.",
  deadline: "Your lab's time is up (its class ended).",
  operator: "Your lab was ended by the server's operator. Your progress is kept: start a fresh lab.",
  shutdown: "The server restarted; your lab was shut down. Your progress is kept: start a fresh lab.",
  deleted: "This lab was shut down.",
  "agent-lost": "The machine that ran your lab stopped answering, and your lab went with it. Your progress is kept: start a fresh lab (it starts on another machine).",
  "cgroup-limit": "Your lab was ended because it made more cgroups than a lab may (they use kernel resources every lab on this machine shares). Your progress is kept: start a fresh lab.",
};

/**
 * The lab a request is about, or a 401 (no token), 404 (unknown lab or wrong token) or 410 (the
 * server put the lab away, and why: only its own token learns that). A request with the lab's token
 * is activity: the lab's idle timeout starts again.
 */
export function labFor(mgr: LabManager, ctx: RouteContext): Lab {
  const found = lookUpLab(mgr, ctx.params.id ?? "", ctx.req, ctx.query);
  if ("lab" in found) {
    found.lab.touch();
    return found.lab;
  }
  if (found.refused === "no-token")
    throw new HttpError(401, "unauthorized", "This needs the lab's token (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
  if (found.refused === "ended")
    throw new HttpError(410, "lab_ended", ENDED[found.reason], {}, { reason: found.reason, endedAt: new Date(found.at).toISOString() });
  throw new HttpError(404, "not_found", "No such lab, or the token does not belong to it.");
}

/**
 * POST /api/labs, and the socket that makes its lab (NEW_LAB_SOCKET, with the same answer as its
 * first message): the lesson checked, access (a workshop code), then admission.
 */
export async function createLab(deps: { lessonExists(id: string): boolean; gate: Gate }, clientIp: string, body: { lesson?: unknown; code?: unknown }): Promise<RouteResult & { body: CreateLabResponse | QueuedResponse }> {
  const { lessonExists, gate } = deps;
  let lesson: string | null = null;
  if (body.lesson !== undefined && body.lesson !== null) {
    if (!isLessonId(body.lesson)) throw new HttpError(400, "bad_request", "lesson must be a lesson id.");
    if (!lessonExists(body.lesson)) throw new HttpError(400, "unknown_lesson", `There is no lesson "${body.lesson}".`);
    lesson = body.lesson;
  }
  await requireCode(gate.access, clientIp, body.code);
  // LabCreateError is answered by the table in errors.ts (and logged with its step by server.ts)
  const out = await gate.admission.request({ clientIp, lesson });
  if (out.kind === "created") {
    const res = granted(out.lab);
    return { status: 201, body: res, headers: { location: `/api/labs/${res.id}` } };
  }
  if (out.kind === "queued") {
    const res: QueuedResponse = { queued: true, ticket: out.ticket, view: out.view as QueuedResponse["view"] };
    return { status: 202, body: res, headers: { location: "/api/queue" } };
  }
  const retry = out.retryAfterMs ?? (out.reason === "draining" ? 300_000 : 60_000);
  const s = String(Math.ceil(retry / 1000));
  if (out.reason === "draining") throw new HttpError(503, "draining", out.message, { "retry-after": s }, { retryAfterMs: retry });
  if (out.reason === "too_many_labs") throw new HttpError(429, "too_many_labs", out.message);
  throw new HttpError(429, "rate_limited", out.message, { "retry-after": s }, { retryAfterMs: retry });
}

/**
 * NEW_LAB_SOCKET's first message: POST /api/labs's answer (createLab) for `lesson`, an error as
 * the body POST would have sent; `labId` when a lab was made.
 */
export async function createLabAnswer(deps: { lessonExists(id: string): boolean; gate: Gate }, clientIp: string, lesson: string | undefined): Promise<{ answer: LabCreatedControl; labId?: string }> {
  try {
    const r = await createLab(deps, clientIp, { lesson });
    return { answer: { type: "lab", status: r.status, body: r.body }, ...(r.status === 201 ? { labId: (r.body as CreateLabResponse).id } : {}) };
  } catch (e) {
    const known = toHttpError(e);
    if (!known) throw e;
    const retryAfter = known.headers["retry-after"];
    return { answer: { type: "lab", status: known.status, body: apiErrorBody(known), ...(retryAfter ? { retryAfter } : {}) } };
  }
}

/** Who may have a lab, and when (server/access, server/admission). */
export interface Gate {
  access: Access;
  admission: Admission;
}

function granted(lab: GrantedLab): CreateLabResponse {
  return { id: lab.id, token: lab.token, mode: lab.mode as CreateLabResponse["mode"], hostname: lab.hostname as string };
}

/** The lab API (docs/api.md): create (through admission), the queue, status, keepalive, delete, trace, close a terminal. */
export function labRoutes(router: Router, deps: { mgr: LabManager; terminals: Terminals; lessonExists(id: string): boolean; gate: Gate }): void {
  const { mgr, terminals } = deps;
  const status = (lab: Lab): LabStatus => {
    const { limits, ...rest } = lab.status();
    return { ...rest, terminals: terminals.of(lab).status(), limits };
  };
  admissionRoutes(router, deps);
  router.add("GET", "/api/labs/:id", (ctx) => ({ status: 200, body: status(labFor(mgr, ctx)) }));

  /** "I'm still here": activity, so the idle timeout starts again; answers the lab's status (expiresAt). */
  router.add("POST", "/api/labs/:id/keepalive", (ctx) => ({ status: 200, body: status(labFor(mgr, ctx)) }));

  router.add("DELETE", "/api/labs/:id", async (ctx) => {
    const lab = labFor(mgr, ctx);
    await mgr.destroy(lab.id, "deleted");
    return { status: 204 };
  });

  router.add("GET", "/api/labs/:id/trace", (ctx) => {
    const lab = labFor(mgr, ctx);
    const since = Number(ctx.query.get("since") ?? 0);
    return { status: 200, body: lab.trace().filter((e) => !(since > 0) || e.seq > since) };
  });

  router.add("DELETE", "/api/labs/:id/terminals/:tid", (ctx) => {
    const lab = labFor(mgr, ctx);
    const tid = ctx.params.tid ?? "";
    const t = isTerminalId(tid) ? terminals.of(lab).get(tid) : undefined;
    if (!t) throw new HttpError(404, "not_found", "No such terminal in this lab.");
    t.dispose("terminal-closed");
    return { status: 204 };
  });
}

/**
 * Creating labs: POST /api/labs (access, then admission), and the queue. The same on one machine
 * and on a web replica (where admission's `create` places the lab on an agent: server/web.ts).
 */
export function admissionRoutes(router: Router, deps: { lessonExists(id: string): boolean; gate: Gate }): void {
  const { gate } = deps;
  /**
   * POST /api/labs {lesson?, code?}: 201 with the lab; 202 with a place in the queue when the server
   * is full; 401/403 without the right workshop code (access mode "code"); 429/503 with
   * retryAfterMs when this address must wait or the server is draining.
   */
  router.add("POST", "/api/labs", (ctx) => createLab(deps, ctx.clientIp, jsonObject(ctx.body, ["lesson", "code"])));

  /** GET /api/queue?seen=V (Authorization: Bearer <ticket>): the place in the queue, as a long poll. */
  router.add("GET", "/api/queue", async (ctx) => {
    const ticket = bearerToken(ctx.req, new URLSearchParams());
    if (!ticket) throw new HttpError(401, "unauthorized", "This needs the queue ticket (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
    const raw = ctx.query.get("seen");
    const seen = raw !== null && /^-?\d{1,9}$/.test(raw) ? Number(raw) : null;
    const wait = Math.min(Math.max(Number(ctx.query.get("wait") ?? 25) || 25, 0), 25) * 1000;
    const v = await gate.admission.poll(ticket, seen, wait);
    return { status: 200, body: { ...v, ...(v.lab ? { lab: granted(v.lab) } : {}) } };
  });

  router.add("DELETE", "/api/queue", (ctx) => {
    const ticket = bearerToken(ctx.req, new URLSearchParams());
    if (!ticket || !gate.admission.cancel(ticket)) throw new HttpError(404, "not_found", "No such place in the queue.");
    return { status: 204 };
  });
}
