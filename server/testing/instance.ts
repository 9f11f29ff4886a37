import "server-only";
import fs from "node:fs";
import path from "node:path";
import { loadConfig, type Config } from "../config.ts";

/**
 * Host resources of their own for each lab manager a test, benchmark or lesson verifier starts:
 * a uid range, a cgroup parent and a state directory that no other live instance on this host uses.
 *
 * Several checkouts may run `npm test` on one host at once (developers' worktrees, a dev server
 * beside CI). Two managers sharing a uid range would give two labs the same host uids (so one could
 * signal the other), and one manager's start-up cleanup would remove the other's cgroups. So each
 * instance claims a numbered slot with an atomic mkdir under /run, records its pid there, and
 * gives the slot back when its process exits; a slot whose owner died is taken over.
 */

const SLOTS_DIR = process.env.NSLAB_SLOTS_DIR || "/run/nslab-slots";
/** 44 slots of 1024 labs × 65536 ids each, from uid 1.1e9 (the last base stays under NSLAB_UID_BASE's 4e9 cap). */
const SLOTS = 44;
const UID_FIRST = 1_100_000_000;
const IDS_PER_SLOT = 1024 * 65536;
export const MAX_LABS_PER_SLOT = 1024;

const mine = new Set<string>();
let hooked = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function claim(): number {
  fs.mkdirSync(SLOTS_DIR, { recursive: true, mode: 0o700 });
  for (let n = 0; n < SLOTS; n++) {
    const dir = path.join(SLOTS_DIR, String(n));
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let owner = 0;
      try {
        owner = Number(fs.readFileSync(path.join(dir, "pid"), "utf8"));
      } catch {
        // made but not yet written by its claimant: leave it be, unless it is old
        if (Date.now() - fs.statSync(dir).mtimeMs < 10_000) continue;
      }
      if (owner && alive(owner)) continue;
      // a dead owner's slot: take it over (rename is atomic, so two takers cannot both win)
      const grave = `${dir}.stale-${process.pid}`;
      try {
        fs.renameSync(dir, grave);
        fs.rmSync(grave, { recursive: true, force: true });
        fs.mkdirSync(dir);
      } catch {
        continue;
      }
    }
    fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
    mine.add(dir);
    if (!hooked) {
      hooked = true;
      process.once("exit", () => {
        for (const d of mine) fs.rmSync(d, { recursive: true, force: true });
      });
    }
    return n;
  }
  throw new Error(`all ${SLOTS} nslab test slots under ${SLOTS_DIR} are held by live processes`);
}

/**
 * NSLAB_* settings for one more isolated instance in this process. `tag` names it in the cgroup
 * and state paths (so a leftover says whose it was).
 */
export function isolatedEnv(tag: string): Record<string, string> {
  if (!/^[a-z0-9-]{1,24}$/.test(tag)) throw new Error(`bad instance tag ${tag}`);
  const n = claim();
  // a fresh data directory: classes a test left in this slot before must not come back
  fs.rmSync(`/run/nslab-t${n}-${tag}-data`, { recursive: true, force: true });
  return {
    NSLAB_UID_BASE: String(UID_FIRST + n * IDS_PER_SLOT),
    NSLAB_CGROUP_PARENT: `nslab-t${n}-${tag}`,
    NSLAB_STATE_DIR: `/run/nslab-t${n}-${tag}`,
    NSLAB_DATA_DIR: `/run/nslab-t${n}-${tag}-data`,
  };
}

/**
 * The one way tests, benchmarks and the lesson verifier build a Config: the environment's
 * settings; then loopback and an empty pool; with `tag`, a uid range, cgroup parent, state and
 * data dir of their own (isolatedEnv: any instance that starts labs needs one); then their own
 * `env`; then `overrides` (port 0, a free one, unless given).
 */
export function testConfig(o: { tag?: string; env?: Record<string, string>; overrides?: Partial<Config> } = {}): Config {
  return loadConfig(
    { ...process.env, HOST: "127.0.0.1", NSLAB_POOL: "0", ...(o.tag ? isolatedEnv(o.tag) : {}), ...o.env },
    { port: 0, ...o.overrides },
  );
}

/**
 * The lesson verifier's (scripts/verify-lessons.ts, lessons.e2e.test.ts): an instance of its own,
 * so it runs beside a dev server, the integration tests or another checkout's verifier.
 */
export function verifierConfig(o: { isolated?: boolean } = {}): Config {
  return testConfig({ tag: o.isolated === false ? undefined : "verify", env: { NSLAB_MAX_LABS: "16", NSLAB_POOL: "2" } });
}
