import "server-only";
/**
 * A real server (API and sockets, no pages) in a process of its own, for tests that must kill it
 * outright (kill -9) or measure it from outside. Configured by NSLAB_* like `npm start`; listens on
 * a free port of 127.0.0.1 and prints {"url", "pid"} as one JSON line once it accepts connections.
 * SIGTERM/SIGINT shut it down cleanly.
 */
import { loadConfig } from "../config.ts";
import { startServer } from "../server.ts";

const config = loadConfig({ ...process.env, PORT: "1", HOST: process.env.HOST || "127.0.0.1" });
config.port = 0;
const s = await startServer(config, { pages: false });
console.log(JSON.stringify({ url: s.url, pid: process.pid }));
const stop = async () => {
  await s.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.once("SIGINT", () => void stop());
