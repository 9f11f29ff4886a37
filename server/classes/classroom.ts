import "server-only";
import {
  CLASS_LESSONS_MAX,
  NAME_MAX,
  TITLE_MAX,
  cleanText,
  isCode,
  normalizeCode,
  type CreateClassRequest,
  type JoinQueuedResponse,
  type JoinResponse,
} from "../../lib/classes.ts";
import { isLessonId } from "../../lib/ids.ts";
import type { ClassLabCredentials } from "../../lib/classes.ts";
import type { QueuedResponse } from "../../lib/protocol.ts";
import { CapacityError } from "../labs/errors.ts";
import type { StreamOptions } from "../terminals/broadcast.ts";
import { ClassError } from "./errors.ts";
import { progressCsv, progressJson, type ExportInput } from "./export.ts";
import type { ClassLab, ClassLabs } from "./labs.ts";
import { RateLimiter } from "./ratelimit.ts";
import { ClassRuntime, LearnerState, type LessonCatalog } from "./runtime.ts";
import { isClassId } from "../../lib/ids.ts";
import { hashKey, keyMatches, learnerIdOfKey, learnerKey, newClassId, newJoinCode, newLearnerId, newSecret } from "./secrets.ts";
import type { ClassRecord, ClassStore } from "./store.ts";

export interface ClassroomOptions {
  /** learners are warned this long before the class's labs are destroyed */
  endWarningMs: number;
  /** ended classes (and their progress) are deleted this long after they ended */
  retentionMs: number;
  /** the most learners a class may be made for */
  maxLearnersCap: number;
  stream: StreamOptions;
  /**
   * Several web replicas (docs/scaling.md, "Classes across web replicas"): a class lives in the
   * one process holding its lease. Then start() resumes no class by itself (adopt() does, on the
   * first request routed here), a new class's lease is taken before anyone hears of it, and an
   * ended class's is given back. Without it (one process) every unfinished class is resumed at start.
   */
  leases?: { claim(id: string): Promise<boolean>; release(id: string): Promise<void> };
}

/**
 * What happens to classes, for the operator's logs and metrics (server/operations.ts). Events carry
 * ids and times, never a join code or a key.
 */
export interface ClassObserver {
  created?(rt: ClassRuntime, clientIp: string): void;
  joined?(rt: ClassRuntime, learnerId: string, rejoined: boolean, clientIp: string): void;
  /** the instructor locked or unlocked joining, or moved the end */
  changed?(rt: ClassRuntime, change: { locked?: boolean; endsAt?: number }): void;
  /** the class's warning went out: its labs go at labsEndAt */
  ending?(rt: ClassRuntime, labsEndAt: number, by: "instructor" | "window"): void;
  ended?(rt: ClassRuntime): void;
}

/**
 * The server's admission (server/admission), as the classroom needs it: a learner's lab now, or a
 * place in the same queue as every learner asking for a lab when the server is full. The class's
 * code (or the learner's key) is the admission, so no per-address cap or rate applies.
 */
export interface ClassAdmission {
  /** `make` runs at once when there is room, else when the ticket reaches the head of the line */
  request(clientIp: string, make: () => Promise<ClassLabCredentials>): Promise<{ kind: "created"; lab: ClassLabCredentials } | { kind: "queued"; queued: QueuedResponse } | { kind: "refused"; message: string }>;
  /** the ticket's place now, while it still waits for its lab (null: made, failed or gone) */
  peek(ticket: string): Promise<QueuedResponse | null>;
}

/** A learner's lab: here it is, or their place in the server's queue. */
export type LearnerLab = { lab: ClassLabCredentials; fresh: boolean; queued?: undefined } | { queued: QueuedResponse; lab?: undefined };

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const DEFAULT_LENGTH = 3 * HOUR;
const MAX_LENGTH = 7 * DAY;
const MAX_AHEAD = 60 * DAY;
/** learners may join this long before the class starts */
const JOIN_EARLY = 30 * 60_000;
const TICK_MS = 1000;

/**
 * Every class of this server: creating and joining them, finding them by key, their windows
 * (warning, then the end), and progress from checks run in class labs. Knows nothing of HTTP:
 * server/http/classes.ts is its adapter. Owner of every ClassRuntime; shutdown() closes them all.
 */
