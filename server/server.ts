import "server-only";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Config } from "./config.ts";
import type { LabManager } from "./labs/manager.ts";
import { shareLibrary, type LessonLibrary } from "./lessons/library.ts";
import { startServices } from "./services.ts";
import type { Terminals } from "./terminals/lab-terminals.ts";
import { clientIp } from "./http/client.ts";
import { ConnectionGate, openFilesLimit, serverTimeouts } from "./http/connections.ts";
import { ExplorerSockets } from "./http/explorer-socket.ts";
import { SocketLimits } from "./http/socket-limits.ts";
import { inspectRoutes } from "./http/inspect.ts";
import { createLabAnswer, labFor, labRoutes } from "./http/labs.ts";
import type { LabCreatedControl } from "../lib/protocol.ts";
import { lessonRoutes } from "./http/lessons.ts";
import { Router, send } from "./http/router.ts";
import { TerminalSockets } from "./http/terminal-socket.ts";
import { createUpgradeDispatcher } from "./http/upgrade.ts";
import { Classroom } from "./classes/classroom.ts";
import { managerLabs } from "./classes/labs.ts";
import { openClassStore } from "./stores.ts";
import { classRoutes, classSockets } from "./http/classes.ts";
import { DEFAULT_STREAM_OPTIONS } from "./terminals/broadcast.ts";
import { adminRoutes } from "./http/admin.ts";
import { opsHandler } from "./http/ops.ts";
import type { Lab } from "./labs/lab.ts";
import { log } from "./log/log.ts";
import { startOperations, type Operations } from "./operations.ts";
import { startPages } from "./pages.ts";
import { internalAllowed, internalRoutes, refuseInternal } from "./http/internal.ts";
import { AgentClassLinks } from "./http/class-link.ts";
import { memAvailableReader } from "./admission/memory.ts";
import os from "node:os";
import { RedisCounterStore } from "./admission/redis-counters.ts";

export interface NslabServer {
  server: http.Server;
  mgr: LabManager;
  terminals: Terminals;
  lessons: LessonLibrary;
  classes: Classroom;
  /** access, admission, metrics (operations.ts) */
  ops: Operations;
  url: string;
  close(): Promise<void>;
}

/**
 * The server's wiring: the domain services (services.ts), the classroom, and the HTTP adapter on
 * top of them (server/http/: the JSON API, the WebSockets and, unless `pages: false` as in API
 * tests, the Next.js pages), on one port through one upgrade dispatcher. It owns all of them.
 *
 * NSLAB_ROLE=agent (docs/scaling.md) is this same server without pages, answering only requests
 * and upgrades that carry the internal secret (web proxies the lab API and sockets unchanged),
 * plus the internal API (server/http/internal.ts). The web role is server/web.ts.
 */
