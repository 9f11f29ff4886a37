import "server-only";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A throwaway PostgreSQL cluster for a test (Debian's `postgresql` package): initdb into a temp
 * dir, started with pg_ctl, listening on a unix socket in that dir only (no TCP port, so several
 * worktrees' tests never collide), trust authentication for the local socket. As root, the
 * cluster runs as the `postgres` user (the server refuses to run as root). `stop()` removes it; a
 * process that exits without calling it still stops the server (exit hook).
 */
export interface TestPostgres {
  /** a connection URL for `database` (default: postgres) over the unix socket */
  url(database?: string): string;
  /** a fresh, empty database; returns its URL */
  createDatabase(): string;
  /** runs SQL with psql as the superuser (for tests that look underneath the store) */
  psql(sql: string, database?: string): string;
  stop(): void;
}

/** the newest installed server's bin dir, or null */
export function postgresBin(): string | null {
  const base = "/usr/lib/postgresql";
  if (!fs.existsSync(base)) return null;
  const versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0]!, "bin") : null;
}

/** false when PostgreSQL is installed, else why a test is skipped (for node:test's `skip`) */
export const postgresMissing = (): string | false => (postgresBin() ? false : "PostgreSQL is not installed (apt-get install postgresql)");

function userIds(name: string): { uid: number; gid: number } | null {
  for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

let counter = 0;

export function startPostgres(): TestPostgres {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql)");
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? userIds("postgres") : null;
  if (asRoot && !owner) throw new Error("running as root, and there is no postgres user to run the cluster as");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-pg-"));
  const data = path.join(dir, "data");
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  const run = (cmd: string, args: string[], input?: string) => {
    const r = spawnSync(path.join(bin, cmd), args, {
      encoding: "utf8",
      input,
      cwd: dir,
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LANG: "C.UTF-8", PGHOST: dir },
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  let running = false;
  const stop = () => {
    if (running) {
      running = false;
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
    // a test cluster: no durability needed, no TCP, the socket in our own dir
    const opts = `-k ${dir} -c listen_addresses= -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200`;
    run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-t", "120", "-o", opts, "start"]);
    running = true;
  } catch (e) {
    stop();
    throw e;
  }
  process.once("exit", stop);
  const url = (database = "postgres") => `postgres://postgres@localhost/${database}?host=${encodeURIComponent(dir)}`;
  const psql = (sql: string, database = "postgres") => run("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]);
  return {
    url,
    psql,
    createDatabase() {
      const name = `t${process.pid}_${++counter}`;
      psql(`CREATE DATABASE ${name}`);
      return url(name);
    },
    stop() {
      process.removeListener("exit", stop);
      stop();
    },
  };
}
