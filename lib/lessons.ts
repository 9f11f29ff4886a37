/**
 * Lesson shapes shared by the browser and the server (the lesson API). Pure types and
 * constants only. The lesson files and their format are described in docs/lessons.md; the
 * server-only loader lives in server/lessons/.
 */
import type { NsType } from "./protocol.ts";

/** Languages a lesson can be written in; "en" is required and is the fallback. */
export const LESSON_LANGUAGES = ["en", "zh-CN"] as const;
export type LessonLang = (typeof LESSON_LANGUAGES)[number];
export const DEFAULT_LESSON_LANG: LessonLang = "en";

export function isLessonLang(v: unknown): v is LessonLang {
  return typeof v === "string" && (LESSON_LANGUAGES as readonly string[]).includes(v);
}

/** Lesson and step ids: lowercase letters, digits and dashes. */
export const LESSON_ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const LESSON_ID_MAX = 100;

export type LessonFormat = "nslab" | "killercoda";

/** What the catalogue shows of a lesson, in one language. */
export interface LessonMeta {
  id: string;
  title: string;
  summary: string;
  order: number;
  minutes: number;
  namespaces: NsType[];
  prerequisites: string[];
  languages: LessonLang[]; // languages the lesson is written in, "en" first
  format: LessonFormat;
  steps: number; // how many steps
}

/**
 * One step, rendered. Code blocks in `html` (and in hints) look like
 * `<pre data-nslab-code data-kind="run|copy|plain" data-terminal="2" data-interrupt="true"><code class="language-bash">…</code></pre>`
 * (data-terminal and data-interrupt only when set); a client component adds run/copy buttons.
 */
export interface LessonStep {
  id: string;
  title: string;
  html: string;
  hints: string[]; // rendered HTML, shown one at a time
  hasCheck: boolean;
  hasSolution: boolean;
}

/** A whole lesson in one language (the requested one, or "en" when it has no such translation). */
export interface Lesson {
  meta: LessonMeta;
  lang: LessonLang;
  introHtml: string;
  steps: LessonStep[];
  finishHtml?: string;
}

/** POST /api/labs/:id/check and /solve take {lesson, step} (CheckRequest in protocol.ts). */
export interface SolveResponse {
  passed: boolean; // the step's check after the solution ran
  feedback: string;
  output: string; // what the solution printed (stdout then stderr), cut to the last 4000 characters
}
