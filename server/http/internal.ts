import "server-only";
import os from "node:os";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isLabId, isLessonId } from "../../lib/ids.ts";
import type { AgentHealth } from "../cluster/agents.ts";
import { INTERNAL_HEADER, secretMatches } from "../cluster/secret.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import { jsonObject } from "./body.ts";
import { HttpError } from "./errors.ts";
import { Router, send } from "./router.ts";

/**
 * An agent's side of the internal API (NSLAB_ROLE=agent, docs/scaling.md). Web sends the shared
 * secret with every request and upgrade; without it an agent answers 401 to everything but the
 * kubelet's /healthz and /readyz. Beside the lab API and sockets (proxied by web unchanged):
 *  - GET    /internal/health   AgentHealth: room, memory, load, draining, overloaded
 *  - POST   /internal/labs     {lesson?, clientIp}: a lab now, or 507 overloaded / 503 draining
 *                              (never a queue: web keeps the queue, and tries another agent)
 *  - GET    /internal/labs     the learners' labs here ({labs: [{id}]}: web ends those it declared
 *                              lost); ?client=<address>: that address's (web's per-address cap)
 *  - DELETE /internal/labs/:id a lab nobody picked up from web's queue (?reason=deadline: a class
 *                              lab put away at its class's end; ?reason=agent-lost: see GET)
 *  For class labs (the class lives on a web replica, docs/scaling.md; the sockets it follows them
 *  by are in class-link.ts):
 *  - POST   /internal/labs     with {class: {deadline}}: admitted, no idle timeout, the class's end
 *  - POST   /internal/labs/:id/token     a further token (a learner rejoining)
 *  - POST   /internal/labs/:id/setup     {lesson}: the lesson's setup scripts
 *  - PATCH  /internal/labs/:id/lifetime  {deadline}: the class's end moved
 *  - POST   /internal/drain    no new labs here; existing labs run on
 *  - DELETE /internal/drain    takes new labs again
 */
export interface AgentDeps {
  name: string;
  mgr: LabManager;
  maxLabs: number;
  reserveBytes: number;
  memAvailable(): number;
  lessonExists(id: string): boolean;
  drain: { readonly isDraining: boolean; drain(on: boolean): void };
  runSetup(lab: Lab, lesson: string): Promise<unknown>;
}

export function internalAllowed(req: IncomingMessage, secret: string): boolean {
  return secretMatches(req.headers[INTERNAL_HEADER], secret);
}

function memTotal(): number {
  try {
    const kb = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/meminfo", "latin1"))?.[1];
    return kb ? Number(kb) * 1024 : os.totalmem();
  } catch {
    return os.totalmem();
  }
}

export function agentHealth(d: AgentDeps): AgentHealth {
  const memAvailable = d.memAvailable();
  const overloaded = d.mgr.count >= d.maxLabs || memAvailable < d.reserveBytes;
  return {
    name: d.name,
    labs: d.mgr.count,
    maxLabs: d.maxLabs,
    pooled: d.mgr.pooled,
    memAvailable: Number.isFinite(memAvailable) ? memAvailable : memTotal(),
    memTotal: memTotal(),
    load1: os.loadavg()[0] ?? 0,
    cpus: os.availableParallelism(),
    draining: d.drain.isDraining,
    overloaded,
  };
}

