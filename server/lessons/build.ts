import "server-only";
import type { NsType } from "../../lib/protocol.ts";
import { LANGUAGES, type Lang } from "../../lib/languages.ts";
import type { ExploreTab, Lesson, LessonMeta } from "../../lib/lessons.ts";
import type { RawLesson } from "./model.ts";

/** What the catalog keeps of one lesson: the public Lesson per language, and the scripts. */
export interface BuiltLesson {
  id: string;
  folder: string;
  byLang: Map<Lang, Lesson>;
  /** Every setup script in order: the introduction's, then each step's. */
  setup: string[];
  steps: Map<string, StepScripts>;
}

export interface StepScripts {
  check: string | null;
  solution: string | null;
  setup: string[];
  /** The check takes the learner's answer; the solution prints the right one as its last line. */
  hasAnswer: boolean;
  /** Per prediction of the step, in order: its shape and its observe script. */
  predictions: { kind: "choice" | "text"; choices: number; correct: number | null; answer: string | null; observe: string }[];
  /** Per explore block of the step, in order: the tab and its highlight script. */
  explores: { tab: ExploreTab; highlight: string }[];
}

/**
 * Turns the validated language files of one lesson into its public form. `files` must have passed
 * the schema and include "en"; scripts always come from "en" (translations carry copies).
 */
export function buildLesson(files: RawLesson[]): BuiltLesson {
  const en = files.find((f) => f.lang === "en");
  if (!en) throw new Error("buildLesson: no en file");
  const languages = LANGUAGES.filter((l) => files.some((f) => f.lang === l));
  const byLang = new Map<Lang, Lesson>();
  for (const f of files) {
    const lang = f.lang as Lang;
    const v = (k: string) => f.meta.get(k)?.value;
    const meta: LessonMeta = {
      id: v("id") as string,
      title: (v("title") as string).trim(),
      summary: (v("summary") as string).trim(),
      order: v("order") as number,
      minutes: v("minutes") as number,
      namespaces: v("namespaces") as NsType[],
      prerequisites: v("prerequisites") as string[],
      languages,
      format: f.format,
      steps: f.steps.length,
    };
    const lesson: Lesson = {
      meta,
      lang,
      introHtml: f.introHtml,
      steps: f.steps.map((s, i) => ({
        id: s.id!,
        title: s.title,
        html: s.html,
        hints: s.hints.map((h) => h.html),
        hasCheck: en.steps[i]!.checks.length > 0,
        hasSolution: en.steps[i]!.solutions.length > 0,
        ...(s.answers[0] ? { answerHtml: s.answers[0].html } : {}),
      })),
      ...(f.finishHtml !== null ? { finishHtml: f.finishHtml } : {}),
    };
    byLang.set(lang, lesson);
  }
  const steps = new Map<string, StepScripts>();
  for (const s of en.steps)
    steps.set(s.id!, {
      check: s.checks[0]?.text ?? null,
      solution: s.solutions[0]?.text ?? null,
      setup: s.setups.map((x) => x.text),
      hasAnswer: s.answers.length > 0,
      predictions: s.predictions.map((p, i) => ({ kind: p.kind, choices: p.choices, correct: p.correct, answer: p.answer, observe: s.observes[i]!.text })),
      explores: s.explores.map((x, i) => ({ tab: x.tab as ExploreTab, highlight: s.highlights[i]!.text })),
    });
  return {
    id: en.meta.get("id")!.value as string,
    folder: en.folder,
    byLang,
    setup: [...en.introSetups.map((x) => x.text), ...en.steps.flatMap((s) => s.setups.map((x) => x.text))],
    steps,
  };
}
