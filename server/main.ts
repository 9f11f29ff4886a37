import "server-only";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { startServer } from "./server.ts";
import { startWeb } from "./web.ts";
import { log, routeConsole } from "./log/log.ts";

/** `npm start` / `npm run dev`: one process, one port. SIGINT/SIGTERM destroy every lab first. */
async function main(): Promise<void> {
  // everything the server (and any library) prints becomes a structured, scrubbed JSON line
  routeConsole();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`nslab: configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  if (config.role === "web") return mainWeb(config);
  const s = await startServer(config, { pages: config.role !== "agent" });
  const L = s.mgr.cgroups.layout;
  const cg = L.version ? `cgroup v${L.version} limits` : `no cgroup limits: ${L.reason}`;
  // load the lessons now, so their problems are in the start-up log (lessons with errors are left out)
  const lessons = s.lessons.loaded();
  const left = lessons.leftOut.length ? `, ${lessons.leftOut.length} left out because of errors (above): ${lessons.leftOut.join(", ")}` : "";
  log.info({ lessons: lessons.lessons.size, leftOut: lessons.leftOut }, `nslab: ${lessons.lessons.size} lessons${left}`);
  log.info(
    { url: s.url, mode: s.mgr.mode, cgroup: L.version, access: config.access.mode, maxLabs: config.maxLabs, pool: config.poolSize, idleTimeoutMs: config.idleTimeoutMs, maxLifetimeMs: config.maxLifetimeMs },
    `nslab: listening on ${s.url.replace("127.0.0.1", "localhost")} (${s.mgr.mode} mode, ${cg}, access ${config.access.mode}${config.dev ? ", development" : ""})`,
  );
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`nslab: ${sig}: closing ${s.mgr.count} labs`);
    await s.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** NSLAB_ROLE=web: pages, API and routing to agents (docs/scaling.md). */
async function mainWeb(config: Config): Promise<void> {
  const w = await startWeb(config);
  const up = w.pool.list().filter((a) => a.up).length;
  log.info({ url: w.url, role: "web", agents: config.cluster.agents.length, up, redis: !!config.redisUrl }, `nslab web: listening on ${w.url}, ${up} of ${config.cluster.agents.length} agents up${config.redisUrl ? ", lab directory in Redis" : ""}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await w.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((e) => {
  console.error("nslab: failed to start:", e instanceof Error ? e.message : e);
  process.exit(1);
});
