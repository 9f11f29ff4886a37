import "server-only";
import { NS_TYPES } from "../../lib/protocol.ts";
import { isLessonId, isStepId } from "../../lib/ids.ts";
import { LANGUAGES } from "../../lib/languages.ts";
import { parseInfo } from "./codeinfo.ts";
import type { LessonError, RawLesson, RawStep, Script } from "./model.ts";

/** The rules of docs/lessons.md. Every function returns all the problems it finds, not the first. */

export const MAX_SCRIPT_BYTES = 16 * 1024;
const META_KEYS = ["id", "title", "summary", "order", "minutes", "namespaces", "prerequisites"] as const;

/** One language file on its own: frontmatter, steps, blocks, scripts. */
export function validateFile(raw: RawLesson): LessonError[] {
  const errors: LessonError[] = [...raw.errors];
  const err = (line: number, message: string, file = raw.file) => errors.push({ file, line, message });
  validateMeta(raw, err);

  if (raw.steps.length === 0 && !(raw.format === "killercoda" && raw.metaUnreadable)) err(raw.metaLine, "the lesson has no steps (each step starts with a ## heading and <!-- step: id -->)");
  const seen = new Map<string, number>();
  for (const s of raw.steps) {
    const e = (line: number, message: string) => err(line, message, s.file);
    if (s.id === null) e(s.line, `the step heading "${s.title}" must be followed by a line <!-- step: id -->`);
    else if (!isStepId(s.id)) e(s.line + 1, `step id "${s.id}" must be lowercase letters, digits and single dashes`);
    else if (seen.has(s.id)) e(s.line + 1, `step id "${s.id}" is already used by the step on line ${seen.get(s.id)}`);
    else seen.set(s.id, s.line);
    if (!s.title) e(s.line, "the step has no title");
    for (const [kind, list] of [["check", s.checks], ["solution", s.solutions]] as const) {
      if (raw.format === "nslab" && list.length === 0) e(s.line, `step "${s.id ?? s.title}" has no ${kind} block`);
      for (const extra of list.slice(1)) e(extra.line, `step "${s.id ?? s.title}" already has a ${kind} block (line ${list[0]!.line}); a step has exactly one`);
    }
    for (const h of s.hints) if (h.empty) e(h.line, "the hint is empty");
    for (const a of s.answers) if (a.empty) e(a.line, "the answer block is empty (it is the prompt shown beside the answer field)");
    for (const extra of s.answers.slice(1)) e(extra.line, `step "${s.id ?? s.title}" already has an answer block (line ${s.answers[0]!.line}); a step asks for at most one answer`);
    for (const p of [...s.predictions, ...s.explores]) for (const x of p.problems) e(x.line, x.message);
    validateFlow(s.flow, e);
  }
  for (const sc of allScripts(raw)) errors.push(...validateScript(sc));
  for (const b of raw.blocks) {
    const info = parseInfo(b.info, { anyLanguage: raw.format === "killercoda" });
    if ("error" in info) err(b.line, info.error, b.file);
  }
  for (const m of raw.misplaced) {
    const fix = m.kind === "setup" ? "put it in the introduction or at the top level of a step" : "put it at the top level of a step";
    const unclosed = m.where === "a hint" ? " (or is the hint before it not closed? a closing ``` stands alone on its line)" : "";
    err(m.line, `a ${m.kind} block in ${m.where} is never used; ${fix}${unclosed}`, m.file);
  }
  return errors;
}

/**
 * Each prediction is followed, in its step, by the run blocks it is about and then its `observe`
 * script; each explore block by its `highlight` script.
 */
