import "server-only";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import {
  CLASS_CLOSE,
  parseLearnerMessage,
  type ClassLabCredentials,
  type ConsentKind,
  type CreateClassResponse,
  type DashboardMessage,
  type LearnerSelfResponse,
  type LearnerServerMessage,
  type RosterResponse,
  type StreamMessage,
} from "../../lib/classes.ts";
import { isClassId, isLearnerId, isTerminalId } from "../../lib/ids.ts";
import type { Config } from "../config.ts";
import type { Classroom } from "../classes/classroom.ts";
import { ClassError } from "../classes/errors.ts";
import type { ClassRuntime, LearnerState, Sink, Viewer } from "../classes/runtime.ts";
import type { Access } from "../access/access.ts";
import { lockedOrWrong, requireCode } from "./access-gate.ts";
import { bearerToken, originAllowed } from "./client.ts";
import { keepAlive } from "./heartbeat.ts";
import { HttpError, toHttpError } from "./errors.ts";
import type { RouteContext, Router } from "./router.ts";

/** The classroom's HTTP and WebSocket adapter (docs/api.md "Classes", docs/protocol.md). */

/** The classroom's refusals become HTTP errors through the one table (errors.ts). */
function httpError(e: unknown): unknown {
  return toHttpError(e) ?? e;
}

/** Runs a handler, turning the classroom's refusals into HTTP errors. */
const wrap =
  <T>(fn: (ctx: RouteContext) => Promise<T>) =>
  async (ctx: RouteContext): Promise<T> => {
    try {
      return await fn(ctx);
    } catch (e) {
      throw httpError(e);
    }
  };

function siteUrl(config: Config, req: IncomingMessage): string {
  if (config.publicUrl) return config.publicUrl;
  const host = req.headers.host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host) ? req.headers.host : `localhost:${config.port}`;
  const proto = config.trustProxy && req.headers["x-forwarded-proto"] === "https" ? "https" : "http";
  return `${proto}://${host}`;
}

function key(ctx: RouteContext): string {
  const k = bearerToken(ctx.req, ctx.query);
  if (!k) throw new HttpError(401, "unauthorized", "This needs the class's instructor key or a learner key (Authorization: Bearer …).", { "www-authenticate": "Bearer" });
  return k;
}

function consentKind(v: unknown): ConsentKind {
  if (v !== "takeover" && v !== "broadcast") throw new ClassError("bad_request", 'kind must be "takeover" or "broadcast".');
  return v;
}

function learnerOf(rt: ClassRuntime, id: string | undefined): LearnerState {
  const L = isLearnerId(id) ? rt.learners.get(id) : undefined;
  if (!L) throw new ClassError("not_found", "No such learner in this class.");
  return L;
}

function obj(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ClassError("bad_request", "Send a JSON object.");
  return body as Record<string, unknown>;
}

function lessonStep(rt: ClassRuntime, body: unknown, lessons: (id: string) => { id: string }[] | null): { lesson: string; step: string | null } {
  const b = obj(body);
  if (typeof b.lesson !== "string" || !rt.rec.lessons.includes(b.lesson)) throw new ClassError("unknown_lesson", "lesson must be one of the class's lessons.");
  const step = b.step === undefined || b.step === null ? null : b.step;
  if (step !== null && (typeof step !== "string" || !lessons(b.lesson)?.some((s) => s.id === step))) throw new ClassError("unknown_step", "That lesson has no such step.");
  return { lesson: b.lesson, step };
}

/**
 * Access mode "code" (server/access): making a class needs the workshop access code
 * (`accessCode` in the body) or the operator key (Bearer); joining one needs only the class's join
 * code, which is a learner's admission (the "class" verifier), and wrong join codes count against
 * the address's guesses with wrong workshop codes.
 */
