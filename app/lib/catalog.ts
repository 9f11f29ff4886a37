import "server-only";
// TEMPORARY: until lib/lessons.ts and server/lessons/catalog.ts land, this adapter serves sample
// lessons. Pages read lessons only through this module.
import type { Lang } from "@/app/i18n/dict";
import type { CatalogEntry, LessonView } from "./lesson-view";
import { SAMPLE_LESSONS } from "./catalog-sample";

export async function listLessons(_lang: Lang): Promise<CatalogEntry[]> {
  return SAMPLE_LESSONS.map(({ introHtml: _i, finishHtml: _f, steps: _s, lang: _l, ...m }) => m).sort((a, b) => a.order - b.order);
}

export async function getLesson(id: string, _lang: Lang): Promise<LessonView | null> {
  return SAMPLE_LESSONS.find((l) => l.id === id) ?? null;
}
