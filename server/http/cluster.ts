import "server-only";
import type { Access } from "../access/access.ts";
import type { AgentPool } from "../cluster/agents.ts";
import { INTERNAL_HEADER } from "../cluster/secret.ts";
import { log } from "../log/log.ts";
import { operatorGuard } from "./admin.ts";
import { HttpError } from "./errors.ts";
import type { Router } from "./router.ts";

/**
 * A web replica's operator routes for its agents (Authorization: Bearer <NSLAB_OPERATOR_KEY>):
 *  - GET    /api/admin/agents              every agent: up?, its last health report
 *  - POST   /api/admin/agents/:name/drain  no new labs on it; its labs run on until they end
 *  - DELETE /api/admin/agents/:name/drain  takes new labs again
 */
export function clusterRoutes(router: Router, d: { pool: AgentPool; access: Access; secret: string }): void {
  const operator = operatorGuard(d.access);
  const list = () => d.pool.list().map((a) => ({ name: a.name, url: a.url, up: a.up, health: a.health }));
  router.add("GET", "/api/admin/agents", async (ctx) => {
    await operator(ctx);
    return { status: 200, body: list() };
  });
  for (const method of ["POST", "DELETE"] as const)
    router.add(method, "/api/admin/agents/:name/drain", async (ctx) => {
      await operator(ctx);
      const a = d.pool.get(ctx.params.name ?? "");
      if (!a) throw new HttpError(404, "not_found", "No such agent.");
      let res: Response;
      try {
        res = await fetch(`${a.url}/internal/drain`, { method, headers: { [INTERNAL_HEADER]: d.secret }, signal: AbortSignal.timeout(10_000) });
      } catch {
        throw new HttpError(502, "agent_unreachable", "That agent did not answer.");
      }
      if (!res.ok) throw new HttpError(502, "agent_unreachable", `That agent answered ${res.status}.`);
      a.health = await res.json();
      log.warn({ agent: a.name, ip: ctx.clientIp, draining: method === "POST" }, method === "POST" ? "agent draining" : "agent takes labs again");
      return { status: 200, body: { name: a.name, up: a.up, health: a.health } };
    });
}
