import "server-only";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { LessonError, MetaField } from "./model.ts";

export interface Frontmatter {
  fields: Map<string, MetaField>;
  line: number; // the opening ---
  bodyStart: number; // 0-based index of the first line after the closing ---
  errors: LessonError[];
}

/**
 * Splits `---\nYAML\n---\n` off the top of a lesson file and reads it, keeping each top-level
 * key's line. `lines` is the file split on "\n".
 */
export function readFrontmatter(lines: string[], file: string): Frontmatter {
  const fm: Frontmatter = { fields: new Map(), line: 1, bodyStart: 0, errors: [] };
  if (lines[0]?.trimEnd() !== "---") {
    fm.errors.push({ file, line: 1, message: "the file must start with a frontmatter block (a line ---, YAML, a line ---)" });
    return fm;
  }
  const close = lines.findIndex((l, i) => i > 0 && l.trimEnd() === "---");
  if (close < 0) {
    fm.errors.push({ file, line: 1, message: "the frontmatter block is not closed (no second --- line)" });
    return fm;
  }
  fm.bodyStart = close + 1;
  const src = lines.slice(1, close).join("\n");
  const counter = new LineCounter();
  const doc = parseDocument(src, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number) => counter.linePos(offset).line + 1; // +1: the YAML starts on line 2
  for (const e of doc.errors) fm.errors.push({ file, line: lineAt(e.pos[0]), message: `frontmatter: ${firstLine(e.message)}` });
  if (doc.errors.length) return fm;
  if (doc.contents === null) {
    fm.errors.push({ file, line: 1, message: "the frontmatter is empty" });
    return fm;
  }
  if (!isMap(doc.contents)) {
    fm.errors.push({ file, line: 2, message: "the frontmatter must be a YAML mapping (key: value lines)" });
    return fm;
  }
  let values: Record<string, unknown>;
  try {
    values = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown>; // resolves anchors and aliases
  } catch (e) {
    fm.errors.push({ file, line: 2, message: `frontmatter: ${firstLine((e as Error).message)}` });
    return fm;
  }
  for (const pair of doc.contents.items) {
    const key = pair.key;
    const line = isScalar(key) && key.range ? lineAt(key.range[0]) : 2;
    if (!isScalar(key) || typeof key.value !== "string") {
      fm.errors.push({ file, line, message: "frontmatter keys must be plain words" });
      continue;
    }
    fm.fields.set(key.value, { value: Object.hasOwn(values, key.value) ? values[key.value] : null, line });
  }
  return fm;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}