export class Classroom {
  private readonly live = new Map<string, ClassRuntime>();
  /** lab id → its class and learner (null: the instructor's lab) */
  private readonly byLab = new Map<string, { rt: ClassRuntime; learnerId: string | null }>();
  /** failed join attempts, per address and overall: codes cannot be guessed */
  private readonly failures: RateLimiter;
  private readonly allFailures: RateLimiter;
  private readonly creations = new RateLimiter(10, 10);
  private readonly timer: NodeJS.Timeout;
  private ending = new Set<string>();
  private readonly adopting = new Map<string, Promise<ClassRuntime | null>>();
  private closed = false;
  private observers: ClassObserver[] = [];
  private admission: ClassAdmission | null = null;

  private constructor(
    private readonly store: ClassStore,
    private readonly labs: ClassLabs,
    private readonly lessons: LessonCatalog,
    private readonly opts: ClassroomOptions,
  ) {
    this.failures = new RateLimiter(10, 10);
    this.allFailures = new RateLimiter(300, 300);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Opens the classroom: purges old ended classes and resumes the unfinished ones (their labs are gone). */
  static async start(store: ClassStore, labs: ClassLabs, lessons: LessonCatalog, opts: ClassroomOptions): Promise<Classroom> {
    const c = new Classroom(store, labs, lessons, opts);
    await store.purgeEnded(Date.now() - opts.retentionMs);
    if (!opts.leases)
      for (const rec of await store.unfinishedClasses()) {
        const rt = c.runtime(rec);
        await rt.load();
        c.live.set(rec.id, rt);
      }
    await c.tick();
    return c;
  }

  /**
   * This process now holds the class's lease (several web replicas): the class, live here, loaded
   * from the store with the learners' labs that still run; null when it has ended or is unknown.
   * Calls for one class are made one at a time (the same promise while loading).
   */
  adopt(id: string): Promise<ClassRuntime | null> {
    const rt = this.live.get(id);
    if (rt) return Promise.resolve(rt);
    let p = this.adopting.get(id);
    if (!p) {
      p = (async () => {
        const rec = await this.store.getClass(id);
        if (!rec || rec.state === "ended" || this.closed) return null;
        const rt = this.runtime(rec);
        await rt.load();
        if (this.labs.resume)
          await rt.resumeLabs(async (labId) => {
            const lab = await this.labs.resume!(labId);
            if (lab) this.byLab.set(lab.id, { rt, learnerId: [...rt.learners.values()].find((L) => L.rec.labId === labId)?.rec.id ?? null });
            return lab;
          });
        if (this.closed) {
          rt.close();
          return null;
        }
        this.live.set(id, rt);
        return rt;
      })().finally(() => this.adopting.delete(id));
      this.adopting.set(id, p);
    }
    return p;
  }

  /** The class's lease went to another process: it stops here (sockets closed, labs left running). */
  letGo(id: string): void {
    const rt = this.live.get(id);
    if (!rt) return;
    this.live.delete(id);
    this.ending.delete(id);
    for (const [labId, o] of this.byLab) if (o.rt === rt) this.byLab.delete(labId);
    rt.close();
  }

  /** The ids of the classes live in this process (their leases are renewed). */
  liveIds(): string[] {
    return [...this.live.keys()];
  }

  private runtime(rec: ClassRecord): ClassRuntime {
    return new ClassRuntime(rec, {
      store: this.store,
      lessons: this.lessons,
      stream: this.opts.stream,
      makeLab: (rt, lesson, owner) => this.makeLab(rt, lesson, owner),
      labGone: (id) => this.byLab.delete(id),
    });
  }

  private async makeLab(rt: ClassRuntime, lesson: string | null, learnerId: string | null): Promise<ClassLab> {
    let lab: ClassLab;
    try {
      lab = await this.labs.create(lesson, `class:${rt.id}`, labDeadline(rt.rec));
      // the window may have moved while the lab was made (an extension, an early end)
      lab.setDeadline(labDeadline(rt.rec));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      console.error(`nslab classes: a lab for class ${rt.id} could not be made: ${msg}`);
      const err = new ClassError("no_capacity", "No lab could be made for you right now. Try again in a minute.", 60);
      // the server is full after all (a race with another creation): admission keeps the learner in line
      if (e instanceof CapacityError && !e.perClient) Object.assign(err, { capacity: true });
      throw err;
    }
    this.byLab.set(lab.id, { rt, learnerId });
    return lab;
  }

  /** From now on a learner's lab goes through the server's admission: a full server queues them. */
  admitThrough(a: ClassAdmission): void {
    this.admission = a;
  }

  /**
   * The learner's running lab, or a fresh one made now (with the current lesson's setup run), or,
   * when the server is full, their place in its queue: the lab is made and becomes theirs when
   * their turn comes (they poll the ticket, GET /api/queue, and find it there). Asking again while
   * waiting gives the same place.
   */
  async learnerLab(rt: ClassRuntime, L: LearnerState, clientIp: string): Promise<LearnerLab> {
    const a = this.admission;
    if (!a || L.lab?.running || L.labMaking) {
      const { lab, fresh } = await rt.labFor(L);
      return { lab: await lab.credentials(), fresh };
    }
    if (L.labTicket) {
      const queued = await a.peek(L.labTicket);
      if (queued) return { queued };
      L.labTicket = null;
      if (L.lab?.running) return { lab: await L.lab.credentials(), fresh: false };
    }
    const out = await a.request(clientIp, async () => {
      const { lab } = await rt.labFor(L);
      return lab.credentials();
    });
    if (out.kind === "refused") throw new ClassError("no_capacity", out.message, 300);
    if (out.kind === "created") return { lab: out.lab, fresh: true };
    L.labTicket = out.queued.ticket;
    return { queued: out.queued };
  }

  get classes(): number {
    return this.live.size;
  }

  observe(o: ClassObserver): void {
    this.observers.push(o);
  }

  private emit<K extends keyof ClassObserver>(event: K, ...args: Parameters<NonNullable<ClassObserver[K]>>): void {
    for (const o of this.observers) {
      try {
        (o[event] as ((...a: typeof args) => void) | undefined)?.(...args);
      } catch {}
    }
  }

  /** Live classes by state, and the learners they hold (metrics). */
  stats(): { open: number; ending: number; learners: number } {
    const out = { open: 0, ending: 0, learners: 0 };
    for (const rt of this.live.values()) {
      if (rt.rec.state === "ending") out.ending++;
      else out.open++;
      out.learners += rt.learners.size;
    }
    return out;
  }

  /**
   * Is this the join code of a live class? In access mode "code" a class join is a learner's
   * admission (server/access's "class" verifier): the class's code stands in for a workshop code.
   */
  hasCode(code: string): boolean {
    const c = normalizeCode(code);
    return isCode(c) && [...this.live.values()].some((r) => r.rec.code === c);
  }

  /* ------------------------------------------------------------ creating and finding classes */

  async create(body: unknown, clientIp: string, now = Date.now()): Promise<{ rt: ClassRuntime; instructorKey: string }> {
    if (this.closed) throw new ClassError("no_capacity", "The server is shutting down.");
    if (!this.creations.take(clientIp)) throw new ClassError("rate_limited", "Too many classes made from this address; try again in a minute.", this.creations.retryAfter(clientIp));
    const req = parseCreate(body, this.lessons, this.opts.maxLearnersCap, now);
    const instructorKey = newSecret();
    for (let attempt = 0; ; attempt++) {
      const rec: ClassRecord = {
        id: newClassId(),
        code: newJoinCode(),
        title: req.title,
        lessons: req.lessons,
        startsAt: req.startsAt,
        endsAt: req.endsAt,
        createdAt: now,
        state: "open",
        locked: false,
        maxLearners: req.maxLearners,
        instructorKeyHash: hashKey(instructorKey),
        labsEndAt: null,
        endedAt: null,
        follow: null,
      };
      try {
        await this.store.createClass(rec);
      } catch (e) {
        if (attempt < 5 && (await this.store.classByCode(rec.code))) continue; // a code taken already: draw another
        throw e;
      }
      // several replicas: the class is this one's before anyone can ask another about it
      if (this.opts.leases && !(await this.opts.leases.claim(rec.id))) throw new ClassError("no_capacity", "The class could not be set up; try again.");
      const rt = this.runtime(rec);
      this.live.set(rec.id, rt);
      this.emit("created", rt, clientIp);
      return { rt, instructorKey };
    }
  }

  /** The class, if this is its instructor key; not_found for a wrong key or an unknown class alike. */
  async instructor(id: string, key: string | null): Promise<ClassRuntime> {
    const rt = await this.find(id);
    if (!rt || !keyMatches(key, rt.rec.instructorKeyHash)) throw new ClassError("not_found", "No such class, or the key does not belong to it.");
    return rt;
  }

  /** The class and the learner this key belongs to. */
  async learner(id: string, key: string | null): Promise<{ rt: ClassRuntime; L: LearnerState }> {
    const rt = await this.find(id);
    const lid = key ? learnerIdOfKey(key) : null;
    const L = lid ? rt?.learners.get(lid) : undefined;
    if (!rt || !L || !keyMatches(key, L.rec.keyHash)) throw new ClassError("not_found", "No such class, or the key does not belong to a learner of it.");
    return { rt, L };
  }

  private async find(id: string): Promise<ClassRuntime | null> {
    if (!isClassId(id)) return null;
    const rt = this.live.get(id);
    if (rt) return rt;
    // an ended class: read-only (roster and export), loaded from the store each time
    const rec = await this.store.getClass(id);
    if (!rec) return null;
    const ended = this.runtime(rec);
    await ended.load();
    ended.dispose();
    return ended;
  }

  /* ------------------------------------------------------------ joining */

  /** A join that must end with a lab now (in-process callers): a full server answers no_capacity (the learner keeps their place). */
  async join(body: unknown, clientIp: string): Promise<JoinResponse & { rejoined: boolean }> {
    const r = await this.joinOrQueue(body, clientIp);
    if ("queued" in r) throw new ClassError("no_capacity", "The server is full: you are in the queue for a lab.", 60);
    return r;
  }

  /** A join: the learner is in the class, with their lab, or (the server is full) with a place in its queue for one. */
  async joinOrQueue(body: unknown, clientIp: string): Promise<(JoinResponse | JoinQueuedResponse) & { rejoined: boolean }> {
    const b = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!["code", "name", "key"].includes(k)) throw new ClassError("bad_request", `Unknown field "${k.slice(0, 40)}".`);
    if (typeof b.code !== "string") throw new ClassError("bad_request", "code is missing.");
    // a guesser who used up their attempts learns nothing more, right or wrong
    const wait = Math.max(this.failures.retryAfter(clientIp), this.allFailures.retryAfter("*"));
    if (wait > 0) throw new ClassError("rate_limited", `Too many attempts with wrong codes. Try again in ${wait} s.`, wait);
    const code = normalizeCode(b.code);
    const rt = isCode(code) ? [...this.live.values()].find((r) => r.rec.code === code) : undefined;
    if (!rt) {
      this.failures.take(clientIp);
      this.allFailures.take("*");
      const ended = isCode(code) ? await this.store.classByCode(code) : null;
      if (ended) throw new ClassError("class_ended", "This class has ended.");
      throw new ClassError("not_found", "There is no class with this code. Check it and try again.");
    }
    const now = Date.now();

    // the learner's own key: the same learner, and their lab if it still runs
    const key = typeof b.key === "string" ? b.key : null;
    const lid = key ? learnerIdOfKey(key) : null;
    const known = lid ? rt.learners.get(lid) : undefined;
    let L: LearnerState;
    let rejoined = false;
    let newKey: string;
    if (known && keyMatches(key, known.rec.keyHash)) {
      L = known;
      rejoined = true;
      newKey = key!;
      L.rec.lastSeenAt = now;
      await this.store.updateLearner(rt.id, L.rec.id, { lastSeenAt: now });
    } else {
      if (rt.rec.state !== "open") throw new ClassError("class_ended", "This class is ending; joining is closed.");
      if (now < rt.rec.startsAt - JOIN_EARLY)
        throw new ClassError("not_started", `This class opens for joining at ${new Date(rt.rec.startsAt - JOIN_EARLY).toISOString()}.`);
      if (rt.rec.locked) throw new ClassError("class_locked", "The instructor has closed this class to new learners.");
      if (rt.learners.size >= rt.rec.maxLearners) throw new ClassError("class_full", "This class is full.");
      const name = cleanText(b.name, NAME_MAX);
      if (!name) throw new ClassError("bad_request", `Give a display name (1 to ${NAME_MAX} characters).`);
      const id = newLearnerId();
      newKey = learnerKey(id);
      const rec = { id, classId: rt.id, name: uniqueName(rt, name), keyHash: hashKey(newKey), joinedAt: now, lastSeenAt: now, lesson: null, step: null, stepSince: null, labId: null };
      await this.store.addLearner(rec);
      L = new LearnerState(rec);
      rt.learners.set(id, L);
      rt.classChanged();
    }
    const got = await this.learnerLab(rt, L, clientIp);
    rt.touch(L);
    this.emit("joined", rt, L.rec.id, rejoined, clientIp);
    const me = { classId: rt.id, learnerId: L.rec.id, key: newKey, name: L.rec.name, rejoined };
    if (got.queued) return { ...me, lab: null, freshLab: false, queued: got.queued };
    return { ...me, lab: got.lab, freshLab: got.fresh };
  }

