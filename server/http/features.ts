import "server-only";
import type { LabManager } from "../labs/manager.ts";
import type { Router } from "./router.ts";
import type { LabUpgrade } from "./upgrade.ts";
import { labFor } from "./labs.ts";
import { lessonRoutes } from "../lessons/routes.ts";
import { hasLesson } from "../lessons/catalog.ts";
import { explorerUpgrade } from "../inspect/ws.ts";

/** The lesson API and the explorer socket, on top of the lab routes. */
export function mountFeatures(router: Router, mgr: LabManager): { lessonExists: (id: string) => boolean; explorer: LabUpgrade } {
  lessonRoutes(router, { getLab: (_id, ctx) => labFor(mgr, ctx) });
  const explorer = explorerUpgrade(router, mgr, labFor);
  return { lessonExists: hasLesson, explorer };
}
