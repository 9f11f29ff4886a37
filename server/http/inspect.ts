import "server-only";
import type { LabHandle } from "../labs/types.ts";
import { LabInspector, type TerminalShell } from "../inspect/snapshot.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext, Router } from "./router.ts";

/**
 * One-off inspection (docs/api.md): a lab's snapshot and a process's mount table. Each has two
 * paths: the names the lab-core API promised (/processes, /mounts?pid=) and the explorer's
 * (/snapshot, /mounts/:pid); both run the same handler.
 */
export function inspectRoutes(router: Router, deps: { labFor(ctx: RouteContext): LabHandle; shellsOf?(lab: LabHandle): TerminalShell[] }): void {
  const snapshot = async (ctx: RouteContext) => {
    const lab = deps.labFor(ctx);
    return { status: 200, body: await new LabInspector(lab, () => deps.shellsOf?.(lab) ?? []).snapshot() };
  };
  const mounts = async (ctx: RouteContext, raw: string) => {
    const lab = deps.labFor(ctx);
    const table = /^\d{1,10}$/.test(raw) ? await new LabInspector(lab).mountTable(Number(raw)) : null;
    if (!table) throw new HttpError(404, "not_found", "That process is not one of this lab's (give the host pid of one of its processes).");
    // a longer table than the server reads is cut after its first mounts (docs/api.md)
    return { status: 200, body: table.mounts, headers: table.truncated ? { "x-nslab-truncated": "1" } : undefined };
  };
  router.add("GET", "/api/labs/:id/processes", snapshot);
  router.add("GET", "/api/labs/:id/snapshot", snapshot);
  router.add("GET", "/api/labs/:id/mounts", (ctx) => mounts(ctx, ctx.query.get("pid") ?? ""));
  router.add("GET", "/api/labs/:id/mounts/:pid", (ctx) => mounts(ctx, ctx.params.pid ?? ""));
}