/** The /internal routes, on the router an agent's request handler asks first. */
export function internalRoutes(router: Router, d: AgentDeps): void {
  router.add("GET", "/internal/health", () => ({ status: 200, body: agentHealth(d) }));
  router.add("POST", "/internal/labs", async (ctx) => {
    const body = jsonObject(ctx.body, ["lesson", "clientIp", "class"]);
    const lesson = body.lesson ?? null;
    const cls = body.class as { deadline?: unknown } | undefined;
    if (cls !== undefined && (typeof cls !== "object" || cls === null || typeof cls.deadline !== "number" || !Number.isFinite(cls.deadline)))
      throw new HttpError(400, "bad_request", "class must be {deadline: ms since 1970}.");
    if (lesson !== null && (!isLessonId(lesson) || !d.lessonExists(lesson))) throw new HttpError(400, "unknown_lesson", "No such lesson.");
    const clientIp = typeof body.clientIp === "string" && body.clientIp.length <= 64 ? body.clientIp : "unknown";
    if (d.drain.isDraining) throw new HttpError(503, "draining", "This agent is draining: it takes no new labs.");
    const h = agentHealth(d);
    if (h.overloaded) throw new HttpError(507, "overloaded", "This agent is full or short of memory.");
    // a class lab (classes/labs.ts managerLabs does the same in one process): the class admitted
    // its learner, it lives until the class's end however quiet, and the class warns of the end
    const { lab, token } = await d.mgr.create(
      cls ? { lesson, clientIp, admitted: true, terminal: true, lifetime: { idleMs: null, maxMs: null, deadline: cls.deadline as number, ownerWarns: true } } : { lesson, clientIp, terminal: true },
    );
    return { status: 201, body: { id: lab.id, token, mode: lab.mode, hostname: lab.hostname } };
  });
  // ?client=<address>: that address's labs only (web's cap on an address's labs across agents)
  router.add("GET", "/internal/labs", (ctx) => {
    const client = ctx.query.get("client");
    const labs = d.mgr.list().filter((l) => client === null || l.clientIp === client);
    return { status: 200, body: { labs: labs.map((l) => ({ id: l.id })) } };
  });
  router.add("DELETE", "/internal/labs/:id", async (ctx) => {
    const id = ctx.params.id ?? "";
    // deadline: a class lab at its class's end; agent-lost: web declared this agent dead (a network
    // split) and told the lab's learner so; the lab must not live on unseen
    const asked = ctx.query.get("reason");
    const reason = asked === "deadline" || asked === "agent-lost" ? asked : "deleted";
    if (!isLabId(id) || !(await d.mgr.destroy(id, reason))) throw new HttpError(404, "not_found", "No such lab.");
    return { status: 204 };
  });
  const running = (id: string | undefined) => {
    const lab = isLabId(id) ? d.mgr.get(id) : undefined;
    if (!lab || !lab.running || lab.endReason) throw new HttpError(404, "not_found", "No such lab.");
    return lab;
  };
  router.add("POST", "/internal/labs/:id/token", (ctx) => {
    const token = d.mgr.issueToken(running(ctx.params.id).id);
    if (!token) throw new HttpError(404, "not_found", "No such lab.");
    return { status: 201, body: { token } };
  });
  router.add("POST", "/internal/labs/:id/setup", async (ctx) => {
    const lab = running(ctx.params.id);
    const { lesson } = jsonObject(ctx.body, ["lesson"]);
    if (typeof lesson !== "string" || !isLessonId(lesson) || !d.lessonExists(lesson)) throw new HttpError(400, "unknown_lesson", "No such lesson.");
    await d.runSetup(lab, lesson);
    return { status: 204 };
  });
  router.add("PATCH", "/internal/labs/:id/lifetime", (ctx) => {
    const lab = running(ctx.params.id);
    const { deadline } = jsonObject(ctx.body, ["deadline"]);
    if (typeof deadline !== "number" || !Number.isFinite(deadline)) throw new HttpError(400, "bad_request", "deadline must be ms since 1970.");
    d.mgr.setLifetime(lab.id, { deadline });
    return { status: 204 };
  });
  router.add("POST", "/internal/drain", () => {
    d.drain.drain(true);
    return { status: 200, body: agentHealth(d) };
  });
  router.add("DELETE", "/internal/drain", () => {
    d.drain.drain(false);
    return { status: 200, body: agentHealth(d) };
  });
}

/** What an agent answers a request or upgrade without the secret. */
export function refuseInternal(res: ServerResponse): void {
  send(res, 401, { error: "unauthorized", message: "This is an nslab agent: it answers only its web tier." });
}