export function classRoutes(router: Router, classes: Classroom, config: Config, steps: (lesson: string) => { id: string }[] | null, access: Access): void {
  access.addVerifier("class", (code) => classes.hasCode(code));
  router.add(
    "POST",
    "/api/classes",
    wrap(async (ctx) => {
      const { accessCode, ...request } = obj(ctx.body);
      if (access.mode === "code") {
        const bearer = bearerToken(ctx.req, new URLSearchParams());
        if (!(bearer && access.operatorEnabled && (await access.operatorCheck(ctx.clientIp, bearer)).ok)) await requireCode(access, ctx.clientIp, accessCode);
      }
      const { rt, instructorKey } = await classes.create(request, ctx.clientIp);
      const site = siteUrl(config, ctx.req);
      const body: CreateClassResponse = {
        id: rt.id,
        code: rt.rec.code,
        instructorKey,
        joinUrl: `${site}/join?code=${rt.rec.code}`,
        instructorUrl: `${site}/instructor/${rt.id}#key=${instructorKey}`,
      };
      return { status: 201, body, headers: { location: `/api/classes/${rt.id}` } };
    }),
  );

  router.add(
    "POST",
    "/api/classes/join",
    wrap(async (ctx) => {
      if (access.mode === "code") {
        const code = (ctx.body as { code?: unknown } | null)?.code;
        const v = await access.admit(ctx.clientIp, { kind: "class", value: typeof code === "string" ? code : null });
        // a wrong code: the classroom says what is wrong with it (no such class, ended) and counts it too
        if (!v.ok && v.why === "locked") throw lockedOrWrong(v, ctx.clientIp, "class code");
      }
      const { rejoined, ...res } = await classes.joinOrQueue(ctx.body, ctx.clientIp);
      // 202: a learner of the class now, waiting in the server's queue for their lab
      return { status: "queued" in res ? 202 : rejoined ? 200 : 201, body: res };
    }),
  );

  const instructor = (ctx: RouteContext) => classes.instructor(ctx.params.id ?? "", key(ctx));

  router.add(
    "GET",
    "/api/classes/:id",
    wrap(async (ctx) => ({ status: 200, body: (await instructor(ctx)).roster() satisfies RosterResponse })),
  );
  router.add(
    "PATCH",
    "/api/classes/:id",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      await classes.update(rt, ctx.body);
      return { status: 200, body: rt.view() };
    }),
  );
  router.add(
    "DELETE",
    "/api/classes/:id",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      const now = ctx.query.get("now") === "1";
      await classes.end(rt, now ? 0 : undefined);
      return { status: 202, body: rt.view() };
    }),
  );
  router.add(
    "GET",
    "/api/classes/:id/export",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      const format = ctx.query.get("format") ?? "json";
      if (format !== "csv" && format !== "json") throw new ClassError("bad_request", "format must be csv or json.");
      const data = await classes.export(rt, format);
      const name = `nslab-class-${rt.id}.${format}`;
      if (format === "csv") {
        const text = data as string;
        ctx.res.writeHead(200, {
          "cache-control": "no-store",
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${name}"`,
          "content-length": String(Buffer.byteLength(text)),
        });
        ctx.res.end(text);
        return { status: 200 };
      }
      return { status: 200, body: data, headers: { "content-disposition": `attachment; filename="${name}"` } };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/follow",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const { lesson, step } = lessonStep(rt, ctx.body, steps);
      await rt.follow(lesson, step);
      return { status: 200, body: rt.view() };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/stage",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const b = obj(ctx.body);
      const source = b.source ?? null;
      if (source !== null && source !== "instructor" && source !== "learner") throw new ClassError("bad_request", 'source must be "instructor", "learner" or null.');
      const terminal = isTerminalId(b.terminal) ? b.terminal : null;
      const learnerId = typeof b.learnerId === "string" ? b.learnerId : null;
      if (source === "instructor" && !rt.instructor.lab) throw new ClassError("conflict", "Open the demo lab first (POST /api/classes/:id/instructor-lab).");
      rt.setStage({ source, learnerId: source === "learner" ? learnerId : null, terminal: source === "instructor" ? terminal : null });
      return { status: 200, body: rt.stageInfo() };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/instructor-lab",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const b = obj(ctx.body);
      const lesson = typeof b.lesson === "string" && rt.rec.lessons.includes(b.lesson) ? b.lesson : null;
      const lab = await rt.instructorLab(lesson);
      if (lesson) await lab.setupFor(lesson);
      return { status: 200, body: { lab: (await lab.credentials()) satisfies ClassLabCredentials } };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/help/:hid/resolve",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      await rt.resolveHelp(ctx.params.hid ?? "");
      return { status: 200, body: { help: rt.help } };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/learners/:lid/ask",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const L = learnerOf(rt, ctx.params.lid);
      rt.ask(L, consentKind(obj(ctx.body).kind));
      return { status: 202, body: rt.learnerView(L) };
    }),
  );
  router.add(
    "DELETE",
    "/api/classes/:id/learners/:lid/grants/:kind",
    wrap(async (ctx) => {
      const rt = await instructor(ctx);
      const L = learnerOf(rt, ctx.params.lid);
      rt.revoke(L, consentKind(ctx.params.kind));
      return { status: 200, body: rt.learnerView(L) };
    }),
  );

  // ------------------------------------------------------------ the learner's own
  const learner = (ctx: RouteContext) => classes.learner(ctx.params.id ?? "", key(ctx));
  router.add(
    "GET",
    "/api/classes/:id/me",
    wrap(async (ctx) => {
      const { rt, L } = await learner(ctx);
      const body: LearnerSelfResponse = { class: rt.publicView(), learnerId: L.rec.id, name: L.rec.name, passed: L.passed };
      return { status: 200, body };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/me/lab",
    wrap(async (ctx) => {
      const { rt, L } = await learner(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const b = obj(ctx.body);
      if (b.fresh === true) await rt.dropLab(L);
      const got = await classes.learnerLab(rt, L, ctx.clientIp);
      // a full server: the learner's place in its queue, as POST /api/labs answers it
      if (got.queued) return { status: 202, body: got.queued, headers: { location: "/api/queue" } };
      return { status: 200, body: { lab: got.lab, freshLab: got.fresh } };
    }),
  );
  router.add(
    "POST",
    "/api/classes/:id/me/steps",
    wrap(async (ctx) => {
      const { rt, L } = await learner(ctx);
      if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
      const { lesson, step } = lessonStep(rt, ctx.body, steps);
      if (!step) throw new ClassError("bad_request", "step is missing.");
      await rt.markDone(L, lesson, step);
      return { status: 200, body: { passed: L.passed } };
    }),
  );
}

/* ------------------------------------------------------------ WebSockets */

const WS_PATH = /^\/api\/classes\/([^/]+)\/(dashboard|learner|broadcast|learners\/([^/]+)\/(watch|drive))$/;

/**
 * The class sockets: the dashboard (instructor key), a learner's control socket and the class
 * broadcast (learner key), watching and driving one learner's terminal (instructor key). Returns
 * the upgrade handler for /api/classes/… paths, or null for other paths.
 */
/** What the class sockets tell the metrics: read-only viewers by kind, and the bytes sent to them. */
export interface ClassMeter {
  viewers(kind: "stage" | "watch", delta: 1 | -1): void;
  viewerBytes(n: number): void;
}

export function classSockets(classes: Classroom, config: Config, meter?: ClassMeter) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const track = keepAlive(wss);

  const refuse = (socket: Duplex, status: number, code: string, message: string) => {
    const body = JSON.stringify({ error: code, message });
    socket.end(`HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  return (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean => {
    const m = WS_PATH.exec(url.pathname);
    // the id rules are lib/ids.ts's; a path with other ids is not a class socket
    if (!m || !isClassId(m[1]) || (m[3] !== undefined && !isLearnerId(m[3]))) return false;
    if (!originAllowed(req, config.allowedOrigins)) {
      refuse(socket, 403, "forbidden", "This origin may not open class sockets.");
      return true;
    }
    const token = bearerToken(req, url.searchParams);
    if (!token) {
      refuse(socket, 401, "unauthorized", "This needs a key (?token=).");
      return true;
    }
    const [, classId, kind, learnerId, what] = m;
    void (async () => {
      try {
        if (kind === "dashboard") {
          const rt = await classes.instructor(classId!, token);
          wss.handleUpgrade(req, socket, head, (ws) => dashboard(ws, rt));
        } else if (kind === "learner") {
          const { rt, L } = await classes.learner(classId!, token);
          wss.handleUpgrade(req, socket, head, (ws) => control(ws, rt, L));
        } else if (kind === "broadcast") {
          // a learner of the class, or its instructor (to see what the class sees)
          const rt = await classes.learner(classId!, token).then(
            (x) => x.rt,
            () => classes.instructor(classId!, token),
          );
          if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
          wss.handleUpgrade(req, socket, head, (ws) => stage(ws, rt));
        } else {
          const rt = await classes.instructor(classId!, token);
          if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
          const L = learnerOf(rt, learnerId);
          if (what === "drive" && !L.grants.takeover) throw new ClassError("no_consent", "The learner has not agreed to a take-over.");
          wss.handleUpgrade(req, socket, head, (ws) => (what === "watch" ? watch(ws, rt, L) : drive(ws, rt, L)));
        }
      } catch (e) {
        const err = httpError(e);
        if (err instanceof HttpError) refuse(socket, err.status, err.code, err.message);
        else {
          console.error("nslab classes: socket failed", e);
          refuse(socket, 500, "internal", "Something went wrong on the server.");
        }
      }
    })();
    return true;
  };

  function sink<M>(ws: WebSocket): Sink<M> {
    return {
      send: (msg) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
      },
      close: (code, reason) => ws.close(code, reason),
    };
  }

  function viewer(ws: WebSocket): Viewer {
    const s = sink<StreamMessage>(ws);
    return {
      ...s,
      sendControl: s.send,
      sendData: (d) => {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(d, { binary: true });
        meter?.viewerBytes(d.length);
      },
      buffered: () => ws.bufferedAmount,
    };
  }

  /** Text frames a read-only socket accepts: ping. Anything else, and any binary frame, is refused. */
  function readOnly(ws: WebSocket, s: Sink<StreamMessage | DashboardMessage>): void {
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        try {
          const m = JSON.parse(data.toString()) as { type?: unknown; t?: unknown };
          if (m && m.type === "ping") return s.send({ type: "pong", t: typeof m.t === "number" ? m.t : 0 } as StreamMessage);
        } catch {}
      }
      s.send({ type: "error", code: "read_only", message: "This stream is read-only: input is refused." });
    });
  }

  function dashboard(ws: WebSocket, rt: ClassRuntime): void {
    track(ws);
    const s = sink<DashboardMessage>(ws);
    readOnly(ws, s);
    const off = rt.addDashboard(s);
    ws.on("close", off);
  }

  function control(ws: WebSocket, rt: ClassRuntime, L: LearnerState): void {
    track(ws);
    const s = sink<LearnerServerMessage>(ws);
    const off = rt.addLearnerSocket(L, s);
    ws.on("close", off);
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return s.send({ type: "error", code: "bad_message", message: "Send JSON text frames." });
      const m = parseLearnerMessage(data.toString());
      if ("error" in m) return s.send({ type: "error", code: "bad_message", message: m.error });
      const fail = (e: unknown) => {
        const err = e instanceof ClassError ? e : null;
        if (!err) console.error("nslab classes: learner message failed", e);
        s.send({ type: "error", code: err?.code ?? "internal", message: err?.message ?? "Something went wrong on the server." });
      };
      if (!rt.open && m.type !== "ping") return s.send({ type: "error", code: "class_ended", message: "This class has ended." });
      switch (m.type) {
        case "position":
          return void rt.position(L, m.lesson, m.step, m.terminal).catch(fail);
        case "hand":
          return void rt.raiseHand(L, m.raised, m.message ?? "").catch(fail);
        case "answer":
          return rt.answer(L, m.kind, m.allow);
        case "revoke":
          return rt.revoke(L, m.kind);
        case "ping":
          return s.send({ type: "pong", t: m.t });
      }
    });
  }

  function stage(ws: WebSocket, rt: ClassRuntime): void {
    track(ws);
    const v = viewer(ws);
    readOnly(ws, v);
    const off = rt.addStageViewer(v);
    meter?.viewers("stage", 1);
    ws.on("close", () => {
      off();
      meter?.viewers("stage", -1);
    });
  }

  function watch(ws: WebSocket, rt: ClassRuntime, L: LearnerState): void {
    track(ws);
    const v = viewer(ws);
    readOnly(ws, v);
    const off = rt.addWatcher(L, v);
    meter?.viewers("watch", 1);
    ws.on("close", () => {
      off();
      meter?.viewers("watch", -1);
    });
  }

  function drive(ws: WebSocket, rt: ClassRuntime, L: LearnerState): void {
    track(ws);
    const s = sink<StreamMessage>(ws);
    let d: ReturnType<ClassRuntime["addDriver"]>;
    try {
      d = rt.addDriver(L, s);
    } catch (e) {
      s.send({ type: "error", code: "no_consent", message: e instanceof Error ? e.message : "no consent" });
      ws.close(CLASS_CLOSE.noConsent, "no consent");
      return;
    }
    ws.on("close", () => d.close());
    ws.on("message", (data: RawData, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        if (!d.input(buf)) s.send({ type: "error", code: "input_refused", message: "The input did not reach the terminal (no consent, no terminal, or over the rate)." });
        return;
      }
      try {
        const m = JSON.parse(buf.toString()) as { type?: unknown; t?: unknown };
        if (m && m.type === "ping") return s.send({ type: "pong", t: typeof m.t === "number" ? m.t : 0 });
      } catch {}
      s.send({ type: "error", code: "bad_message", message: "Send terminal input as binary frames." });
    });
  }
}
