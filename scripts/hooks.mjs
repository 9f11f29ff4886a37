// Node module hooks for running the server and tests outside Next's bundler.
// `import "server-only"` marks modules that must never reach the browser; Next's bundler enforces
// it for app/ code. Plain Node resolves the package's default export, which throws by design, so
// here it resolves to an empty module instead (for ESM imports and for CommonJS requires).
import Module, { register } from "node:module";
import { fileURLToPath } from "node:url";

register("./hooks-resolve.mjs", import.meta.url);

const empty = fileURLToPath(new URL("./empty.cjs", import.meta.url));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "server-only") return empty;
  return resolveFilename.call(this, request, ...rest);
};
