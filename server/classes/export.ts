import "server-only";
import type { StepPass } from "../../lib/classes.ts";

/** Progress export: one row per learner and step passed, as CSV (spreadsheets) or JSON. */

export interface ExportLearner {
  id: string;
  name: string;
  joinedAt: number;
  passed: StepPass[];
  checks: number;
  failedChecks: number;
}
export interface ExportInput {
  class: { id: string; title: string; lessons: string[]; startsAt: number; endsAt: number };
  learners: ExportLearner[];
  /** each lesson's step ids, in order, for the step numbers */
  steps: (lesson: string) => string[];
}

/**
 * One CSV field. A field a spreadsheet would run as a formula (it starts with = + - @, a tab or a
 * carriage return: OWASP's "CSV injection") gets a leading apostrophe, which makes it text; any
 * field with a quote, comma or line break is quoted, quotes doubled (RFC 4180).
 */
export function csvField(v: string | number | null): string {
  let s = v === null ? "" : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function progressCsv(x: ExportInput): string {
  const rows: (string | number | null)[][] = [["learner_id", "name", "joined_at", "lesson", "step_number", "step", "passed_at", "via", "checks_run", "checks_failed"]];
  for (const l of x.learners) {
    if (!l.passed.length) rows.push([l.id, l.name, iso(l.joinedAt), null, null, null, null, null, l.checks, l.failedChecks]);
    for (const p of l.passed) {
      const n = x.steps(p.lesson).indexOf(p.step);
      rows.push([l.id, l.name, iso(l.joinedAt), p.lesson, n >= 0 ? n + 1 : null, p.step, p.at, p.via, l.checks, l.failedChecks]);
    }
  }
  // a byte-order mark, so spreadsheet programs read names in any script as UTF-8
  return "\ufeff" + rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export function progressJson(x: ExportInput): unknown {
  return {
    class: { id: x.class.id, title: x.class.title, lessons: x.class.lessons, startsAt: iso(x.class.startsAt), endsAt: iso(x.class.endsAt) },
    exportedAt: new Date().toISOString(),
    learners: x.learners.map((l) => ({
      id: l.id,
      name: l.name,
      joinedAt: iso(l.joinedAt),
      checks: l.checks,
      failedChecks: l.failedChecks,
      passed: l.passed,
    })),
  };
}