function validateFlow(flow: RawStep["flow"], e: (line: number, message: string) => void): void {
  let predict: { line: number; runs: number } | null = null;
  let explore: number | null = null;
  for (const f of flow) {
    if (f.kind === "predict") {
      if (predict) e(predict.line, "this prediction has no observe block before the next prediction");
      predict = { line: f.line, runs: 0 };
    } else if (f.kind === "run") {
      if (predict) predict.runs++;
    } else if (f.kind === "observe") {
      if (!predict) e(f.line, "an observe block must follow a predict block (and the run blocks it observes)");
      else if (predict.runs === 0) e(f.line, "no run block between the prediction and this observe block: which command does it observe?");
      predict = null;
    } else if (f.kind === "explore") {
      if (explore !== null) e(explore, "this explore block has no highlight block before the next explore block");
      explore = f.line;
    } else if (f.kind === "highlight") {
      if (explore === null) e(f.line, "a highlight block must follow an explore block");
      explore = null;
    }
  }
  if (predict) e(predict.line, "this prediction has no observe block (the script that reports what the kernel did)");
  if (explore !== null) e(explore, "this explore block has no highlight block (the script that finds what to highlight)");
}

function validateMeta(raw: RawLesson, err: (line: number, message: string) => void): void {
  const name = (k: string) => raw.metaNames[k] ?? k;
  for (const [k, f] of raw.meta)
    if (!(META_KEYS as readonly string[]).includes(k)) err(f.line, `unknown frontmatter key "${k}" (known: ${META_KEYS.join(", ")})`);
  if (!raw.metaUnreadable) for (const k of META_KEYS) if (!raw.meta.has(k)) err(raw.metaLine, `${name(k)} is missing`);
  const field = (k: string) => raw.meta.get(k);

  const id = field("id");
  if (id) {
    if (!isLessonId(id.value))
      err(id.line, `${name("id")} must be lowercase letters, digits and single dashes, e.g. pid-namespaces`);
    else if (raw.format === "nslab") {
      const m = /^(\d{2})-(.+)$/.exec(raw.folder);
      if (!m) err(id.line, `the folder "${raw.folder}" must be named NN-${id.value} (two digits, a dash, the id)`);
      else if (m[2] !== id.value) err(id.line, `id "${id.value}" must equal the folder name without its number ("${m[2]}")`);
    }
  }
  for (const [k, max] of [["title", 120], ["summary", 400]] as const) {
    const f = field(k);
    // a Killercoda scenario may leave out its description (Killercoda does not require one)
    const mayBeEmpty = k === "summary" && raw.format === "killercoda";
    if (f && (typeof f.value !== "string" || (!mayBeEmpty && !f.value.trim()))) err(f.line, `${name(k)} must be a ${mayBeEmpty ? "" : "non-empty "}string`);
    else if (f && (f.value as string).length > max) err(f.line, `${name(k)} is longer than ${max} characters`);
  }
  for (const [k, min, max] of [["order", 0, 9999], ["minutes", 1, 600]] as const) {
    const f = field(k);
    if (f && (typeof f.value !== "number" || !Number.isInteger(f.value) || f.value < min || f.value > max))
      err(f.line, `${name(k)} must be a whole number from ${min} to ${max}`);
  }
  const ns = field("namespaces");
  if (ns) {
    if (!isStringList(ns.value)) err(ns.line, `${name("namespaces")} must be a list like [pid, mnt]`);
    else {
      for (const n of ns.value) if (!(NS_TYPES as readonly string[]).includes(n)) err(ns.line, `"${n}" is not a namespace type (${NS_TYPES.join(" ")})`);
      if (new Set(ns.value).size !== ns.value.length) err(ns.line, `${name("namespaces")} lists a namespace twice`);
    }
  }
  const pre = field("prerequisites");
  if (pre) {
    if (!isStringList(pre.value)) err(pre.line, `${name("prerequisites")} must be a list of lesson ids, e.g. [pid-namespaces] or []`);
    else {
      for (const p of pre.value) if (!isLessonId(p)) err(pre.line, `prerequisite "${p}" is not a lesson id`);
      if (new Set(pre.value).size !== pre.value.length) err(pre.line, `${name("prerequisites")} lists a lesson twice`);
      if (typeof id?.value === "string" && pre.value.includes(id.value)) err(pre.line, "a lesson cannot be its own prerequisite");
    }
  }
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

export function allScripts(raw: RawLesson): Script[] {
  return [...raw.introSetups, ...raw.steps.flatMap((s) => [...s.checks, ...s.solutions, ...s.setups, ...s.observes, ...s.highlights])];
}

/** Scripts are run with `bash -c`: they must say something, fit an argument, and hold no NUL. */
export function validateScript(s: Script): LessonError[] {
  const out: LessonError[] = [];
  const code = s.text.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#"));
  if (code.length === 0) out.push({ file: s.file, line: s.line, message: `the ${s.kind} script is empty (only blank lines or comments)` });
  const bytes = Buffer.byteLength(s.text);
  if (bytes >= MAX_SCRIPT_BYTES) out.push({ file: s.file, line: s.line, message: `the ${s.kind} script is ${bytes} bytes; scripts must be under ${MAX_SCRIPT_BYTES}` });
  if (s.text.includes("\0")) out.push({ file: s.file, line: s.line, message: `the ${s.kind} script contains a NUL byte` });
  return out;
}

/**
 * The language files of one lesson together. `files` holds every language file of the folder;
 * scripts run from en.md, so translations must have the same steps, facts and scripts.
 */
export function validateLesson(folderPath: string, files: RawLesson[]): LessonError[] {
  const errors: LessonError[] = [];
  const en = files.find((f) => f.lang === "en");
  if (!en) return [{ file: folderPath, line: 1, message: "the lesson has no en.md (English is required)" }];
  if (en.format === "nslab")
    for (const lang of LANGUAGES)
      if (!files.some((f) => f.lang === lang)) errors.push({ file: folderPath, line: 1, message: `the lesson has no ${lang}.md (every nslab lesson is written in ${LANGUAGES.join(" and ")})` });
  for (const f of files) {
    if (f === en) continue;
    for (const k of ["id", "order", "minutes", "namespaces", "prerequisites"]) {
      const a = en.meta.get(k);
      const b = f.meta.get(k);
      if (a && b && JSON.stringify(a.value) !== JSON.stringify(b.value))
        errors.push({ file: f.file, line: b.line, message: `${k} differs from ${en.file}:${a.line}; only title, summary and text are translated` });
    }
    const n = Math.max(en.steps.length, f.steps.length);
    for (let i = 0; i < n; i++) {
      const a = en.steps[i];
      const b = f.steps[i];
      if (a?.id !== b?.id) {
        const where = b ? b.line : f.steps.at(-1)?.line ?? f.metaLine;
        const expected = a ? `step ${i + 1} to be "${a.id}" as in ${en.file}:${a.line}` : `no step ${i + 1} (${en.file} has ${en.steps.length})`;
        errors.push({ file: f.file, line: where, message: `the steps differ from ${en.file}: expected ${expected}, found ${b ? `"${b.id}"` : "no such step"}` });
        break; // one mismatch shifts every later step; the first is the useful message
      }
      sameScripts(en, a!.checks, b!.checks, f, errors);
      sameScripts(en, a!.solutions, b!.solutions, f, errors);
      sameScripts(en, a!.setups, b!.setups, f, errors, b!.line);
      sameScripts(en, a!.observes, b!.observes, f, errors);
      sameScripts(en, a!.highlights, b!.highlights, f, errors);
      sameWidgets(en, a!, b!, f, errors);
    }
    sameScripts(en, en.introSetups, f.introSetups, f, errors);
  }
  return errors;
}

function sameScripts(en: RawLesson, a: Script[], b: Script[], f: RawLesson, errors: LessonError[], where = f.metaLine): void {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i]!.text.trim() !== b[i]!.text.trim())
      errors.push({ file: f.file, line: b[i]!.line, message: `this ${b[i]!.kind} differs from ${en.file}:${a[i]!.line}; scripts run from en.md, so translations copy them unchanged` });
  // a missing or second check/solution is reported by validateFile; setup blocks may be many
  if (a[0]?.kind !== "setup" && b[0]?.kind !== "setup") return;
  for (const extra of b.slice(a.length)) errors.push({ file: f.file, line: extra.line, message: `${en.file} has no setup block matching this one` });
  for (const missing of a.slice(b.length)) errors.push({ file: f.file, line: where, message: `the setup block of ${en.file}:${missing.line} is missing here` });
}

