import "server-only";
import type fs from "node:fs";
import path from "node:path";
import { DEFAULT_LANG, isLang, type Lang } from "../../lib/languages.ts";
import type { Lesson, LessonMeta } from "../../lib/lessons.ts";
import { buildLesson, type BuiltLesson, type StepScripts } from "./build.ts";
import * as files from "./files.ts";
import { loadScenario } from "./killercoda.ts";
import type { LessonError, RawLesson } from "./model.ts";
import { parseLessonFile } from "./parse.ts";
import { validateCatalog, validateFile, validateLesson } from "./schema.ts";

/**
 * The lessons of one folder (Config.lessonsDir: nslab folders NN-id/ and Killercoda scenario
 * folders), loaded once and cached. With `reload` (development) each call reloads if a file
 * changed, so a lesson writer sees an edit on reload. A lesson with errors is left out (and the errors logged),
 * while every other lesson is served: one broken folder never takes the catalogue down. A
 * translation with errors is left out on its own, so English is served.
 */

export interface LoadedCatalog {
  lessons: Map<string, BuiltLesson>;
  errors: LessonError[];
  /** remarks that do not stop a lesson (e.g. a Killercoda backend nslab ignores) */
  notes: LessonError[];
  /** folders left out of the catalogue because of their errors */
  leftOut: string[];
}

export type { StepScripts };

function display(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : abs;
}

/** Reads and validates every lesson in `dir`, without caching. lessons:check and the tests use this. */
export function loadCatalog(dir: string): LoadedCatalog {
  dir = files.resolve(dir);
  const errors: LessonError[] = [];
  const notes: LessonError[] = [];
  const lessons = new Map<string, BuiltLesson>();
  const refs: { id: string; en: RawLesson }[] = [];
  const leftOut: string[] = [];
  let folders: fs.Dirent[];
  try {
    folders = files.list(dir);
  } catch (e) {
    return { lessons, errors: [{ file: display(dir), line: 1, message: `cannot read the lessons folder: ${(e as Error).message}` }], notes, leftOut };
  }
  for (const entry of folders.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const abs = files.join(dir, entry.name);
    const before = errors.length;
    const raws = readFolder(abs, entry.name, errors);
    for (const r of raws) notes.push(...r.notes);
    const fileErrors = new Map(raws.map((f) => [f, validateFile(f)]));
    const lessonErrors = validateLesson(display(abs), raws);
    for (const e of [...fileErrors.values()].flat()) errors.push(e);
    errors.push(...lessonErrors);
    const usable = raws.filter((f) => fileErrors.get(f)!.length === 0 && !lessonErrors.some((e) => e.file === f.file));
    const en = raws.find((f) => f.lang === "en");
    if (en && typeof en.meta.get("id")?.value === "string") refs.push({ id: en.meta.get("id")!.value as string, en });
    // the folder itself is wrong (no en.md, an unknown language file): the lesson is left out
    const folderBroken = errors.slice(before).some((e) => e.file === display(abs) || !raws.some((f) => f.file === e.file));
    if (folderBroken || !usable.some((f) => f.lang === "en")) {
      leftOut.push(entry.name);
      continue;
    }
    const built = buildLesson(usable);
    if (!lessons.has(built.id)) lessons.set(built.id, built);
    else leftOut.push(entry.name); // the id is taken (validateCatalog says by whom)
  }
  // across lessons: a duplicate id, a missing prerequisite or a cycle leaves its lesson out too
  for (const { ids, ...e } of validateCatalog(refs)) {
    errors.push(e);
    for (const id of ids) {
      const l = lessons.get(id);
      if (!l) continue;
      lessons.delete(id);
      leftOut.push(l.folder);
    }
  }
  errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  notes.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { lessons, errors, notes, leftOut: [...new Set(leftOut)].sort() };
}

function readFolder(abs: string, folder: string, errors: LessonError[]): RawLesson[] {
  if (files.exists(files.join(abs, "index.json"))) return [loadScenario(abs, { folder, display })];
  const out: RawLesson[] = [];
  for (const name of files.list(abs).map((e) => e.name).sort()) {
    if (!name.endsWith(".md")) continue;
    const file = files.join(abs, name);
    const lang = name.slice(0, -3);
    if (!isLang(lang)) {
      errors.push({ file: display(file), line: 1, message: `"${name}" is not a language file nslab knows (en.md, zh-CN.md)` });
      continue;
    }
    out.push(parseLessonFile(files.readText(file), { file: display(file), folder, lang }));
  }
  // English first: it is the reference the translations are compared with
  return out.sort((a, b) => (a.lang === "en" ? -1 : b.lang === "en" ? 1 : 0));
}

