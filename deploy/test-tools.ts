/** What deploy/'s tests share: whether a tool is installed, and a throwaway home for Caddy. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/** false when `cmd` is installed, else why the test is skipped (for node:test's `skip`). */
export const missing = (cmd: string, pkg: string): string | false => (has(cmd) ? false : `${cmd} is not installed (apt-get install ${pkg})`);

/** A temporary HOME and XDG dirs for Caddy (it writes its data there); `remove()` when done. */
export function caddyHome(): { env(extra: Record<string, string>): NodeJS.ProcessEnv; dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-caddy-"));
  return {
    dir,
    env: (extra) => ({
      NODE_ENV: "test",
      PATH: process.env.PATH,
      HOME: dir,
      XDG_DATA_HOME: path.join(dir, "data"),
      XDG_CONFIG_HOME: path.join(dir, "config"),
      ...extra,
    }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