/** A translation asks the same predictions (same choices, same right one) and opens the same tabs. */
function sameWidgets(en: RawLesson, a: RawStep, b: RawStep, f: RawLesson, errors: LessonError[]): void {
  const err = (line: number, message: string) => errors.push({ file: f.file, line, message });
  if (a.answers.length !== b.answers.length) err(b.answers[0]?.line ?? b.line, `${en.file}:${a.line} ${a.answers.length ? "asks" : "does not ask"} for an answer in this step; a translation must do the same`);
  const shape = (p: RawStep["predictions"][number]) => `${p.kind} ${p.choices} ${p.correct ?? "-"} ${p.answer ?? "-"}`;
  if (a.predictions.length !== b.predictions.length) err(b.predictions[0]?.line ?? b.line, `${en.file} has ${a.predictions.length} prediction(s) in step "${a.id}", this file ${b.predictions.length}`);
  else a.predictions.forEach((p, i) => {
    if (shape(p) !== shape(b.predictions[i]!)) err(b.predictions[i]!.line, `this prediction differs from ${en.file}:${p.line}: translations keep the number of choices, the choice marked [x] and answer: unchanged`);
  });
  if (a.explores.length !== b.explores.length) err(b.explores[0]?.line ?? b.line, `${en.file} has ${a.explores.length} explore block(s) in step "${a.id}", this file ${b.explores.length}`);
  else a.explores.forEach((x, i) => {
    if (x.tab !== b.explores[i]!.tab) err(b.explores[i]!.line, `this explore block opens tab "${b.explores[i]!.tab}", ${en.file}:${x.line} opens "${x.tab}"`);
  });
}

