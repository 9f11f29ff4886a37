// `npm run lessons:check`: parses and validates every lesson under lessons/ (docs/lessons.md) and
// prints one `file:line: message` per problem, so editors and CI link straight to it. Exit 1 on any
// problem. Notes (things nslab ignores, e.g. a Killercoda backend) are printed and do not fail.
//
//   lessons-check.ts [dir] [--report]
//
// --report (used by `npm run build`): print the same, but exit 0; the server leaves the broken
// lessons out and serves the others, so one broken lesson must not stop a build.
import { loadConfig } from "../server/config.ts";
import { loadCatalog } from "../server/lessons/library.ts";

const args = process.argv.slice(2);
const reportOnly = args.includes("--report");
const dir = args.find((a) => !a.startsWith("--")) ?? loadConfig().lessonsDir;
const { lessons, errors, notes, leftOut } = loadCatalog(dir);
for (const e of errors) console.error(`${e.file}:${e.line}: ${e.message}`);
for (const n of notes) console.error(`${n.file}:${n.line}: note: ${n.message}`);
const steps = [...lessons.values()].reduce((n, l) => n + l.steps.size, 0);
if (errors.length) {
  console.error(`lessons:check: ${errors.length} problem${errors.length === 1 ? "" : "s"} in ${dir}`);
  if (leftOut.length) console.error(`lessons:check: left out of the catalogue: ${leftOut.join(", ")}; ${lessons.size} lessons (${steps} steps) are served`);
  process.exit(reportOnly ? 0 : 1);
}
console.log(`lessons:check: ${lessons.size} lessons, ${steps} steps, no problems${notes.length ? ` (${notes.length} note${notes.length === 1 ? "" : "s"})` : ""}`);
