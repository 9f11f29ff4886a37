import "server-only";
import { LESSON_ID_MAX, isLessonId } from "../../lib/ids.ts";
import { DEFAULT_LANG, LANGUAGES, isLang, type Lang } from "../../lib/languages.ts";
import type { SolveResponse } from "../../lib/lessons.ts";
import type { CheckResponse } from "../../lib/protocol.ts";
import type { LabHandle } from "../labs/types.ts";
import { serialize } from "../lessons/labqueue.ts";
import type { LessonLibrary } from "../lessons/library.ts";
import type { LessonRunner } from "../lessons/runner.ts";
import { jsonObject } from "./body.ts";
import { HttpError } from "./errors.ts";
import type { RouteContext, Router } from "./router.ts";

export interface LessonRouteDeps {
  lessons: LessonLibrary;
  runner: LessonRunner;
  labFor(ctx: RouteContext): LabHandle;
  /** every check and solve that ran, with its result (the classroom records class members' progress) */
  onResult?(lab: LabHandle, lesson: string, step: string, result: CheckResponse, kind: "check" | "solve"): Promise<void> | void;
}

/** The lesson API (docs/api.md): the catalogue, one lesson, and checking or solving a step in a lab. */
export function lessonRoutes(router: Router, deps: LessonRouteDeps): void {
  const { lessons, runner } = deps;
  const report = async (lab: LabHandle, lesson: string, step: string, r: CheckResponse, kind: "check" | "solve") => {
    try {
      await deps.onResult?.(lab, lesson, step, r, kind);
    } catch (e) {
      console.error("nslab lessons: recording a check result failed:", e);
    }
  };
  router.add("GET", "/api/lessons", (ctx) => ({ status: 200, body: lessons.list(langParam(ctx.query)) }));

  router.add("GET", "/api/lessons/:id", (ctx) => {
    const lang = langParam(ctx.query);
    const id = ctx.params.id ?? "";
    const lesson = isLessonId(id) ? lessons.get(id, lang) : null;
    if (!lesson) throw new HttpError(404, "unknown_lesson", "There is no such lesson.");
    return { status: 200, body: lesson };
  });

  // scripts run one at a time per lab (serialize); the domain's errors (no such script, busy,
  // lab gone) are answered by the table in errors.ts
  router.add("POST", "/api/labs/:id/check", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step } = stepRequest(ctx.body);
    const res: CheckResponse = await serialize(lab, () => runner.runCheck(lab, lesson, step));
    await report(lab, lesson, step, res, "check");
    return { status: 200, body: res };
  });

  router.add("POST", "/api/labs/:id/solve", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step } = stepRequest(ctx.body);
    const res: SolveResponse = await serialize(lab, async () => {
      const sol = await runner.runSolution(lab, lesson, step);
      const check = await runner.runCheck(lab, lesson, step);
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
  const b = jsonObject(body, ["lesson", "step"], { shape: '{"lesson": ..., "step": ...}', only: '{"lesson", "step"}' });
  for (const k of ["lesson", "step"] as const) {
    if (b[k] === undefined) throw new HttpError(400, "bad_request", `${k} is missing.`);
    if (!isLessonId(b[k])) throw new HttpError(400, "bad_request", `${k} must be an id: 1 to ${LESSON_ID_MAX} characters of a-z and 0-9 in words joined by single dashes.`);
  }
  return { lesson: b.lesson as string, step: b.step as string };
}
