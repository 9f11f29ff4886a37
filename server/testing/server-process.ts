import "server-only";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { testConfig } from "./instance.ts";

/**
 * A real server (server/testing/api-server.ts) in a process of its own, for tests that kill it
 * outright (kill -9) or run it somewhere special (another mount namespace, another directory).
 * Resolves once it listens, with its URL and pid.
 */
export interface ServerProcess {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** resolves when the process has exited */
  exited: Promise<void>;
  /** SIGTERM (a clean shutdown), then waits for the exit */
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();

/** The server's own command line, for a `wrap` to run it inside something else. */
export const SERVER_ARGV = [process.execPath, "--import", "tsx", "--import", "./scripts/hooks.mjs", "server/testing/api-server.ts"];

export async function startServerProcess(
  env: Record<string, string>,
  o: { wrap?: (argv: string[]) => string[]; cwd?: string } = {},
): Promise<ServerProcess> {
  const argv = o.wrap ? o.wrap(SERVER_ARGV) : SERVER_ARGV;
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd ?? testConfig().root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  started.add(proc);
  const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once("exit", () => r())));
  void exited.then(() => started.delete(proc));
  // the first line with a url and no log level (the others are the server's JSON log)
  const { url, pid } = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      let j: { url?: string; pid?: number; level?: unknown } | null = null;
      try {
        j = JSON.parse(line);
      } catch {}
      if (j?.url && j.level === undefined) resolve({ url: j.url, pid: j.pid ?? proc.pid! });
    });
    proc.once("exit", (code, sig) => reject(new Error(`the server exited (${code ?? sig}) before it listened`)));
  });
  return {
    url,
    pid,
    proc,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** SIGKILL for every server process a test started and did not stop (an after() hook). */
export function killServerProcesses(): void {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
}
