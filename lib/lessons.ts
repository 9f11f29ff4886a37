/**
 * Lesson shapes shared by the browser and the server (the lesson API). Pure types and constants; lesson
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
 * (data-terminal and data-interrupt only when set; data-keeps-running="true" marks a command that
 * runs until stopped, for the test that types the lessons); a client component adds run/copy buttons.
 */
export interface LessonStep {
  id: string;
  title: string;
  html: string;
  hints: string[]; // rendered HTML, shown one at a time
  hasCheck: boolean;
  hasSolution: boolean;
  /** The step's check wants an answer from the learner (sent with the check); this is its prompt, rendered. */
  answerHtml?: string;
}

/** A whole lesson in one language (the requested one, or "en" when it has no such translation). */
export interface Lesson {
  meta: LessonMeta;
  lang: Lang;
  introHtml: string;
  steps: LessonStep[];
  finishHtml?: string;
}

/** POST /api/labs/:id/solve (body {lesson, step, lang?}: StepRequest) answers this; /check (body {lesson, step, lang?, answer?}) answers CheckResponse (protocol.ts). */
export interface SolveResponse {
  passed: boolean; // the step's check after the solution ran
  feedback: string;
  output: string; // what the solution printed (stdout then stderr), cut to the last 4000 characters
}

/** Answers typed by a learner for a step's check: at most this many characters, no control characters. */
export const ANSWER_MAX = 200;

/** Explorer tabs a lesson can open (an `explore` block's `tab:`). */
export const EXPLORE_TABS = ["processes", "namespaces", "mounts", "users"] as const;
export type ExploreTab = (typeof EXPLORE_TABS)[number];

/**
 * What an explore step highlights, as its `highlight` script found it in the lab: processes by their
 * PID in the lab's PID namespace, namespaces by type and inode, mounts by mount ID, peer groups by
 * number, and the processes whose mount tables the Mounts tab shows.
 */
export type ExploreTarget =
  | { kind: "pid"; pid: number }
  | { kind: "ns"; type: NsType; ino: number }
  | { kind: "mount"; id: number }
  | { kind: "peer"; group: number }
  | { kind: "mounts"; pids: number[] };

/** POST /api/labs/:id/observe {lesson, step, index, lang?}: what the kernel did, for a prediction. */
export interface ObserveRequest {
  lesson: string;
  step: string;
  index: number; // which prediction of the step, from 0
  lang?: Lang;
}
export interface ObserveResponse {
  observed: boolean; // false: the command has not been run (yet), `text` says what to do
  answer: string | null; // the choice number ("1", "2", ...) or the short answer the kernel gave
  text: string; // what happened, in the learner's language
}

/** POST /api/labs/:id/highlight {lesson, step, index, lang?}: what an explore step points at now. */
export type HighlightRequest = ObserveRequest;
export interface HighlightResponse {
  found: boolean;
  message: string; // when nothing is found: what to do first
  targets: ExploreTarget[];
}
