// `npm start`: serve a production build, building it first if there is none or its sources changed
// since it was built (scripts/ui-build.mjs).
// `node scripts/start.mjs --build-only`: only that first step (deploy/nslab.service runs it before
// starting the server itself as the service's main process).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuild } from "./ui-build.mjs";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);
ensureBuild(root);
if (process.argv.includes("--build-only")) process.exit(0);
const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "server/main.ts"], {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "production" },
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
