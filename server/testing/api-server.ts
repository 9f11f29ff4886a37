import "server-only";
/**
 * A real server (API and sockets, no pages) in a process of its own, for tests that must kill it
 * outright (kill -9) or measure it from outside. Configured by NSLAB_* like `npm start`; listens on
 * a free port of 127.0.0.1 and prints {"url", "pid"} as one JSON line (among its log lines) once it accepts connections.
 * SIGTERM/SIGINT shut it down cleanly.
 */
import { routeConsole } from "../log/log.ts";
import { startServer } from "../server.ts";
import { startWeb } from "../web.ts";
import { testConfig } from "./instance.ts";

routeConsole(); // as server/main.ts does: every line the process prints is a structured log line

// the caller's NSLAB_* settings (its own isolated instance among them) and pool, on loopback
const config = testConfig({ env: { NSLAB_POOL: process.env.NSLAB_POOL ?? "2", ...(process.env.HOST ? { HOST: process.env.HOST } : {}) } });
// NSLAB_ROLE=web: a web replica (tests that kill one outright); otherwise the whole server
const s = config.role === "web" ? await startWeb(config, { pages: false }) : await startServer(config, { pages: false });
// the line the test waits for, beside the log's lines (not through the logger)
process.stdout.write(JSON.stringify({ url: s.url, pid: process.pid }) + "\n");
const stop = async () => {
  await s.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