/* ------------------------------------------------------------------ the cached library */

/** Logs the problems and notes of a load, and which lessons are left out because of them. */
function report(c: LoadedCatalog): void {
  for (const e of c.errors) console.error(`nslab lessons: ${e.file}:${e.line}: ${e.message}`);
  for (const n of c.notes) console.error(`nslab lessons: ${n.file}:${n.line}: note: ${n.message}`);
  if (c.leftOut.length)
    console.error(`nslab lessons: ${c.leftOut.length} lesson folder${c.leftOut.length === 1 ? "" : "s"} left out of the catalogue (problems above): ${c.leftOut.join(", ")}; ${c.lessons.size} lessons served`);
}

export class LessonLibrary {
  private cache: { signature: string; loaded: LoadedCatalog } | null = null;

  constructor(
    readonly dir: string,
    private readonly opts: { reload?: boolean } = {},
  ) {}

  /** The catalogue as loaded now (loading it if needed): for the start-up summary and the doctor. */
  loaded(): LoadedCatalog {
    if (this.cache && !this.opts.reload) return this.cache.loaded;
    const signature = this.opts.reload ? treeSignature(this.dir) : "";
    if (this.cache && this.cache.signature === signature) return this.cache.loaded;
    const loaded = loadCatalog(this.dir);
    report(loaded);
    this.cache = { signature, loaded };
    return loaded;
  }

  /** The catalogue in `lang` (each lesson falls back to English), sorted by order, then id. */
  list(lang: Lang = DEFAULT_LANG): LessonMeta[] {
    return [...this.loaded().lessons.values()]
      .map((l) => (l.byLang.get(lang) ?? l.byLang.get(DEFAULT_LANG)!).meta)
      .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
  }

  /** A lesson in `lang`, or in English when it has no such translation; null if there is no such lesson. */
  get(id: string, lang: Lang = DEFAULT_LANG): Lesson | null {
    const l = this.loaded().lessons.get(id);
    return l ? (l.byLang.get(lang) ?? l.byLang.get(DEFAULT_LANG)!) : null;
  }

  has(id: string): boolean {
    return this.loaded().lessons.has(id);
  }

  /** A step's scripts (never sent to browsers); null for an unknown lesson or step. */
  scripts(id: string, stepId: string): StepScripts | null {
    return this.loaded().lessons.get(id)?.steps.get(stepId) ?? null;
  }

  /** Every setup script of a lesson, in order; null for an unknown lesson. */
  setupScripts(id: string): string[] | null {
    return this.loaded().lessons.get(id)?.setup ?? null;
  }

  /** Step ids of a lesson in order (for the verifier). */
  stepIds(id: string): string[] | null {
    const l = this.loaded().lessons.get(id);
    return l ? [...l.steps.keys()] : null;
  }

  /** Problems found at the last load (lessons with errors are not served). */
  errors(): LessonError[] {
    return this.loaded().errors;
  }
}

/*
 * The pages (app/) are rendered by Next inside the server's process, but from Next's own bundle of
 * these modules: a module variable set by the server is not the one the pages see. The server puts
 * its library in this process-wide slot at start, so the pages use the same one (one cache, one
 * configuration).
 */
const SHARED = Symbol.for("nslab.lessonLibrary");
type WithLibrary = { [SHARED]?: LessonLibrary };

/** Makes `lib` the one the pages use (server/server.ts, at start). */
export function shareLibrary(lib: LessonLibrary): void {
  (globalThis as WithLibrary)[SHARED] = lib;
}

/** The server's library, for the pages. */
export function sharedLibrary(): LessonLibrary {
  const lib = (globalThis as WithLibrary)[SHARED];
  if (!lib) throw new Error("nslab: no lesson library: the pages are served by nslab's own server (npm start, npm run dev)");
  return lib;
}

/** Paths, sizes and mtimes of everything under dir (lessons are two levels deep, scenarios three). */
function treeSignature(dir: string, depth = 0): string {
  let out = "";
  let entries: fs.Dirent[] = [];
  try {
    entries = files.list(dir);
  } catch {
    return "";
  }
  for (const e of entries) {
    const p = files.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < 3) out += `${p}/\n${treeSignature(p, depth + 1)}`;
    } else {
      try {
        const st = files.stat(p);
        out += `${p}:${st.size}:${st.mtimeMs}\n`;
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return out;
}
