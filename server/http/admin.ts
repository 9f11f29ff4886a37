import "server-only";
import { isLabId } from "../../lib/ids.ts";
import type { Access } from "../access/access.ts";
import type { Admission } from "../admission/admission.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import { log } from "../log/log.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext, Router } from "./router.ts";
import { bearerToken } from "./client.ts";

/**
 * The operator's API (docs/api.md, "Operator"): Authorization: Bearer <NSLAB_OPERATOR_KEY>.
 *  - GET    /api/admin/status             draining?, labs, pool, queue
 *  - GET    /api/admin/labs               every learner's lab: address, lesson, activity, expiry, usage
 *  - DELETE /api/admin/labs/:id           ends a lab (its page says the operator ended it)
 *  - PUT    /api/admin/labs/:id/lifetime  {deadline?: ISO time|null, idleTimeout?: ms|null, maxLifetime?: ms|null}
 *  - POST   /api/admin/drain {wait?: s}   no new labs (the queue is told), existing ones run on;
 *                                         with wait, answers once no lab is left or after wait s (≤ 60)
 *  - DELETE /api/admin/drain              takes new labs again
 * Without a configured key every admin route answers 404. Wrong keys count against the address
 * (with wrong access codes), and are logged without the key.
 */
export function adminRoutes(router: Router, mgr: LabManager, access: Access, admission: Admission, terminals: Terminals): void {
  const operator = operatorGuard(access);
  const status = () => ({ draining: admission.isDraining, labs: mgr.count, pooled: mgr.pooled, queue: admission.queueLength, ...admission.pending() });

  router.add("GET", "/api/admin/status", async (ctx) => {
    await operator(ctx);
    return { status: 200, body: status() };
  });

  router.add("GET", "/api/admin/labs", async (ctx) => {
    await operator(ctx);
    const labs = mgr.list().map((l) => {
      const u = l.usage();
      const e = l.lifetime.expiry();
      return {
        id: l.id,
        clientIp: l.clientIp,
        lesson: l.lesson,
        createdAt: l.createdAt.toISOString(),
        lastActivity: new Date(l.lifetime.lastActivity).toISOString(),
        expiresAt: e ? new Date(e.at).toISOString() : null,
        expiryReason: e?.reason ?? null,
        terminals: [...terminals.of(l).values()].map((t) => ({ id: t.id, attached: t.attached })),
        memoryBytes: u.memoryBytes,
        pids: u.pids,
      };
    });
    return { status: 200, body: { ...status(), list: labs } };
  });

  router.add("DELETE", "/api/admin/labs/:id", async (ctx) => {
    await operator(ctx);
    const id = ctx.params.id ?? "";
    if (!isLabId(id) || !mgr.get(id)) throw new HttpError(404, "not_found", "No such lab.");
    await mgr.destroy(id, "operator");
    log.info({ lab: id, ip: ctx.clientIp }, "lab ended by the operator");
    return { status: 204 };
  });

  router.add("PUT", "/api/admin/labs/:id/lifetime", async (ctx) => {
    await operator(ctx);
    const id = ctx.params.id ?? "";
    const b = ctx.body as Record<string, unknown>;
    if (typeof b !== "object" || b === null || Array.isArray(b)) throw new HttpError(400, "bad_request", "Send a JSON object.");
    const patch: { deadline?: number | null; idleMs?: number | null; maxMs?: number | null } = {};
    for (const [k, v] of Object.entries(b)) {
      if (k === "deadline") {
        const t = v === null ? null : typeof v === "string" ? Date.parse(v) : NaN;
        if (t !== null && !Number.isFinite(t)) throw new HttpError(400, "bad_request", "deadline must be an ISO time or null.");
        patch.deadline = t;
      } else if (k === "idleTimeout" || k === "maxLifetime") {
        if (v !== null && (typeof v !== "number" || !Number.isInteger(v) || v < 1000)) throw new HttpError(400, "bad_request", `${k} must be milliseconds (≥ 1000) or null.`);
        patch[k === "idleTimeout" ? "idleMs" : "maxMs"] = v as number | null;
      } else throw new HttpError(400, "bad_request", `Unknown field "${k.slice(0, 40)}".`);
    }
    if (!isLabId(id) || !mgr.setLifetime(id, patch)) throw new HttpError(404, "not_found", "No such lab.");
    return { status: 200, body: mgr.get(id)!.status() };
  });

  router.add("POST", "/api/admin/drain", async (ctx) => {
    await operator(ctx);
    const b = ctx.body as { wait?: unknown };
    const wait = typeof b?.wait === "number" ? Math.min(Math.max(b.wait, 0), 60) * 1000 : 0;
    if (!admission.isDraining) log.warn({ ip: ctx.clientIp, labs: mgr.count }, "draining: no new labs");
    admission.drain(true);
    const end = Date.now() + wait;
    while (mgr.count > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
    return { status: 200, body: status() };
  });

  router.add("DELETE", "/api/admin/drain", async (ctx) => {
    await operator(ctx);
    admission.drain(false);
    log.warn({ ip: ctx.clientIp }, "drain ended: taking new labs again");
    return { status: 200, body: status() };
  });
}

/** The operator key check of every admin route (a web replica's agent routes too). */
export function operatorGuard(access: Access): (ctx: RouteContext) => Promise<void> {
  return async (ctx: RouteContext) => {
    if (!access.operatorEnabled) throw new HttpError(404, "not_found", "No such API endpoint.");
    const v = await access.operatorCheck(ctx.clientIp, bearerToken(ctx.req, new URLSearchParams()));
    if (v.ok) return;
    if (v.why === "locked") {
      const s = Math.ceil((v.retryAfterMs ?? 60_000) / 1000);
      log.warn({ ip: ctx.clientIp, what: "operator key" }, "locked out after too many wrong keys");
      throw new HttpError(429, "locked_out", `Too many wrong keys from your address. Try again in ${s} s.`, { "retry-after": String(s) }, { retryAfterMs: v.retryAfterMs });
    }
    if (v.why === "wrong") log.warn({ ip: ctx.clientIp, what: "operator key", route: ctx.req.url?.split("?")[0] }, "wrong operator key");
    throw new HttpError(401, "unauthorized", "This needs the operator key (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
  };
}
