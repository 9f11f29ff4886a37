// `npm start`: serve a production build, building it first if there is none.
// `node scripts/start.mjs --build-only`: only that first step (deploy/nslab.service runs it before
// starting the server itself as the service's main process).
import { spawnSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
  console.log("nslab: no production build yet; building it (once)…");
  const b = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
if (process.argv.includes("--build-only")) process.exit(0);
const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "server/main.ts"], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "production" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
