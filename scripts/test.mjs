// `npm test`: every test nslab has, in one run (as root: CI runs exactly this).
//  1. the C core's own tests, under AddressSanitizer (native/test, `make -C native test`)
//  2. lesson validation (every lesson parses and passes the schema)
//  3. node's test runner over every *.test.ts: unit tests, integration tests against the real
//     native core (real namespaces: needs root), lessons end to end, and browser tests in
//     headless Chromium (needs /usr/bin/chromium and a production build of the pages, made here
//     when there is none or its sources changed since it was built: scripts/ui-build.mjs)
//
// `npm run test:unit` (`--unit`): 2, then the unit tests only, which need no root, no C build,
// no browser and no lab: every *.test.ts but *.integration.test.ts, *.e2e.test.ts and
// *.browser.test.ts. A test that needs root belongs in one of those.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuild } from "./ui-build.mjs";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
const unit = process.argv.includes("--unit");
const run = (cmd, args, env = {}) => {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`nslab test: "${cmd} ${args.join(" ")}" failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
};

if (!unit && process.getuid?.() !== 0) {
  console.error("nslab test: the integration tests create real namespaces, cgroups and uid mappings; run them as root (or `npm run test:unit` for the tests that need no root).");
  process.exit(1);
}

if (!unit) run("make", ["-s", "-C", "native", "warnings", "all", "test"]);
if (fs.existsSync("scripts/lessons-check.ts")) run(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "scripts/lessons-check.ts"]);

const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.test\.tsx?$/.test(e.name) && !(unit && /\.(integration|e2e|browser)\.test\.tsx?$/.test(e.name))) files.push(p);
  }
};
for (const d of ["lib", "server", "app", "scripts", "bench", "deploy"]) if (fs.existsSync(d)) walk(d);

const browser = files.some((f) => f.includes(".browser.test."));
if (browser) ensureBuild(root);

run(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "--test", "--test-concurrency=1", "--test-timeout=600000", ...files.sort()]);
