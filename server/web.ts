import "server-only";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Access } from "./access/access.ts";
import { Admission } from "./admission/admission.ts";
import { RedisCounterStore } from "./admission/redis-counters.ts";
import { AgentPool, headroom } from "./cluster/agents.ts";
import { MemoryLabRoutes, type LabRoutes } from "./cluster/directory.ts";
import { discardLab, endLostLabs, labsOfClient, placeLab, AgentRefusal } from "./cluster/placement.ts";
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
import { Classroom } from "./classes/classroom.ts";
import { MemoryClassLeases, RedisClassLeases, type ClassLeases } from "./cluster/class-owners.ts";
import { agentClassLabs } from "./http/agent-class-labs.ts";
import { ClassProxy } from "./http/class-proxy.ts";
import { classRoutes, classSockets } from "./http/classes.ts";
import { openClassStore } from "./stores.ts";
import { DEFAULT_STREAM_OPTIONS } from "./terminals/broadcast.ts";

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
 * (Redis, NSLAB_REDIS_URL), the class data (PostgreSQL, NSLAB_DATABASE_URL) and which replica
 * owns each live class (Redis: class-owners.ts; a class's requests and sockets go to its owner).
 */
export async function startWeb(config: Config, opts: { pages?: boolean } = {}): Promise<NslabWeb> {
  const secret = config.cluster.secret;
  if (!secret) throw new Error("the web role needs NSLAB_INTERNAL_SECRET");
  // a route outlives its lab's longest life by a day, so an ended lab's page can still learn why
  const keepMs = (config.maxLifetimeMs || 7 * 86400_000) + 86400_000;
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, (e) => log.warn({ err: e }, "redis")) : null;
  const routes: LabRoutes = redis ? new RedisLabRoutes(redis, keepMs) : new MemoryLabRoutes(keepMs);
  const leases: ClassLeases = redis ? new RedisClassLeases(redis, config.cluster.classLeaseMs) : new MemoryClassLeases(config.cluster.classLeaseMs);
  if (redis && !config.databaseUrl) log.warn("several web replicas (NSLAB_REDIS_URL) keep class data in this replica's own SQLite file: set NSLAB_DATABASE_URL so they share it");
  let proxy: LabProxy | null = null;
  let admission: Admission | null = null;
  const pool: AgentPool = new AgentPool(
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
      up: (name) => {
        log.info({ agent: name }, "agent up");
        // back from a network split: what it still holds of the labs declared lost ends now
        const url = pool.get(name)?.url; // (called from pool.start(), once `pool` is set)
        if (url)
          void endLostLabs(url, routes, secret).then(
            (n) => n && log.warn({ agent: name, labs: n }, "agent came back: the labs declared lost while it was cut off were ended"),
            (e) => log.warn({ agent: name, err: e }, "agent came back: its lost labs could not be ended"),
          );
      },
      room: () => admission?.slotFreed(),
    },
  );
  await pool.start();
  proxy = new LabProxy({ routes, pool, secret, allowedOrigins: config.allowedOrigins });

  const lessons = new LessonLibrary(config.lessonsDir, { reload: config.dev });
  shareLibrary(lessons);
  const metrics = new Metrics();
  // an address's rate windows (labs per minute, wrong codes) hold across the replicas: in Redis
  const counters = redis ? new RedisCounterStore(redis) : undefined;
  const access = new Access({ ...config.access, store: counters, denied: (what, why) => metrics.accessDenied.inc({ what, why }) });
  metrics.watchAgents(() =>
    pool.list().map((a) => ({
      name: a.name,
      up: a.up,
      labs: a.health?.labs ?? null,
      maxLabs: a.health?.maxLabs ?? null,
      headroom: a.up && a.health ? headroom(a.health, a.placedSince) : 0,
      draining: a.health?.draining ?? false,
      overloaded: a.health?.overloaded ?? false,
      memAvailableBytes: a.health?.memAvailable ?? null,
    })),
  );
  admission = new Admission(
    // the agents hold the limits (each its NSLAB_MAX_LABS and memory reserve: 507 when reached);
    // here: the per-address rate, the queue, and the drain of the whole site; an address's labs
    // across the agents are counted when one is made (create, below)
    { maxLabs: Number.MAX_SAFE_INTEGER, labsPerClient: config.labsPerClient, labsPerMinute: config.labsPerMinute, reserveBytes: 0 },
    {
      liveLabs: () => 0,
      liveForClient: () => 0,
      memAvailable: () => Infinity,
      store: counters,
      create: async (req) => {
        // the address's labs on every agent: each agent alone would let it have its cap on each
        if ((await labsOfClient(pool, secret, req.clientIp)) >= config.labsPerClient)
          throw new HttpError(429, "too_many_labs", `Your network already has ${config.labsPerClient} labs open. Close one (or reset a lesson's lab) first.`);
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

  // classes (docs/scaling.md, "Classes across web replicas"): each lives on the replica holding its
  // lease; its data in the shared store, its labs on agents, followed from here (agent-class-labs.ts)
  let me = config.cluster.selfUrl ?? "";
  const store = await openClassStore(config);
  const steps = (id: string) => lessons.get(id)?.steps.map((s) => ({ id: s.id, hasCheck: s.hasCheck })) ?? null;
  let classroom: Classroom | null = null;
  classroom = await Classroom.start(
    store,
    agentClassLabs({ pool, routes, secret, onCheck: (labId, lesson, step, r, kind) => void classroom?.checkRan(labId, lesson, step, r, kind).catch((e) => log.warn({ err: e }, "class progress not recorded")) }),
    { exists: (id) => lessons.has(id), steps },
    {
      endWarningMs: config.classes.endWarningMs,
      retentionMs: config.classes.retentionDays * 24 * 3600_000,
      maxLearnersCap: config.classes.maxLearners,
      stream: DEFAULT_STREAM_OPTIONS,
      leases: { claim: (id) => leases.claim(id, me), release: (id) => leases.release(id, me) },
    },
  );
  const classes = classroom;
  classRoutes(router, classes, config, steps, access);
  const classProxy = new ClassProxy({ classes, store, leases, secret, me: () => me });
  const classSocket = classSockets(classes, config);

  let closing = false;
  const probes = opsHandler({ metrics, access, notReady: () => (closing ? "stopping" : admission!.isDraining ? "draining" : pool.candidates().length ? null : "no agent has room") });
  const { handle, nextUpgrade } = opts.pages !== false ? await startPages(config) : { handle: null, nextUpgrade: null };

  const server = http.createServer(async (req, res) => {
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "same-origin");
    res.setHeader("x-frame-options", "SAMEORIGIN");
    // a class request another replica forwarded (class-proxy.ts) says whose it is
    const ip = clientIp(req, config.trustProxy || classProxy.fromPeer(req));
    try {
      if (await probes(req, res)) return;
      if (await proxy!.handle(req, res, ip)) return;
      const c = await classProxy.handle(req, res, ip);
      if ("forwarded" in c) return;
      if (await router.handle(req, res, ip, c.body)) return;
      if (handle) await handle(req, res);
      else send(res, 404, { error: "not_found", message: "Pages are not served by this instance." });
    } catch (e) {
      log.error({ path: (req.url ?? "").split("?")[0], err: e }, "request failed");
      send(res, 500, { error: "internal", message: "Something went wrong on the server." });
    }
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const ip = clientIp(req, config.trustProxy || classProxy.fromPeer(req));
    if (proxy!.upgrade(req, socket, head, ip)) return;
    if (classProxy.upgrade(req, socket, head, ip, classSocket)) return;
    if (nextUpgrade && (req.url ?? "").startsWith("/_next/")) return void nextUpgrade(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const addr = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  me ||= `http://${host}:${addr.port}`;
  return {
    server,
    routes,
    pool,
    admission,
    url: `http://${host}:${addr.port}`,
    async close() {
      if (closing) return;
      closing = true;
      classProxy.close();
      // this replica's classes go back to the store; their leases are given back at once
      await classes.shutdown();
      pool.close();
      admission!.close();
      proxy!.close();
      server.close();
      server.closeAllConnections();
      await routes.close();
    },
  };
}
