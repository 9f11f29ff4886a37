import "server-only";
import { isLabId, isLessonId } from "../../lib/ids.ts";
import type { CreateLabResponse } from "../../lib/protocol.ts";
import type { Lab } from "../labs/lab.ts";
import { CapacityError, LabCreateError, type LabManager } from "../labs/manager.ts";
import { HttpError, type RouteContext, type Router } from "./router.ts";
import { bearerToken } from "./client.ts";


/** Finds the lab a request is about, or answers 401 (no token) / 404 (unknown lab or wrong token). */
export function labFor(mgr: LabManager, ctx: RouteContext): Lab {
  const id = ctx.params.id ?? "";
  const token = bearerToken(ctx.req, ctx.query);
  if (!token) throw new HttpError(401, "unauthorized", "This needs the lab's token (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
  const lab = isLabId(id) ? mgr.authenticate(id, token) : undefined;
  if (!lab) throw new HttpError(404, "not_found", "No such lab, or the token does not belong to it.");
  return lab;
}

export function labRoutes(router: Router, mgr: LabManager, lessonExists: (id: string) => boolean): void {
  router.add("POST", "/api/labs", async (ctx) => {
    const body = ctx.body as Record<string, unknown>;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "bad_request", "Send a JSON object.");
    for (const k of Object.keys(body)) if (k !== "lesson") throw new HttpError(400, "bad_request", `Unknown field "${k.slice(0, 40)}".`);
    let lesson: string | null = null;
    if (body.lesson !== undefined && body.lesson !== null) {
      if (!isLessonId(body.lesson)) throw new HttpError(400, "bad_request", "lesson must be a lesson id.");
      if (!lessonExists(body.lesson)) throw new HttpError(400, "unknown_lesson", `There is no lesson "${body.lesson}".`);
      lesson = body.lesson;
    }
    try {
      const lab = await mgr.create({ lesson, clientIp: ctx.clientIp });
      const res: CreateLabResponse = { id: lab.id, token: lab.token, mode: lab.mode, hostname: lab.hostname };
      return { status: 201, body: res, headers: { location: `/api/labs/${lab.id}` } };
    } catch (e) {
      if (e instanceof CapacityError) throw new HttpError(429, "rate_limited", e.message, { "retry-after": "60" });
      if (e instanceof LabCreateError) {
        console.error("nslab: lab creation failed:", e.native.message);
        throw new HttpError(500, "lab_create_failed", "The lab could not be created. The server's log says why; `npm run doctor` checks the host.");
      }
      throw e;
    }
  });

  router.add("GET", "/api/labs/:id", (ctx) => ({ status: 200, body: labFor(mgr, ctx).status() }));

  router.add("DELETE", "/api/labs/:id", async (ctx) => {
    const lab = labFor(mgr, ctx);
    await mgr.destroy(lab.id);
    return { status: 204 };
  });

  router.add("GET", "/api/labs/:id/trace", (ctx) => {
    const lab = labFor(mgr, ctx);
    const since = Number(ctx.query.get("since") ?? 0);
    return { status: 200, body: lab.trace().filter((e) => !(since > 0) || e.seq > since) };
  });

  router.add("DELETE", "/api/labs/:id/terminals/:tid", (ctx) => {
    const lab = labFor(mgr, ctx);
    const t = lab.terminals.get(ctx.params.tid ?? "");
    if (!t) throw new HttpError(404, "not_found", "No such terminal in this lab.");
    t.dispose("terminal-closed");
    return { status: 204 };
  });
}