  /* ------------------------------------------------------------ the instructor's controls */

  async update(rt: ClassRuntime, body: unknown, now = Date.now()): Promise<void> {
    if (!rt.open) throw new ClassError("class_ended", "This class has ended.");
    const b = (typeof body === "object" && body !== null && !Array.isArray(body) ? body : null) as Record<string, unknown> | null;
    if (!b) throw new ClassError("bad_request", "Send a JSON object.");
    for (const k of Object.keys(b)) if (!["locked", "endsAt", "title"].includes(k)) throw new ClassError("bad_request", `Unknown field "${k.slice(0, 40)}".`);
    const patch: Partial<ClassRecord> = {};
    if (b.locked !== undefined) {
      if (typeof b.locked !== "boolean") throw new ClassError("bad_request", "locked must be true or false.");
      patch.locked = b.locked;
    }
    if (b.title !== undefined) {
      const title = cleanText(b.title, TITLE_MAX);
      if (!title) throw new ClassError("bad_request", "title cannot be empty.");
      patch.title = title;
    }
    if (b.endsAt !== undefined) {
      const endsAt = time(b.endsAt, "endsAt");
      if (endsAt <= now + this.opts.endWarningMs) throw new ClassError("bad_request", "endsAt must be later than the end warning from now; to end now, DELETE the class.");
      if (endsAt - rt.rec.startsAt > MAX_LENGTH) throw new ClassError("bad_request", "A class lasts at most 7 days.");
      patch.endsAt = endsAt;
      if (rt.rec.state === "ending" && !this.ending.has(rt.id)) {
        // extended during the warning of a scheduled end: the class goes on
        patch.state = "open";
        patch.labsEndAt = null;
      }
    }
    await this.store.updateClass(rt.id, patch);
    Object.assign(rt.rec, patch);
    if (patch.endsAt !== undefined) rt.setLabDeadline(labDeadline(rt.rec));
    rt.classChanged();
    if (patch.locked !== undefined || patch.endsAt !== undefined) this.emit("changed", rt, { locked: patch.locked, endsAt: patch.endsAt });
  }

