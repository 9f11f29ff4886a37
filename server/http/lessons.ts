import "server-only";
import { LESSON_ID_MAX, isLessonId } from "../../lib/ids.ts";
import { DEFAULT_LANG, LANGUAGES, isLang, type Lang } from "../../lib/languages.ts";
import { ANSWER_MAX, type HighlightResponse, type ObserveResponse, type SolveResponse } from "../../lib/lessons.ts";
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

/** The catalogue and one lesson: all a web replica serves of lessons (checks run on the lab's agent). */
export function catalogRoutes(router: Router, lessons: LessonLibrary): void {
  router.add("GET", "/api/lessons", (ctx) => ({ status: 200, body: lessons.list(langParam(ctx.query)) }));

  router.add("GET", "/api/lessons/:id", (ctx) => {
    const lang = langParam(ctx.query);
    const id = ctx.params.id ?? "";
    const lesson = isLessonId(id) ? lessons.get(id, lang) : null;
    if (!lesson) throw new HttpError(404, "unknown_lesson", "There is no such lesson.");
    return { status: 200, body: lesson };
  });
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
  catalogRoutes(router, lessons);

  // scripts run one at a time per lab (serialize); the domain's errors (no such script, busy,
  // lab gone) are answered by the table in errors.ts
  router.add("POST", "/api/labs/:id/check", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step, lang, answer } = stepRequest(ctx.body, ["lang", "answer"]);
    const res: CheckResponse = await serialize(lab, () => runner.runCheck(lab, lesson, step, { lang, ...(answer !== undefined ? { answer } : {}) }));
    await report(lab, lesson, step, res, "check");
    return { status: 200, body: res };
  });

  router.add("POST", "/api/labs/:id/solve", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step, lang } = stepRequest(ctx.body, ["lang"]);
    const res: SolveResponse = await serialize(lab, async () => {
      const sol = await runner.runSolution(lab, lesson, step, { lang });
      // a step that asks for an answer: the solution printed the right one last
      const check = await runner.runCheck(lab, lesson, step, { lang, ...(sol.answer !== undefined ? { answer: sol.answer } : {}) });
      const output = sol.timedOut ? `${sol.output}\n(the solution timed out)`.trimStart() : sol.output;
      return { ...check, output };
    });
    await report(lab, lesson, step, res, "solve");
    return { status: 200, body: res };
  });

  router.add("POST", "/api/labs/:id/observe", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step, lang, index } = stepRequest(ctx.body, ["lang", "index"]);
    const res: ObserveResponse = await serialize(lab, () => runner.runObserve(lab, lesson, step, index ?? 0, { lang }));
    return { status: 200, body: res };
  });

  router.add("POST", "/api/labs/:id/highlight", async (ctx) => {
    const lab = deps.labFor(ctx);
    const { lesson, step, lang, index } = stepRequest(ctx.body, ["lang", "index"]);
    const res: HighlightResponse = await serialize(lab, () => runner.runHighlight(lab, lesson, step, index ?? 0, { lang }));
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

type Optional = "lang" | "answer" | "index";

/**
 * The body of check, solve, observe and highlight: {lesson, step} (ids, lib/ids.ts) and the
 * optional fields the route takes: lang (a lesson language), answer (what the learner typed: one
 * line, at most ANSWER_MAX characters), index (which prediction or explore block of the step).
 */
function stepRequest(body: unknown, optional: Optional[] = []): { lesson: string; step: string; lang: Lang; answer?: string; index?: number } {
  const bad = (m: string) => new HttpError(400, "bad_request", m);
  const fields = ["lesson", "step", ...optional];
  const b = jsonObject(body, fields, { shape: '{"lesson": ..., "step": ...}', only: `{${fields.map((f) => `"${f}"`).join(", ")}}` });
  for (const k of ["lesson", "step"] as const) {
    if (b[k] === undefined) throw new HttpError(400, "bad_request", `${k} is missing.`);
    if (!isLessonId(b[k])) throw new HttpError(400, "bad_request", `${k} must be an id: 1 to ${LESSON_ID_MAX} characters of a-z and 0-9 in words joined by single dashes.`);
  }
  if (b.lang !== undefined && !isLang(b.lang)) throw bad(`lang must be one of ${LANGUAGES.join(", ")}.`);
  // eslint-disable-next-line no-control-regex
  if (b.answer !== undefined && (typeof b.answer !== "string" || b.answer.length > ANSWER_MAX || /[\x00-\x1f\x7f]/.test(b.answer)))
    throw bad(`answer must be text on one line, at most ${ANSWER_MAX} characters.`);
  if (b.index !== undefined && !(Number.isInteger(b.index) && (b.index as number) >= 0 && (b.index as number) < 100)) throw bad("index must be a whole number from 0 to 99.");
  return {
    lesson: b.lesson as string,
    step: b.step as string,
    lang: (b.lang as Lang | undefined) ?? DEFAULT_LANG,
    ...(b.answer !== undefined ? { answer: b.answer as string } : {}),
    ...(b.index !== undefined ? { index: b.index as number } : {}),
  };
}
