/**
 * Lesson shapes shared by the browser and the server (the lesson API). Pure types only; lesson
 * and step ids follow lib/ids.ts, languages lib/languages.ts. The lesson files and their format
 * are described in docs/lessons.md; the server-only loader lives in server/lessons/.
 */
import type { Lang } from "./languages.ts";
import type { NsType } from "./protocol.ts";

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
  languages: Lang[]; // languages the lesson is written in, "en" first
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
  lang: Lang;
  introHtml: string;
  steps: LessonStep[];
  finishHtml?: string;
}

/** POST /api/labs/:id/solve (body {lesson, step}, both ids: lib/ids.ts) answers this; /check answers CheckResponse (protocol.ts). */
export interface SolveResponse {
  passed: boolean; // the step's check after the solution ran
  feedback: string;
  output: string; // what the solution printed (stdout then stderr), cut to the last 4000 characters
}