  /** Ends the class: learners are warned, and after the warning every class lab is destroyed. */
  async end(rt: ClassRuntime, warningMs = this.opts.endWarningMs): Promise<void> {
    if (!rt.open) return;
    this.ending.add(rt.id);
    const labsEndAt = Date.now() + Math.max(0, warningMs);
    if (rt.rec.state === "ending" && rt.rec.labsEndAt !== null && rt.rec.labsEndAt <= labsEndAt) return;
    rt.rec.state = "ending";
    rt.rec.labsEndAt = labsEndAt;
    await this.store.updateClass(rt.id, { state: "ending", labsEndAt });
    rt.setLabDeadline(labsEndAt);
    rt.announceEnding();
    this.emit("ending", rt, labsEndAt, "instructor");
    if (warningMs <= 0) await this.tick();
  }

  /** Each second: warnings for windows about to close, and the end of classes whose time has come. */
  private async tick(): Promise<void> {
    const now = Date.now();
    for (const rt of [...this.live.values()]) {
      const r = rt.rec;
      if (r.state === "open" && now >= r.endsAt - this.opts.endWarningMs) {
        r.state = "ending";
        r.labsEndAt = Math.max(r.endsAt, now);
        await this.store.updateClass(r.id, { state: "ending", labsEndAt: r.labsEndAt });
        rt.setLabDeadline(r.labsEndAt);
        rt.announceEnding();
        this.emit("ending", rt, r.labsEndAt, "window");
      } else if (r.state === "ending" && r.labsEndAt !== null && now >= r.labsEndAt) {
        await this.finish(rt);
      }
    }
  }

