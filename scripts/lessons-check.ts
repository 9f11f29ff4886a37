// `npm run lessons:check`: parses and validates every lesson under lessons/ (docs/lessons.md) and
// prints one `file:line: message` per problem, so editors and CI link straight to it. Exit 1 on any.
import { loadCatalog, lessonsDir } from "../server/lessons/catalog.ts";

const dir = process.argv[2] ?? lessonsDir();
const { lessons, errors } = loadCatalog(dir);
for (const e of errors) console.error(`${e.file}:${e.line}: ${e.message}`);
if (errors.length) {
  console.error(`lessons:check: ${errors.length} problem${errors.length === 1 ? "" : "s"} in ${dir}`);
  process.exit(1);
}
const steps = [...lessons.values()].reduce((n, l) => n + l.steps.size, 0);
console.log(`lessons:check: ${lessons.size} lessons, ${steps} steps, no problems`);
