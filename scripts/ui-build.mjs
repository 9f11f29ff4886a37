// Is the production build of the pages (.next/) current? `npm test` and `npm start` rebuild only
// when the sources it was built from changed since: the build's stamp (.next/nslab-sources) holds
// a hash of every file the build reads from the repository (app/, lib/, public/, the build's
// configuration, the lock file, and whatever app/ imports from elsewhere, such as server/lessons/).
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const STAMP = path.join(".next", "nslab-sources");
const TREES = ["app", "lib", "public"];
const FILES = ["next.config.mjs", "proxy.ts", "postcss.config.mjs", "tsconfig.json", "package.json", "package-lock.json"];
const CODE = /\.(tsx?|mjs|cjs|jsx?|css)$/;
// import/export ... from "x", import "x", import("x"), @import "x" (CSS)
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*|@import\s+)["']([^"']+)["']/g;

function walk(root, dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) walk(root, rel, out);
    // browser and unit tests are not part of the build
    else if (e.isFile() && !/\.test\.tsx?$/.test(e.name) && !rel.startsWith(`app${path.sep}e2e${path.sep}`)) out.add(rel);
  }
}

/** The repository file an import names, if it is one (not a package). */
function resolve(root, from, spec) {
  let base;
  if (spec.startsWith("@/")) base = spec.slice(2);
  else if (spec.startsWith(".")) base = path.join(path.dirname(from), spec);
  else return null;
  for (const cand of [base, ...[".ts", ".tsx", ".mjs", ".js", ".css"].map((x) => base + x), path.join(base, "index.ts"), path.join(base, "index.tsx")]) {
    const norm = path.normalize(cand);
    if (norm.startsWith("..")) return null;
    try {
      if (fs.statSync(path.join(root, norm)).isFile()) return norm;
    } catch {}
  }
  return null;
}

/** Every file the build reads from the repository, relative to root, sorted. */
export function uiSources(root) {
  const files = new Set();
  for (const t of TREES) walk(root, t, files);
  for (const f of FILES) if (fs.existsSync(path.join(root, f))) files.add(f);
  // follow imports out of those trees (app/lib/catalog.ts imports server/lessons/, ...)
  const todo = [...files].filter((f) => CODE.test(f));
  while (todo.length) {
    const f = todo.pop();
    const text = fs.readFileSync(path.join(root, f), "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const dep = resolve(root, f, m[1]);
      if (dep && !files.has(dep)) {
        files.add(dep);
        if (CODE.test(dep)) todo.push(dep);
      }
    }
  }
  return [...files].sort();
}

export function sourcesHash(root) {
  const h = crypto.createHash("sha256");
  for (const f of uiSources(root)) {
    h.update(`${f}\0`);
    h.update(fs.readFileSync(path.join(root, f)));
    h.update("\0");
  }
  return h.digest("hex");
}

/** Why the build must be made again, or null when .next/ was built from exactly these sources. */
export function staleReason(root) {
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) return "there is no production build yet";
  let stamp = "";
  try {
    stamp = fs.readFileSync(path.join(root, STAMP), "utf8").trim();
  } catch {
    return "the build has no stamp of its sources";
  }
  return stamp === sourcesHash(root) ? null : "its sources changed since it was built";
}

/** Builds the pages if they are stale; exits the process if the build fails. */
export function ensureBuild(root) {
  const why = staleReason(root);
  if (!why) return false;
  console.log(`\nnslab: building the pages (${why})…`);
  const hash = sourcesHash(root); // what is built: edits made during the build show next time
  const b = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) {
    console.error(`nslab: "npm run build" failed (exit ${b.status ?? b.signal})`);
    process.exit(b.status || 1);
  }
  fs.writeFileSync(path.join(root, STAMP), `${hash}\n`);
  return true;
}
