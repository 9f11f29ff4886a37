import "server-only";
/**
 * A real server (API and sockets, no pages) in a process of its own, for tests that must kill it
 * outright (kill -9) or measure it from outside. Configured by NSLAB_* like `npm start`; listens on
 * a free port of 127.0.0.1 and prints {"url", "pid"} as one JSON line once it accepts connections.
 * SIGTERM/SIGINT shut it down cleanly.
 */
import { startServer } from "../server.ts";
import { testConfig } from "./instance.ts";

// the caller's NSLAB_* settings (its own isolated instance among them) and pool, on loopback
const config = testConfig({ env: { NSLAB_POOL: process.env.NSLAB_POOL ?? "2", ...(process.env.HOST ? { HOST: process.env.HOST } : {}) } });
const s = await startServer(config, { pages: false });
console.log(JSON.stringify({ url: s.url, pid: process.pid }));
const stop = async () => {
  await s.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