export async function startServer(config: Config, opts: { pages?: boolean } = {}): Promise<NslabServer> {
  const services = await startServices(config);
  const { mgr, hub, runner, terminals } = services;
  // the pages render in this process from Next's own bundle: they find this library through here
  shareLibrary(services.lessons);

  const router = new Router();
  const lessons = {
    exists: (id: string) => services.lessons.has(id),
    steps: (id: string) => services.lessons.get(id)?.steps.map((s) => ({ id: s.id, hasCheck: s.hasCheck })) ?? null,
  };
  const classes = await Classroom.start(await openClassStore(config), managerLabs(mgr, terminals, (lab, lesson) => runner.runSetup(lab, lesson)), lessons, {
    endWarningMs: config.classes.endWarningMs,
    retentionMs: config.classes.retentionDays * 24 * 3600_000,
    maxLearnersCap: config.classes.maxLearners,
    stream: DEFAULT_STREAM_OPTIONS,
  });
  const lab = (ctx: Parameters<typeof labFor>[1]) => labFor(mgr, ctx);
  lessonRoutes(router, { lessons: services.lessons, runner, labFor: lab, onResult: (lab, lesson, step, r, kind) => {
      classLinks?.check(lab.id, lesson, step, r, kind);
      return classes.checkRan(lab.id, lesson, step, r, kind);
    },
  });
  inspectRoutes(router, { labFor: lab, shellsOf: (l) => terminals.shells(l) });
  // state several web replicas share (docs/scaling.md); without NSLAB_REDIS_URL it stays in this process
  const redis = config.redisUrl
    ? await (await import("./redis.ts")).connectRedis(config.redisUrl, (e) => log.warn({ err: e }, "redis connection failed (reconnecting)"))
    : null;
  const ops = startOperations(config, mgr, terminals, redis ? new RedisCounterStore(redis) : undefined);
  ops.watchClasses(classes);
  // a learner joining a class on a full server waits in the same queue as everyone else
  classes.admitThrough(ops.classAdmission);
  classRoutes(router, classes, config, lessons.steps, ops.access);
  labRoutes(router, { mgr, terminals, lessonExists: lessons.exists, gate: ops });
  adminRoutes(router, mgr, ops.access, ops.admission, terminals);
  router.add("GET", "/api/health", () => ({ status: 200, body: { ok: true, mode: mgr.mode, labs: mgr.count, cgroup: mgr.cgroups.version } }));
  let closing = false;
  const probes = opsHandler({
    metrics: ops.metrics,
    access: ops.access,
    notReady: () => (closing ? "stopping" : ops.admission.isDraining ? "draining" : mgr.count >= config.maxLabs ? "full" : null),
  });

  const agent = config.role === "agent" ? config.cluster.secret : null;
  const internal = new Router("/internal/");
  if (agent)
    internalRoutes(internal, {
      name: process.env.NSLAB_AGENT_NAME || os.hostname(),
      mgr,
      maxLabs: config.maxLabs,
      reserveBytes: config.memoryReserveBytes,
      memAvailable: memAvailableReader(),
      lessonExists: lessons.exists,
      drain: { get isDraining() { return ops.admission.isDraining; }, drain: (on) => ops.admission.drain(on) },
      runSetup: (lab, lesson) => runner.runSetup(lab, lesson),
    });
  // an agent's class labs: their class lives on a web replica, which follows them through these
  const classLinks = agent ? new AgentClassLinks({ mgr, terminals }) : null;

  const { handle, nextUpgrade } = opts.pages !== false && !agent ? await startPages(config) : { handle: null, nextUpgrade: null };

  const terminalSockets = new TerminalSockets(config, terminals, ops.meter);
  /** NEW_LAB_SOCKET's answer: POST /api/labs's, as a message (with the lab, when one was made) */
  const labForSocket = async (ip: string, query: URLSearchParams): Promise<{ answer: LabCreatedControl; lab?: Lab }> => {
    const { answer, labId } = await createLabAnswer({ lessonExists: lessons.exists, gate: ops }, ip, query.get("lesson") || undefined);
    const lab = labId ? mgr.get(labId) : undefined;
    return { answer, ...(lab ? { lab } : {}) };
  };
  const explorer = new ExplorerSockets(hub, { stallMs: config.sockets.stallMs, onStalled: () => ops.metrics.connectionsRefused.inc({ reason: "slow_reader" }) });
  const server = http.createServer(serverTimeouts(config.connections), async (req, res) => {
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "same-origin");
    res.setHeader("x-frame-options", "SAMEORIGIN");
    // an agent's every request comes from web, which says whose it is (X-Forwarded-For)
    const ip = clientIp(req, config.trustProxy || !!agent);
    const rid = ops.track(req, res, ip);
    try {
      if (await probes(req, res)) return;
      if (agent && !internalAllowed(req, agent)) return refuseInternal(res);
      if (agent && (await internal.handle(req, res, ip))) return;
      if (await router.handle(req, res, ip)) return;
      if (handle) await handle(req, res);
      else send(res, 404, { error: "not_found", message: "Pages are not served by this instance." });
    } catch (e) {
      log.error({ req: rid, path: (req.url ?? "").split("?")[0], err: e }, "request failed");
      send(res, 500, { error: "internal", message: "Something went wrong on the server." });
    }
  });
  // an agent's connections all come from web, which limits clients itself: no per-address cap there
  new ConnectionGate(agent ? 0 : config.connections.perAddress, (ip) => {
    ops.metrics.connectionsRefused.inc({ reason: "connections_per_address" });
    log.debug({ ip }, "connection refused: too many from this address");
  }).attach(server);
  const nofile = openFilesLimit();
  if (nofile && nofile.soft < 8192)
    log.warn({ soft: nofile.soft, hard: nofile.hard }, "the server may open only a few files and sockets (RLIMIT_NOFILE): raise LimitNOFILE (docs/operations.md)");
  const dispatch = createUpgradeDispatcher({
    config: { ...config, trustProxy: config.trustProxy || !!agent },
    mgr,
    limits: new SocketLimits({ perAddress: config.sockets.perAddress, explorersPerLab: config.sockets.explorersPerLab, terminalSocketsPerLab: 2 * config.terminalsPerLab }),
    refused: (reason) => ops.metrics.connectionsRefused.inc({ reason }),
    routes: {
      terminals: ops.counted("terminal", (req, socket, head: Buffer, lab: Lab, query: URLSearchParams) => terminalSockets.upgrade(req, socket, head, lab, query)),
      explorer: ops.counted("explorer", (req, socket, head: Buffer, lab: Lab) => explorer.upgrade(req, socket, head, lab)),
      // a page's first visit: its lab and first terminal in one socket (an agent's labs are made through web)
      ...(agent
        ? {}
        : {
            newLab: ops.counted("terminal", (req, socket, head: Buffer, query: URLSearchParams) =>
              terminalSockets.createLab(req, socket, head, query, () => labForSocket(clientIp(req, config.trustProxy), query), (lab) => void mgr.destroy(lab.id).catch(() => {})),
            ),
          }),
    },
    next: nextUpgrade,
    others: [...(classLinks ? [(req: http.IncomingMessage, socket: Duplex, head: Buffer, url: URL) => classLinks.upgrade(req, socket, head, url)] : []), classSockets(classes, config, ops.classMeter)],
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (agent && !internalAllowed(req, agent)) {
      socket.on("error", () => socket.destroy());
      socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    dispatch(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const addr = server.address() as AddressInfo;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  return {
    server,
    mgr,
    terminals,
    lessons: services.lessons,
    classes,
    ops,
    url: `http://${host}:${addr.port}`,
    async close() {
      closing = true;
      classLinks?.close();
      ops.close();
      server.close();
      server.closeAllConnections();
      await classes.shutdown();
      await redis?.quit().catch(() => {});
      await services.close();
    },
  };
}

