import "server-only";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * A throwaway Redis for a test (Debian's `redis-server`): no TCP port (so several worktrees' tests
 * never collide), a unix socket in a temp dir only we can read, nothing saved to disk. `url` is what
 * NSLAB_REDIS_URL takes (unix:/path). `stop()` kills it and removes the dir; a process that exits
 * without calling it still kills the server (exit hook).
 */
export interface TestRedis {
  url: string;
  socket: string;
  /** runs one command with redis-cli (for tests that look underneath a store) */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

export const redisMissing = (): string | false =>
  spawnSync("sh", ["-c", "command -v redis-server && command -v redis-cli"]).status === 0 ? false : "Redis is not installed (apt-get install redis-server)";

function accepts(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    c.once("connect", () => (c.destroy(), resolve(true)));
    c.once("error", () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-redis-"));
  const socket = path.join(dir, "redis.sock");
  const child = spawn(
    "redis-server",
    ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const kill = () => {
    child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", kill);
  const deadline = Date.now() + 30_000;
  while (!(await accepts(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      process.removeListener("exit", kill);
      kill();
      throw new Error(`redis-server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `unix:${socket}`,
    socket,
    cli: (...args) => spawnSync("redis-cli", ["-s", socket, ...args], { encoding: "utf8" }).stdout,
    async stop() {
      process.removeListener("exit", kill);
      const gone = new Promise((r) => child.once("exit", r));
      kill();
      if (child.exitCode === null) await gone;
    },
  };
}
