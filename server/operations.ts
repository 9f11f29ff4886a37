import "server-only";
import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Access } from "./access/access.ts";
import { Admission } from "./admission/admission.ts";
import { memAvailableReader } from "./admission/memory.ts";
import type { CounterStore } from "./admission/ratelimit.ts";
import type { Config } from "./config.ts";
import type { TerminalMeter } from "./http/terminal-socket.ts";
import { CapacityError } from "./labs/errors.ts";
import type { LabManager } from "./labs/manager.ts";
import { log } from "./log/log.ts";
import { Metrics, type LabSample } from "./metrics/metrics.ts";
import type { ClassAdmission, Classroom } from "./classes/classroom.ts";
import type { QueuedResponse } from "../lib/protocol.ts";
import type { ClassLabCredentials } from "../lib/classes.ts";
import type { ClassMeter } from "./http/classes.ts";
import type { Terminals } from "./terminals/lab-terminals.ts";

/**
 * The wiring of what a server left running needs (docs/operations.md): who may have a lab
 * (access), when (admission, fed by the manager's "a lab ended"), what is measured (metrics) and
 * logged (log), for one server. server.ts puts the HTTP adapter on top.
 */
export interface Operations {
  access: Access;
  admission: Admission;
  metrics: Metrics;
  /** for the terminal sockets: bytes in and out, time to first prompt */
  meter: TerminalMeter;
  /** wraps a socket route so the sockets gauge counts it while its connection is open */
  counted<A extends unknown[]>(kind: "terminal" | "explorer", f: (req: IncomingMessage, socket: Duplex, ...rest: A) => void): (req: IncomingMessage, socket: Duplex, ...rest: A) => void;
  /** gives a request its id (X-Request-Id) and logs it once answered (path without its query) */
  track(req: IncomingMessage, res: ServerResponse, ip: string): string;
  /** for the class sockets: broadcast viewers and the bytes sent to them */
  classMeter: ClassMeter;
  /** logs and counts what happens to classes (never a join code or key) */
  watchClasses(classes: Classroom): void;
  /** class labs through admission: a full server queues a joining learner like any other */
  classAdmission: ClassAdmission;
  close(): void;
}

/**
 * `counters`: where the rate-limit windows live; several web replicas pass one shared store
 * (RedisCounterStore, NSLAB_REDIS_URL) so an address's limits hold across all of them. Default: in
 * this process.
 */
