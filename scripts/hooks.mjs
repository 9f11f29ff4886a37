// Node module hooks for running the server and tests outside Next's bundler.
// `import "server-only"` marks modules that must never reach the browser; Next's bundler enforces
// it for app/ code. Plain Node resolves the package's default export, which throws by design, so
// here it resolves to an empty module instead.
import { register } from "node:module";
register("./hooks-resolve.mjs", import.meta.url);
