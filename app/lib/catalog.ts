import "server-only";
import { sharedLibrary } from "@/server/lessons/library";
import type { Lesson, LessonMeta } from "@/lib/lessons";
import type { Lang } from "@/app/i18n/dict";
import type { CatalogEntry, LessonView } from "./lesson-view";

/** The lesson catalog, shaped for the pages. Pages read lessons only through this module. */

function entry(m: LessonMeta, lang: Lang): CatalogEntry {
  return {
    id: m.id,
    title: m.title,
    summary: m.summary,
    order: m.order,
    minutes: m.minutes,
    namespaces: [...m.namespaces],
    prerequisites: [...m.prerequisites],
    stepCount: m.steps,
    translated: m.languages.includes(lang),
  };
}

export async function listLessons(lang: Lang): Promise<CatalogEntry[]> {
  return sharedLibrary().list(lang).map((m) => entry(m, lang));
}

export async function getLesson(id: string, lang: Lang): Promise<LessonView | null> {
  const l: Lesson | null = sharedLibrary().get(id, lang);
  if (!l) return null;
  return {
    ...entry(l.meta, lang),
    translated: l.lang === lang,
    lang: l.lang,
    introHtml: l.introHtml,
    finishHtml: l.finishHtml ?? "",
    steps: l.steps.map((s) => ({
      id: s.id,
      title: s.title,
      html: s.html,
      hints: [...s.hints],
      hasCheck: s.hasCheck,
      hasSolution: s.hasSolution,
      ...(s.answerHtml ? { answerHtml: s.answerHtml } : {}),
    })),
  };
}
