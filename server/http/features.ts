import "server-only";
import type { LabManager } from "../labs/manager.ts";
import type { Router } from "./router.ts";
import type { LabUpgrade } from "./upgrade.ts";
import { labFor } from "./labs.ts";
import { lessonRoutes, type LessonRouteDeps } from "../lessons/routes.ts";
import { hasLesson } from "../lessons/catalog.ts";
import { explorerUpgrade } from "../inspect/ws.ts";
import { LabInspector } from "../inspect/snapshot.ts";
import { HttpError } from "./router.ts";

/** The lesson API and the explorer socket, on top of the lab routes. */
export function mountFeatures(
  router: Router,
  mgr: LabManager,
  onResult?: LessonRouteDeps["onResult"],
): { lessonExists: (id: string) => boolean; explorer: LabUpgrade } {
  lessonRoutes(router, { getLab: (_id, ctx) => labFor(mgr, ctx), onResult });
  const explorer = explorerUpgrade(router, mgr, labFor);
  // the names the lab-core API promises (docs/api.md), beside the explorer's own
  router.add("GET", "/api/labs/:id/processes", async (ctx) => ({ status: 200, body: await new LabInspector(labFor(mgr, ctx)).snapshot() }));
  router.add("GET", "/api/labs/:id/mounts", async (ctx) => {
    const lab = labFor(mgr, ctx);
    const raw = ctx.query.get("pid") ?? "";
    const mounts = /^\d{1,10}$/.test(raw) ? await new LabInspector(lab).mounts(Number(raw)) : null;
    if (!mounts) throw new HttpError(404, "not_found", "Give ?pid= a host pid of one of this lab's processes.");
    return { status: 200, body: mounts };
  });
  return { lessonExists: hasLesson, explorer };
}
