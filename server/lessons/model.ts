import "server-only";
import type { LessonFormat } from "../../lib/lessons.ts";

/**
 * The raw model both loaders (parse.ts for nslab Markdown, killercoda.ts for scenarios) produce
 * for one language file, before validation. It keeps the source line of everything so that
 * schema.ts can report `file:line: message` for each problem.
 */

/** One problem in a lesson. `file` is relative to the repository root (or as given). */
export interface LessonError {
  file: string;
  line: number; // 1-based
  message: string;
}

export type ScriptKind = "check" | "solution" | "setup" | "observe" | "highlight";

export interface Script {
  kind: ScriptKind;
  text: string;
  file: string;
  line: number;
}

/** A fenced code block as written, for the info-string rules. */
export interface BlockRef {
  info: string;
  file: string;
  line: number;
}

/** A check/solution/setup/hint block somewhere it has no meaning (the intro, a list, ...). */
export interface Misplaced {
  kind: ScriptKind | "hint" | "answer" | "predict" | "explore";
  where: string; // "the introduction", "a list", ...
  file: string;
  line: number;
}

export interface RawStep {
  id: string | null; // null: the heading has no <!-- step: id --> comment
  title: string;
  file: string;
  line: number; // the heading (nslab) or the step's entry in index.json (killercoda)
  html: string;
  hints: { html: string; empty: boolean; line: number }[];
  checks: Script[];
  solutions: Script[];
  setups: Script[];
  /** `answer` blocks: the prompt for an answer the learner types for the check (at most one per step). */
  answers: { html: string; empty: boolean; line: number }[];
  predictions: RawPrediction[];
  explores: RawExplore[];
  observes: Script[]; // one per prediction, in order
  highlights: Script[]; // one per explore block, in order
  /** Predictions, explore blocks, their scripts and run blocks in document order (schema.ts pairs them). */
  flow: { kind: "predict" | "observe" | "explore" | "highlight" | "run"; line: number }[];
}

/** A problem inside a widget block's text, at its own line. */
export interface BlockProblem {
  line: number;
  message: string;
}

/** A `predict` block: a question, then either choices (one may be marked right) or a short answer. */
export interface RawPrediction {
  line: number;
  kind: "choice" | "text";
  html: string; // rendered for the page, without the right answer
  choices: number; // how many (0 for a short answer)
  correct: number | null; // the choice marked [x], from 1, if any
  answer: string | null; // a short answer's expected value, if given
  problems: BlockProblem[];
}

/** An `explore` block: which Explorer tab to open, and a caption. */
export interface RawExplore {
  line: number;
  tab: string | null;
  html: string;
  problems: BlockProblem[];
}

/** A frontmatter (or index.json) field and where it was written. */
export interface MetaField {
  value: unknown;
  line: number;
}

export interface RawLesson {
  format: LessonFormat;
  folder: string; // the lesson folder's name, e.g. "07-ipc-namespaces"
  file: string; // the file this model came from, for messages (index.json for killercoda)
  lang: string;
  meta: Map<string, MetaField>;
  metaLine: number; // where missing fields are reported
  metaUnreadable: boolean; // the frontmatter/index.json could not be read: missing fields are not news
  /** How a meta key is spelled in the source, for messages ("description" for a scenario's summary). */
  metaNames: Record<string, string>;
  introHtml: string;
  introSetups: Script[]; // setup blocks before the first step (killercoda: intro background)
  finishHtml: string | null;
  steps: RawStep[];
  blocks: BlockRef[];
  misplaced: Misplaced[];
  errors: LessonError[]; // problems found while reading (syntax errors, missing files)
  /** things worth knowing that do not stop the lesson (a Killercoda backend nslab ignores, ...) */
  notes: LessonError[];
}

export function emptyRaw(format: LessonFormat, folder: string, file: string, lang: string): RawLesson {
  return {
    format,
    folder,
    file,
    lang,
    meta: new Map(),
    metaLine: 1,
    metaUnreadable: false,
    metaNames: {},
    introHtml: "",
    introSetups: [],
    finishHtml: null,
    steps: [],
    blocks: [],
    misplaced: [],
    errors: [],
    notes: [],
  };
}

/** The parts of a step that only nslab lessons have (a Killercoda step has none of them). */
export function noWidgets(): Pick<RawStep, "answers" | "predictions" | "explores" | "observes" | "highlights" | "flow"> {
  return { answers: [], predictions: [], explores: [], observes: [], highlights: [], flow: [] };
}