  private async finish(rt: ClassRuntime): Promise<void> {
    if (!this.live.delete(rt.id)) return;
    this.ending.delete(rt.id);
    rt.rec.state = "ended";
    rt.rec.endedAt = Date.now();
    await this.store.updateClass(rt.id, { state: "ended", endedAt: rt.rec.endedAt });
    await rt.end();
    await this.opts.leases?.release(rt.id).catch(() => {});
    this.emit("ended", rt);
  }

  /* ------------------------------------------------------------ progress */

  /** A check (or solution) ran in a lab; if it is a class lab, it is the learner's progress. */
  async checkRan(labId: string, lesson: string, step: string, r: { passed: boolean; feedback: string }, kind: "check" | "solve"): Promise<void> {
    const owner = this.byLab.get(labId);
    if (!owner || owner.learnerId === null || !owner.rt.open) return;
    const L = owner.rt.learners.get(owner.learnerId);
    if (L) await owner.rt.recordCheck(L, lesson, step, r.passed, kind, r.feedback);
  }

  async export(rt: ClassRuntime, format: "csv" | "json"): Promise<string | unknown> {
    const input: ExportInput = {
      class: rt.rec,
      learners: [...rt.learners.values()].map((L) => ({ id: L.rec.id, name: L.rec.name, joinedAt: L.rec.joinedAt, passed: L.passed, checks: L.checks, failedChecks: L.failed })),
      steps: (l) => this.lessons.steps(l)?.map((s) => s.id) ?? [],
    };
    return format === "csv" ? progressCsv(input) : progressJson(input);
  }

