import "server-only";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./config.ts";
import type { LabManager } from "./labs/manager.ts";
import type { Router } from "./http/router.ts";
import type { LabUpgrade } from "./http/upgrade.ts";
import { labFor } from "./http/labs.ts";

/** Lessons and explorer routes, mounted where those modules are present. */
export async function mountOptional(router: Router, mgr: LabManager): Promise<{ lessonExists: (id: string) => boolean; explorer: LabUpgrade | null }> {
  let lessonExists = (_id: string) => false;
  let explorer: LabUpgrade | null = null;
  if (fs.existsSync(path.join(REPO_ROOT, "server/lessons/routes.ts"))) {
    const routes = await import("./lessons/routes.ts");
    const catalog = await import("./lessons/catalog.ts");
    routes.lessonRoutes(router, { getLab: (_id: string, ctx) => labFor(mgr, ctx) });
    lessonExists = (id) => catalog.hasLesson(id);
  }
  if (fs.existsSync(path.join(REPO_ROOT, "server/inspect/ws.ts"))) {
    const ws = await import("./inspect/ws.ts");
    explorer = ws.explorerUpgrade(router, mgr, labFor);
  }
  return { lessonExists, explorer };
}
