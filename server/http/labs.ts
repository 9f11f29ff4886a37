import "server-only";
import { isLessonId, isTerminalId } from "../../lib/ids.ts";
import type { CreateLabResponse, LabStatus } from "../../lib/protocol.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import { lookUpLab } from "./auth.ts";
import { jsonObject } from "./body.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext, Router } from "./router.ts";

/** The lab a request is about, or a 401 (no token) / 404 (unknown lab or wrong token). */
export function labFor(mgr: LabManager, ctx: RouteContext): Lab {
  const found = lookUpLab(mgr, ctx.params.id ?? "", ctx.req, ctx.query);
  if ("lab" in found) return found.lab;
  if (found.refused === "no-token")
    throw new HttpError(401, "unauthorized", "This needs the lab's token (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
  throw new HttpError(404, "not_found", "No such lab, or the token does not belong to it.");
}

/** The lab API (docs/api.md): create, status, delete, trace, close a terminal. */
export function labRoutes(router: Router, deps: { mgr: LabManager; terminals: Terminals; lessonExists(id: string): boolean }): void {
  const { mgr, terminals, lessonExists } = deps;
  router.add("POST", "/api/labs", async (ctx) => {
    const body = jsonObject(ctx.body, ["lesson"]);
    let lesson: string | null = null;
    if (body.lesson !== undefined && body.lesson !== null) {
      if (!isLessonId(body.lesson)) throw new HttpError(400, "bad_request", "lesson must be a lesson id.");
      if (!lessonExists(body.lesson)) throw new HttpError(400, "unknown_lesson", `There is no lesson "${body.lesson}".`);
      lesson = body.lesson;
    }
    // CapacityError and LabCreateError are answered by the table in errors.ts
    // the token goes to the learner in this response and is kept nowhere (the lab keeps its hash)
    const { lab, token } = await mgr.create({ lesson, clientIp: ctx.clientIp });
    const res: CreateLabResponse = { id: lab.id, token, mode: lab.mode, hostname: lab.hostname };
    return { status: 201, body: res, headers: { location: `/api/labs/${lab.id}` } };
  });

  router.add("GET", "/api/labs/:id", (ctx) => {
    const lab = labFor(mgr, ctx);
    const { limits, ...rest } = lab.status();
    const body: LabStatus = { ...rest, terminals: terminals.of(lab).status(), limits };
    return { status: 200, body };
  });

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
    const tid = ctx.params.tid ?? "";
    const t = isTerminalId(tid) ? terminals.of(lab).get(tid) : undefined;
    if (!t) throw new HttpError(404, "not_found", "No such terminal in this lab.");
    t.dispose("terminal-closed");
    return { status: 204 };
  });
}
