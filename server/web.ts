import "server-only";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Access } from "./access/access.ts";
import { Admission } from "./admission/admission.ts";
import { AgentPool } from "./cluster/agents.ts";
import { MemoryLabRoutes, type LabRoutes } from "./cluster/directory.ts";
import { discardLab, placeLab, AgentRefusal } from "./cluster/placement.ts";
import { RedisLabRoutes } from "./cluster/redis.ts";
import type { Config } from "./config.ts";
import { clientIp } from "./http/client.ts";
import { clusterRoutes } from "./http/cluster.ts";
import { HttpError } from "./http/errors.ts";
import { admissionRoutes } from "./http/labs.ts";
import { catalogRoutes } from "./http/lessons.ts";
import { opsHandler } from "./http/ops.ts";
import { LabProxy } from "./http/proxy.ts";
import { Router, send } from "./http/router.ts";
import { shareLibrary, LessonLibrary } from "./lessons/library.ts";
import { log } from "./log/log.ts";
import { Metrics } from "./metrics/metrics.ts";
import { startPages } from "./pages.ts";
import { connectRedis } from "./redis.ts";

export interface NslabWeb {
  server: http.Server;
  routes: LabRoutes;
  pool: AgentPool;
  admission: Admission;
  url: string;
  close(): Promise<void>;
}

/**
 * NSLAB_ROLE=web (docs/scaling.md): the pages, the lesson catalogue, access and admission (the
 * queue), placement of new labs on agents, and the routing of every lab request and socket to the
 * agent that holds the lab (server/http/proxy.ts). No lab, no native code: a web replica runs
 * unprivileged, anywhere, as many times as wanted; what replicas share is the lab directory
 * (Redis, NSLAB_REDIS_URL). Classes run on the single-process server only, for now (503 here).
 */
export async function startWeb(config: Config, opts: { pages?: boolean } = {}): Promise<NslabWeb> {
  const secret = config.cluster.secret;
  if (!secret) throw new Error("the web role needs NSLAB_INTERNAL_SECRET");
  // a route outlives its lab's longest life by a day, so an ended lab's page can still learn why
  const keepMs = (config.maxLifetimeMs || 7 * 86400_000) + 86400_000;
  const routes: LabRoutes = config.redisUrl
    ? new RedisLabRoutes(await connectRedis(config.redisUrl, (e) => log.warn({ err: e }, "redis")), keepMs)
    : new MemoryLabRoutes(keepMs);
  let proxy: LabProxy | null = null;
  let admission: Admission | null = null;
  const pool = new AgentPool(
    config.cluster.agents,
    { secret, intervalMs: config.cluster.healthIntervalMs, downAfter: config.cluster.downAfter, dns: config.cluster.agentsDns },
    {
      down: async (name) => {
        const ids = await routes.onAgent(name);
        const at = Date.now();
        for (const id of ids) await routes.end(id, "agent-lost", at);
        proxy?.agentDown(name);
        log.error({ agent: name, labs: ids.length }, "agent stopped answering: its labs are lost, their pages are told");
      },
      up: (name) => log.info({ agent: name }, "agent up"),
      room: () => admission?.slotFreed(),
    },
  );
  await pool.start();
  proxy = new LabProxy({ routes, pool, secret, allowedOrigins: config.allowedOrigins });

  const lessons = new LessonLibrary(config.lessonsDir, { reload: config.dev });
  shareLibrary(lessons);
  const access = new Access(config.access);
  const metrics = new Metrics();
  admission = new Admission(
    // the agents hold the limits (each its NSLAB_MAX_LABS and memory reserve: 507 when reached);
    // here: the per-address rate, the queue, and the drain of the whole site
    { maxLabs: Number.MAX_SAFE_INTEGER, labsPerClient: config.labsPerClient, labsPerMinute: config.labsPerMinute, reserveBytes: 0 },
    {
      liveLabs: () => 0,
      liveForClient: () => 0,
      memAvailable: () => Infinity,
      create: async (req) => {
        try {
          return await placeLab(pool, routes, secret, req);
        } catch (e) {
          if (e instanceof AgentRefusal) throw new HttpError(e.status, (e.body.error ?? "internal") as never, e.body.message ?? "The lab could not be made.");
          throw e;
        }
      },
      discard: (id) => discardLab(pool, routes, secret, id),
      observer: {
        refused: (reason, ip) => {
          metrics.refusals.inc({ reason });
          log.info({ ip, reason }, "lab request refused");
        },
        queued: (ip, position) => log.info({ ip, position }, "lab request queued"),
      },
    },
  );

  const router = new Router();
  catalogRoutes(router, lessons);
  admissionRoutes(router, { lessonExists: (id) => lessons.has(id), gate: { access, admission } });
  clusterRoutes(router, { pool, access, secret });
  router.add("GET", "/api/health", () => ({
    status: 200,
    body: { ok: true, role: "web", agents: pool.list().map((a) => ({ name: a.name, up: a.up, labs: a.health?.labs ?? null, draining: a.health?.draining ?? null })) },
  }));
  const notHere = () => {
    throw new HttpError(503, "not_in_this_role", "Classes run on a single-process nslab (NSLAB_ROLE=all) for now; see docs/scaling.md.");
  };
  for (const p of ["/api/classes", "/api/classes/:id", "/api/classes/:id/:what", "/api/classes/:id/:what/:x", "/api/classes/:id/:what/:x/:y"])
    for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE"]) router.add(m, p, notHere);

  let closing = false;
  const probes = opsHandler({ metrics, access, notReady: () => (closing ? "stopping" : admission!.isDraining ? "draining" : pool.candidates().length ? null : "no agent has room") });
  const { handle, nextUpgrade } = opts.pages !== false ? await startPages(config) : { handle: null, nextUpgrade: null };

  const server = http.createServer(async (req, res) => {
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "same-origin");
    res.setHeader("x-frame-options", "SAMEORIGIN");
    const ip = clientIp(req, config.trustProxy);
    try {
      if (await probes(req, res)) return;
      if (await proxy!.handle(req, res, ip)) return;
      if (await router.handle(req, res, ip)) return;
      if (handle) await handle(req, res);
      else send(res, 404, { error: "not_found", message: "Pages are not served by this instance." });
    } catch (e) {
      log.error({ path: (req.url ?? "").split("?")[0], err: e }, "request failed");
      send(res, 500, { error: "internal", message: "Something went wrong on the server." });
    }
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    if (proxy!.upgrade(req, socket, head, clientIp(req, config.trustProxy))) return;
    if (nextUpgrade && (req.url ?? "").startsWith("/_next/")) return void nextUpgrade(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const addr = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  return {
    server,
    routes,
    pool,
    admission,
    url: `http://${host}:${addr.port}`,
    async close() {
      closing = true;
      pool.close();
      admission!.close();
      proxy!.close();
      server.close();
      server.closeAllConnections();
      await routes.close();
    },
  };
}