export interface CatalogLessonRef {
  id: string;
  en: RawLesson;
}

/** A problem across lessons, with the ids of the lessons it makes unusable. */
export interface CatalogError extends LessonError {
  ids: string[];
}

/** Across lessons: unique ids, prerequisites that exist, no prerequisite cycles. */
export function validateCatalog(lessons: CatalogLessonRef[]): CatalogError[] {
  const errors: CatalogError[] = [];
  const byId = new Map<string, CatalogLessonRef>();
  for (const l of lessons) {
    const prev = byId.get(l.id);
    // the first folder keeps the id; the duplicate is left out by the catalogue (ids: none)
    if (prev) errors.push({ file: l.en.file, line: l.en.meta.get("id")?.line ?? 1, message: `lesson id "${l.id}" is already used by ${prev.en.file}`, ids: [] });
    else byId.set(l.id, l);
  }
  const prereqs = (l: CatalogLessonRef): string[] => {
    const v = l.en.meta.get("prerequisites")?.value;
    return isStringList(v) ? v : [];
  };
  for (const l of byId.values()) {
    const line = l.en.meta.get("prerequisites")?.line ?? 1;
    for (const p of prereqs(l))
      if (!byId.has(p)) errors.push({ file: l.en.file, line, message: `prerequisite "${p}" is not a lesson (no lessons/NN-${p}/ or lessons/${p}/)`, ids: [l.id] });
  }
  // a cycle would make every lesson in it unreachable for a learner who follows prerequisites
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      const l = byId.get(id)!;
      const cycle = [...path.slice(path.indexOf(id)), id];
      errors.push({ file: l.en.file, line: l.en.meta.get("prerequisites")?.line ?? 1, message: `prerequisites form a cycle: ${cycle.join(" -> ")}`, ids: cycle });
      return;
    }
    state.set(id, "visiting");
    for (const p of prereqs(byId.get(id)!)) if (byId.has(p) && p !== id) visit(p, [...path, id]); // self: reported by validateFile
    state.set(id, "done");
  };
  for (const id of byId.keys()) visit(id, []);
  return errors;
}
