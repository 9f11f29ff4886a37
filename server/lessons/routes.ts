import "server-only";
import type { CheckResponse } from "../../lib/protocol.ts";
import { LESSON_ID_MAX, isLessonId } from "../../lib/ids.ts";
import { DEFAULT_LANG, LANGUAGES, isLang, type Lang } from "../../lib/languages.ts";
import type { SolveResponse } from "../../lib/lessons.ts";
import { HttpError, type RouteContext, type Router } from "../http/router.ts";
import { LabGoneError } from "../labs/lab.ts";
import type { LabHandle } from "../labs/types.ts";
import * as catalog from "./catalog.ts";
import { LabBusyError, serialize } from "./labqueue.ts";
import { NoSuchScriptError, runCheck, runSolution } from "./runner.ts";

/** The lesson API (docs/api.md): the catalogue, one lesson, and checking or solving a step in a lab. */
export interface LessonRouteDeps {
  getLab(id: string, ctx: RouteContext): LabHandle;
  /** every check and solve that ran, with its result (the classroom records class members' progress) */
  onResult?(lab: LabHandle, lesson: string, step: string, result: CheckResponse, kind: "check" | "solve"): Promise<void> | void;
}

export function lessonRoutes(router: Router, deps: LessonRouteDeps): void {
  const report = async (lab: LabHandle, lesson: string, step: string, r: CheckResponse, kind: "check" | "solve") => {
    try {
      await deps.onResult?.(lab, lesson, step, r, kind);
    } catch (e) {
      console.error("nslab lessons: recording a check result failed:", e);
    }
  };
  router.add("GET", "/api/lessons", (ctx) => ({ status: 200, body: catalog.list(langParam(ctx.query)) }));

  router.add("GET", "/api/lessons/:id", (ctx) => {
    const lang = langParam(ctx.query);
    const id = ctx.params.id ?? "";
    const lesson = isLessonId(id) ? catalog.get(id, lang) : null;
    if (!lesson) throw new HttpError(404, "unknown_lesson", "There is no such lesson.");
    return { status: 200, body: lesson };
  });

  router.add("POST", "/api/labs/:id/check", async (ctx) => {
    const lab = deps.getLab(ctx.params.id ?? "", ctx);
    const { lesson, step } = stepRequest(ctx.body);
    const res: CheckResponse = await inLab(lab, () => runCheck(lab, lesson, step));
    await report(lab, lesson, step, res, "check");
    return { status: 200, body: res };
  });

  router.add("POST", "/api/labs/:id/solve", async (ctx) => {
    const lab = deps.getLab(ctx.params.id ?? "", ctx);
    const { lesson, step } = stepRequest(ctx.body);
    const res: SolveResponse = await inLab(lab, async () => {
      const sol = await runSolution(lab, lesson, step);
      const check = await runCheck(lab, lesson, step);
      const output = sol.timedOut ? `${sol.output}\n(the solution timed out)`.trimStart() : sol.output;
      return { ...check, output };
    });
    await report(lab, lesson, step, res, "solve");
    return { status: 200, body: res };
  });
}

/** ?lang=en|zh-CN, default en; anything else is a 400 (a typo should not silently give English). */
function langParam(q: URLSearchParams): Lang {
  const all = q.getAll("lang");
  if (all.length === 0) return DEFAULT_LANG;
  if (all.length > 1 || !isLang(all[0])) throw new HttpError(400, "bad_request", `lang must be one of ${LANGUAGES.join(", ")}.`);
  return all[0];
}

/** The body of check and solve: exactly {lesson, step}, both ids. */
function stepRequest(body: unknown): { lesson: string; step: string } {
  const bad = (m: string) => new HttpError(400, "bad_request", m);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw bad('Send a JSON object {"lesson": ..., "step": ...}.');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (k !== "lesson" && k !== "step") throw bad(`Unknown field "${k.slice(0, 40)}"; send {"lesson", "step"} only.`);
  for (const k of ["lesson", "step"] as const) {
    if (b[k] === undefined) throw bad(`${k} is missing.`);
    if (!isLessonId(b[k])) throw bad(`${k} must be an id: 1 to ${LESSON_ID_MAX} characters of a-z and 0-9 in words joined by single dashes.`);
  }
  return { lesson: b.lesson as string, step: b.step as string };
}

/** Runs scripts one at a time per lab and maps their failures to HTTP errors. */
async function inLab<T>(lab: LabHandle, fn: () => Promise<T>): Promise<T> {
  try {
    return await serialize(lab, fn);
  } catch (e) {
    if (e instanceof NoSuchScriptError) throw new HttpError(404, e.code, e.message);
    if (e instanceof LabBusyError) throw new HttpError(429, "busy", e.message, { "retry-after": "2" });
    if (e instanceof LabGoneError) throw new HttpError(409, "lab_gone", "This lab is not running any more. Start a new one.");
    throw e;
  }
}
