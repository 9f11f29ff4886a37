/**
 * bench/terminal-server: the nslab server for bench/terminal, in a process of its own so the
 * benchmark client does not share its event loop. Configured by the NSLAB_* variables it is
 * started with; prints one JSON line {url, pid} when listening and runs until SIGTERM/SIGINT or
 * until its stdin closes (the benchmark went away), then shuts its labs down.
 *   node --import tsx --import ./scripts/hooks.mjs bench/terminal-server.ts
 */
import { testServer } from "../server/testing/harness.ts";

const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("NSLAB_") && e[1] !== undefined));
const s = await testServer(env);
process.stdout.write(JSON.stringify({ url: s.url, pid: process.pid }) + "\n");

let closing = false;
async function stop(): Promise<void> {
  if (closing) return;
  closing = true;
  setTimeout(() => process.exit(1), 10_000).unref();
  await s.close().catch((e) => console.error("bench/terminal-server: close:", e));
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();
