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

export type ScriptKind = "check" | "solution" | "setup";

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
  kind: ScriptKind | "hint";
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