  /** Server shutdown: classes stay in the store and resume on the next start. */
  async shutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const rt of this.live.values()) rt.close();
    // several replicas: the next request for these classes makes another replica their owner now
    if (this.opts.leases) await Promise.allSettled([...this.live.keys()].map((id) => this.opts.leases!.release(id)));
    this.live.clear();
    this.byLab.clear();
    await this.store.close();
  }
}

/**
 * When a class's labs are put away: the end of its window, or, once it is ending, the time its
 * warning named. Each class lab carries it as its lifetime deadline (LabManager.setLifetime), so
 * the lab manager and the class agree on the end.
 */
function labDeadline(rec: ClassRecord): number {
  return rec.state === "ending" && rec.labsEndAt !== null ? rec.labsEndAt : rec.endsAt;
}

function uniqueName(rt: ClassRuntime, name: string): string {
  const taken = new Set([...rt.learners.values()].map((L) => L.rec.name.toLowerCase()));
  if (!taken.has(name.toLowerCase())) return name;
  for (let n = 2; ; n++) {
    const candidate = `${name.slice(0, NAME_MAX - 4)} (${n})`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}

function time(v: unknown, field: string): number {
  const t = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
  if (!Number.isFinite(t) || t < 0) throw new ClassError("bad_request", `${field} must be an ISO time or milliseconds since 1970.`);
  return Math.round(t);
}

function parseCreate(body: unknown, lessons: LessonCatalog, cap: number, now: number): Required<Omit<CreateClassRequest, "startsAt" | "endsAt" | "accessCode">> & { startsAt: number; endsAt: number } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ClassError("bad_request", "Send a JSON object.");
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!["title", "lessons", "startsAt", "endsAt", "maxLearners"].includes(k)) throw new ClassError("bad_request", `Unknown field "${k.slice(0, 40)}".`);
  const title = cleanText(b.title, TITLE_MAX);
  if (!title) throw new ClassError("bad_request", `title is required (1 to ${TITLE_MAX} characters).`);
  if (!Array.isArray(b.lessons) || b.lessons.length < 1 || b.lessons.length > CLASS_LESSONS_MAX)
    throw new ClassError("bad_request", `lessons must list 1 to ${CLASS_LESSONS_MAX} lesson ids.`);
  const ids: string[] = [];
  for (const l of b.lessons) {
    if (!isLessonId(l)) throw new ClassError("bad_request", "lessons must be lesson ids.");
    if (!lessons.exists(l)) throw new ClassError("unknown_lesson", `There is no lesson "${l}".`);
    if (!ids.includes(l)) ids.push(l);
  }
  const startsAt = b.startsAt === undefined || b.startsAt === null ? now : time(b.startsAt, "startsAt");
  const endsAt = b.endsAt === undefined || b.endsAt === null ? startsAt + DEFAULT_LENGTH : time(b.endsAt, "endsAt");
  if (startsAt > now + MAX_AHEAD) throw new ClassError("bad_request", "startsAt may be at most 60 days ahead.");
  if (endsAt <= startsAt) throw new ClassError("bad_request", "endsAt must be after startsAt.");
  if (endsAt <= now) throw new ClassError("bad_request", "endsAt must be in the future.");
  if (endsAt - startsAt > MAX_LENGTH) throw new ClassError("bad_request", "A class lasts at most 7 days.");
  let maxLearners = Math.min(100, cap);
  if (b.maxLearners !== undefined) {
    if (typeof b.maxLearners !== "number" || !Number.isInteger(b.maxLearners) || b.maxLearners < 1 || b.maxLearners > cap)
      throw new ClassError("bad_request", `maxLearners must be a whole number from 1 to ${cap}.`);
    maxLearners = b.maxLearners;
  }
  return { title, lessons: ids, startsAt, endsAt, maxLearners };
}