export function startOperations(config: Config, mgr: LabManager, terminals: Terminals, counters?: CounterStore): Operations {
  const metrics = new Metrics();
  const access = new Access({ ...config.access, store: counters, denied: (what, why) => metrics.accessDenied.inc({ what, why }) });
  const admission = new Admission(
    { maxLabs: config.maxLabs, labsPerClient: config.labsPerClient, labsPerMinute: config.labsPerMinute, reserveBytes: config.memoryReserveBytes },
    {
      liveLabs: () => mgr.count,
      liveForClient: (ip) => mgr.countForClient(ip),
      memAvailable: memAvailableReader(),
      async create(req) {
        try {
          // the token goes to the learner (through the queue, if they waited) and is kept nowhere else
          const { lab, token } = await mgr.create({ lesson: req.lesson, clientIp: req.clientIp, terminal: true });
          return { id: lab.id, token, mode: lab.mode, hostname: lab.hostname };
        } catch (e) {
          // the manager is full after all (a race, or a uid range still held): wait in the queue
          if (e instanceof CapacityError && !e.perClient) throw Object.assign(e, { capacity: true });
          throw e;
        }
      },
      discard: (id) => mgr.destroy(id, "deleted").then(() => {}),
      store: counters,
      observer: {
        refused: (reason, ip) => {
          metrics.refusals.inc({ reason });
          log.info({ ip, reason }, "lab request refused");
        },
        queued: (ip, position) => log.info({ ip, position }, "lab request queued"),
        admitted: (ms) => metrics.queueWaitSeconds.observe(ms / 1000),
        abandoned: (kind) => log.info({ kind }, kind === "pickup" ? "a queued learner never picked up their lab" : "a queued learner left"),
      },
    },
  );
  mgr.observe({
    created: (lab, i) => {
      metrics.creations.inc({ source: i.pooled ? "pool" : "cold" });
      metrics.createSeconds.observe({ source: i.pooled ? "pool" : "cold" }, i.ms / 1000);
      log.info({ lab: lab.id, ip: lab.clientIp, lesson: lab.lesson, pooled: i.pooled, ms: Math.round(i.ms * 10) / 10 }, "lab created");
    },
    failed: (step, err) => {
      metrics.failures.inc({ step });
      log.error({ step, err }, "lab creation failed");
    },
    ended: (lab, reason) => {
      if (reason !== "deleted") metrics.evictions.inc({ reason });
      log.info({ lab: lab.id, reason }, "lab ended");
      admission.slotFreed();
    },
    expiring: (lab, at, reason) => log.info({ lab: lab.id, reason, at: new Date(at).toISOString() }, "lab expiring soon"),
  });

  const sockets = { terminal: 0, explorer: 0 };
  const viewers = { stage: 0, watch: 0 };
  let classes: Classroom | null = null;
  metrics.setSources({
    labs: () => {
      const now = Date.now();
      const out: LabSample[] = [];
      for (const l of mgr.all()) {
        const u = l.usage();
        const state = l.clientIp === "pool" ? "pooled" : l.lifetime.warned ? "expiring" : now - l.lifetime.lastActivity < 60_000 ? "active" : "idle";
        out.push({ state, memoryBytes: u.memoryBytes, pids: u.pids, cpuSeconds: u.cpuSeconds ?? null });
      }
      return out;
    },
    pool: () => mgr.pooled,
    terminals: () => {
      let attached = 0;
      let detached = 0;
      for (const l of mgr.all()) for (const t of terminals.of(l).values()) t.attached ? attached++ : detached++;
      return { attached, detached };
    },
    sockets: () => sockets,
    queue: () => admission.queueLength,
    classes: () => classes?.stats() ?? { open: 0, ending: 0, learners: 0 },
    viewers: () => viewers,
  });

  return {
    access,
    admission,
    metrics,
    meter: {
      input: (n) => metrics.terminalBytes.inc({ direction: "in" }, n),
      output: (n) => metrics.terminalBytes.inc({ direction: "out" }, n),
      firstPrompt: (s, pooled) => metrics.firstPromptSeconds.observe({ source: pooled ? "pool" : "cold" }, s),
    },
    counted(kind, f) {
      return (req, socket, ...rest) => {
        sockets[kind]++;
        socket.once("close", () => sockets[kind]--);
        log.debug({ path: (req.url ?? "").split("?")[0], kind }, "socket");
        f(req, socket, ...rest);
      };
    },
    track(req, res, ip) {
      // a request id in every log line about this request, and in the answer for support questions
      const rid = crypto.randomBytes(6).toString("hex");
      res.setHeader("x-request-id", rid);
      const t0 = performance.now();
      const path = (req.url ?? "/").split("?")[0]!;
      if (path.startsWith("/api/"))
        res.once("finish", () => {
          metrics.httpRequests.inc({ status: `${Math.floor(res.statusCode / 100)}xx` });
          log.info({ req: rid, method: req.method, path, status: res.statusCode, ms: Math.round((performance.now() - t0) * 10) / 10, ip }, "request");
        });
      return rid;
    },
    classMeter: {
      viewers: (kind, delta) => (viewers[kind] += delta),
      viewerBytes: (n) => metrics.broadcastBytes.inc(n),
    },
    classAdmission: {
      async request(clientIp, make) {
        const out = await admission.request({ clientIp, lesson: null, admitted: true, make: async () => ({ ...(await make()) }) });
        if (out.kind === "refused") return { kind: "refused", message: out.message };
        if (out.kind === "created") return { kind: "created", lab: out.lab as unknown as ClassLabCredentials };
        return { kind: "queued", queued: { queued: true, ticket: out.ticket, view: out.view as QueuedResponse["view"] } };
      },
      async peek(ticket) {
        const st = admission.state(ticket);
        if (st !== "waiting" && st !== "starting") return null;
        return { queued: true, ticket, view: (await admission.poll(ticket, null, 0)) as QueuedResponse["view"] };
      },
    },
    watchClasses(c) {
      classes = c;
      const at = (ms: number) => new Date(ms).toISOString();
      c.observe({
        created: (rt, ip) => log.info({ class: rt.id, ip, lessons: rt.rec.lessons, maxLearners: rt.rec.maxLearners, endsAt: at(rt.rec.endsAt) }, "class created"),
        joined: (rt, learner, rejoined, ip) => {
          metrics.classJoins.inc({ kind: rejoined ? "rejoin" : "new" });
          log.info({ class: rt.id, learner, ip, rejoined }, rejoined ? "learner rejoined a class" : "learner joined a class");
        },
        changed: (rt, ch) => {
          if (ch.locked !== undefined) log.info({ class: rt.id, locked: ch.locked }, ch.locked ? "class locked" : "class unlocked");
          if (ch.endsAt !== undefined) log.info({ class: rt.id, endsAt: at(ch.endsAt) }, "class end moved");
        },
        ending: (rt, labsEndAt, by) => log.info({ class: rt.id, labsEndAt: at(labsEndAt), by, learners: rt.learners.size }, "class ending"),
        ended: (rt) => log.info({ class: rt.id, learners: rt.learners.size }, "class ended"),
      });
    },
    close() {
      admission.close();
    },
  };
}
