import "server-only";
import {
  CLASS_CLOSE,
  type ClassPublicView,
  type ClassView,
  type ConsentKind,
  type DashboardMessage,
  type HelpRequest,
  type LabHealth,
  type LearnerServerMessage,
  type LearnerView,
  type StageInfo,
  type StepPass,
  type StreamMessage,
} from "../../lib/classes.ts";
import { TerminalStream, type StreamOptions, type StreamViewer } from "../terminals/broadcast.ts";
import { ClassError } from "./errors.ts";
import type { ClassLab, ClassTerminal as Terminal } from "./labs.ts";
import { newHelpId } from "./secrets.ts";
import type { ClassRecord, ClassStore, LearnerRecord } from "./store.ts";

/** A connection the classroom talks to (a WebSocket, in the server). */
export interface Sink<M> {
  send(msg: M): void;
  close(code: number, reason: string): void;
}
/** A read-only terminal viewer that can also be told about the stream (source, off air). */
export type Viewer = StreamViewer & Sink<StreamMessage>;

export interface LessonCatalog {
  exists(id: string): boolean;
  steps(id: string): { id: string; hasCheck: boolean }[] | null;
}

export interface RuntimeDeps {
  store: ClassStore;
  lessons: LessonCatalog;
  stream: StreamOptions;
  /** makes a lab for a learner or the instructor (the Classroom counts it against the class) */
  makeLab(rt: ClassRuntime, lesson: string | null, owner: string | null): Promise<ClassLab>;
  labGone(labId: string): void;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const PUSH_MS = 100;
const ACTIVITY_PUSH_MS = 5_000;
const HEALTH_POLL_MS = 5_000;
const MiB = 1024 * 1024;

export class LearnerState {
  passed: StepPass[] = [];
  checks = 0;
  failed = 0;
  lastCheckAt: number | null = null;
  lab: ClassLab | null = null;
  labOff: (() => void) | null = null;
  labMaking: Promise<ClassLab> | null = null;
  /** the learner's place in the server's queue for a lab (the server was full), while it waits */
  labTicket: string | null = null;
  lastActivity: number;
  pushedActivity = 0;
  hand: { id: string; message: string; at: number } | null = null;
  grants = { takeover: false, broadcast: false };
  pending = { takeover: false, broadcast: false };
  terminal: string | null = null;
  readonly sockets = new Set<Sink<LearnerServerMessage>>();
  readonly watchers = new Set<Viewer>();
  readonly drivers = new Set<Sink<StreamMessage>>();
  health: LabHealth | null = null;

  constructor(public rec: LearnerRecord) {
    this.lastActivity = rec.lastSeenAt;
  }

  send(msg: LearnerServerMessage): void {
    for (const s of this.sockets) s.send(msg);
  }
}

/**
 * One class, live: its learners with their labs and sockets, the instructor's dashboards, the
 * broadcast stage, the streams watchers look at, and its timers. It owns every one of them and
 * releases them in end() (labs destroyed, sockets closed, streams disposed) or close() (server
 * shutdown: the class stays in the store and resumes on the next start).
 */
export class ClassRuntime {
  readonly learners = new Map<string, LearnerState>();
  private readonly dashboards = new Set<Sink<DashboardMessage>>();
  private readonly streams = new Map<Terminal, { stream: TerminalStream; viewers: Set<Viewer> }>();
  private readonly viewing = new Map<Viewer, Terminal>();
  private readonly stageViewers = new Set<Viewer>();
  stage: { source: "instructor" | "learner" | null; learnerId: string | null; terminal: string | null } = { source: null, learnerId: null, terminal: null };
  instructor: { lab: ClassLab | null; making: Promise<ClassLab> | null; off: (() => void) | null } = { lab: null, making: null, off: null };
  private readonly dirty = new Set<string>();
  private pushTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  help: HelpRequest[] = [];
  private closed = false;

  constructor(
    public rec: ClassRecord,
    private readonly deps: RuntimeDeps,
  ) {}

  /** Loads learners, progress and open help requests from the store. */
  async load(): Promise<void> {
    const [learners, passes, counts, help] = await Promise.all([
      this.deps.store.learners(this.rec.id),
      this.deps.store.passes(this.rec.id),
      this.deps.store.checkCounts(this.rec.id),
      this.deps.store.openHelp(this.rec.id),
    ]);
    for (const l of learners) this.learners.set(l.id, new LearnerState(l));
    for (const p of passes) this.learners.get(p.learnerId)?.passed.push({ lesson: p.lesson, step: p.step, at: iso(p.at)!, via: p.via });
    for (const c of counts) {
      const L = this.learners.get(c.learnerId);
      if (!L) continue;
      L.checks = c.checks;
      L.failed = c.failed;
      L.lastCheckAt = c.lastAt;
    }
    for (const h of help) {
      const L = this.learners.get(h.learnerId);
      if (!L) continue;
      L.hand = { id: h.id, message: h.message, at: h.raisedAt };
    }
    this.rebuildHelp();
  }

  get id(): string {
    return this.rec.id;
  }
  get open(): boolean {
    return this.rec.state !== "ended" && !this.closed;
  }

  /* ------------------------------------------------------------ views */

  publicView(): ClassPublicView {
    const r = this.rec;
    return {
      id: r.id,
      title: r.title,
      lessons: r.lessons,
      startsAt: iso(r.startsAt)!,
      endsAt: iso(r.endsAt)!,
      state: r.state,
      locked: r.locked,
      labsEndAt: iso(r.labsEndAt),
      follow: r.follow ? { lesson: r.follow.lesson, step: r.follow.step, at: iso(r.follow.at)! } : null,
    };
  }

  view(): ClassView {
    return { ...this.publicView(), code: this.rec.code, createdAt: iso(this.rec.createdAt)!, maxLearners: this.rec.maxLearners, learners: this.learners.size, stage: this.stageInfo() };
  }

  stageInfo(): StageInfo {
    const s = this.stage;
    const live = s.source !== null && this.stageTerminal() !== null;
    const L = s.learnerId ? this.learners.get(s.learnerId) : undefined;
    return { live, source: s.source, learnerId: s.source === "learner" ? s.learnerId : null, name: s.source === "learner" ? (L?.rec.name ?? null) : null };
  }

  learnerView(L: LearnerState): LearnerView {
    const lab = L.lab;
    const h = L.health ?? (lab ? lab.health() : null);
    return {
      id: L.rec.id,
      name: L.rec.name,
      joinedAt: iso(L.rec.joinedAt)!,
      online: L.sockets.size > 0,
      lesson: L.rec.lesson,
      step: L.rec.step,
      stepSince: iso(L.rec.stepSince),
      passed: L.passed,
      checks: L.checks,
      failedChecks: L.failed,
      lastCheckAt: iso(L.lastCheckAt),
      lastActivity: iso(L.lastActivity),
      hand: L.hand ? { message: L.hand.message, at: iso(L.hand.at)! } : null,
      lab: lab && h ? { id: lab.id, ...h, alive: lab.running } : null,
      watchers: L.watchers.size,
      grants: { ...L.grants },
      pending: { ...L.pending },
    };
  }

  roster(): { class: ClassView; learners: LearnerView[]; help: HelpRequest[]; now: string } {
    return { class: this.view(), learners: [...this.learners.values()].map((L) => this.learnerView(L)), help: this.help, now: new Date().toISOString() };
  }

  private rebuildHelp(): void {
    this.help = [...this.learners.values()]
      .filter((L) => L.hand)
      .map((L) => ({ id: L.hand!.id, learnerId: L.rec.id, name: L.rec.name, message: L.hand!.message, at: iso(L.hand!.at)! }))
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /* ------------------------------------------------------------ dashboard */

  addDashboard(s: Sink<DashboardMessage>): () => void {
    this.dashboards.add(s);
    s.send({ type: "roster", ...this.roster() });
    if (!this.healthTimer && this.open) {
      this.healthTimer = setInterval(() => this.pollHealth(), HEALTH_POLL_MS);
      this.healthTimer.unref();
    }
    return () => {
      this.dashboards.delete(s);
      if (!this.dashboards.size && this.healthTimer) {
        clearInterval(this.healthTimer);
        this.healthTimer = null;
      }
    };
  }

  private toDashboards(msg: DashboardMessage): void {
    for (const d of this.dashboards) d.send(msg);
  }

  /** A learner's row changed: pushed to dashboards within PUSH_MS, gathered with other changes. */
  touch(L: LearnerState): void {
    this.dirty.add(L.rec.id);
    if (this.pushTimer || !this.dashboards.size) {
      if (!this.dashboards.size) this.dirty.clear();
      return;
    }
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      const rows = [...this.dirty].flatMap((id) => {
        const x = this.learners.get(id);
        return x ? [this.learnerView(x)] : [];
      });
      this.dirty.clear();
      if (rows.length) this.toDashboards({ type: "learners", learners: rows, now: new Date().toISOString() });
    }, PUSH_MS);
  }

  classChanged(): void {
    this.toDashboards({ type: "class", class: this.view() });
    const pub = this.publicView();
    for (const L of this.learners.values()) L.send({ type: "class", class: pub });
  }

  private pollHealth(): void {
    for (const L of this.learners.values()) {
      if (!L.lab) continue;
      const h = L.lab.health();
      const prev = L.health;
      L.health = h;
      const mb = (x: number | null) => (x === null ? null : Math.round(x / MiB));
      if (!prev || prev.alive !== h.alive || prev.pids !== h.pids || mb(prev.memoryBytes) !== mb(h.memoryBytes)) this.touch(L);
    }
  }

  /* ------------------------------------------------------------ learners */

  /** The learner's running lab, or a fresh one (with the current lesson's setup run). */
  async labFor(L: LearnerState): Promise<{ lab: ClassLab; fresh: boolean }> {
    if (L.lab?.running) return { lab: L.lab, fresh: false };
    if (!L.labMaking) {
      const lesson = L.rec.lesson ?? this.rec.follow?.lesson ?? this.rec.lessons[0] ?? null;
      L.labMaking = this.deps
        .makeLab(this, lesson, L.rec.id)
        .then(async (lab) => {
          if (!this.open) {
            await lab.destroy().catch(() => {});
            throw new ClassError("class_ended", "This class has ended.");
          }
          this.setLearnerLab(L, lab);
          await this.deps.store.updateLearner(this.id, L.rec.id, { labId: lab.id });
          L.rec.labId = lab.id;
          return lab;
        })
        .finally(() => (L.labMaking = null));
    }
    return { lab: await L.labMaking, fresh: true };
  }

  /** The learner's reset: their lab is destroyed (labFor makes the next one). */
  async dropLab(L: LearnerState): Promise<void> {
    const lab = L.lab;
    if (!lab) return;
    this.learnerLabGone(L);
    await lab.destroy();
  }

  /** The class moved here from another process: learners' labs that still run are theirs again. */
  async resumeLabs(resume: (labId: string) => Promise<ClassLab | null>): Promise<void> {
    await Promise.all(
      [...this.learners.values()].map(async (L) => {
        if (!L.rec.labId || L.lab) return;
        const lab = await resume(L.rec.labId).catch(() => null);
        if (lab && this.open) this.setLearnerLab(L, lab);
      }),
    );
  }

  private setLearnerLab(L: LearnerState, lab: ClassLab): void {
    L.labOff?.();
    L.lab = lab;
    L.health = null;
    L.terminal = null;
    L.labOff = lab.onChange(() => {
      if (!lab.running) {
        if (L.lab === lab) this.learnerLabGone(L);
        return;
      }
      const now = Date.now();
      L.lastActivity = now;
      if (now - L.pushedActivity > ACTIVITY_PUSH_MS) {
        L.pushedActivity = now;
        this.touch(L);
      }
    });
    this.touch(L);
  }

  private learnerLabGone(L: LearnerState): void {
    const lab = L.lab;
    L.labOff?.();
    L.labOff = null;
    L.lab = null;
    L.health = null;
    L.terminal = null;
    if (lab) this.deps.labGone(lab.id);
    for (const k of ["takeover", "broadcast"] as const) this.revoke(L, k, false);
    this.refreshWatch(L);
    this.refreshStage();
    this.touch(L);
  }

  /** Where the learner's page is; a new step starts its "time on step" clock. */
  async position(L: LearnerState, lesson: string, step: string | null, terminal: string | null): Promise<void> {
    if (!this.rec.lessons.includes(lesson) && !this.deps.lessons.exists(lesson)) return;
    const steps = this.deps.lessons.steps(lesson);
    if (step && !steps?.some((s) => s.id === step)) step = null;
    const now = Date.now();
    const moved = L.rec.lesson !== lesson || L.rec.step !== step;
    if (moved) {
      L.rec.lesson = lesson;
      L.rec.step = step;
      L.rec.stepSince = now;
    }
    L.rec.lastSeenAt = now;
    L.lastActivity = now;
    if (moved) await this.deps.store.updateLearner(this.id, L.rec.id, { lesson, step, stepSince: now, lastSeenAt: now });
    if (terminal !== L.terminal) {
      L.terminal = terminal;
      this.refreshWatch(L);
      if (this.stage.source === "learner" && this.stage.learnerId === L.rec.id) this.refreshStage();
    }
    if (L.lab && moved) await L.lab.setupFor(lesson).catch((e) => console.error("nslab classes: lesson setup failed:", e instanceof Error ? e.message : e));
    this.touch(L);
  }

  /** A check ran in this learner's lab (or a solution); the first pass of a step is progress. */
  async recordCheck(L: LearnerState, lesson: string, step: string, passed: boolean, kind: "check" | "solve", feedback: string): Promise<void> {
    const at = Date.now();
    const { firstPass } = await this.deps.store.recordCheck({ classId: this.id, learnerId: L.rec.id, lesson, step, at, passed, kind, feedback: feedback.slice(0, 300) });
    L.checks++;
    if (!passed) L.failed++;
    L.lastCheckAt = at;
    L.lastActivity = at;
    if (firstPass) this.passed(L, { lesson, step, at: iso(at)!, via: kind });
    this.touch(L);
  }

  /** A step without a check, marked done by the learner. */
  async markDone(L: LearnerState, lesson: string, step: string): Promise<void> {
    const s = this.deps.lessons.steps(lesson)?.find((x) => x.id === step);
    if (!s) throw new ClassError("unknown_step", "That lesson has no such step.");
    if (s.hasCheck) throw new ClassError("bad_request", "This step has a check: it passes when its check does.");
    const at = Date.now();
    const { firstPass } = await this.deps.store.recordPass(this.id, L.rec.id, { lesson, step, at, via: "manual" });
    if (firstPass) this.passed(L, { lesson, step, at: iso(at)!, via: "manual" });
  }

  private passed(L: LearnerState, pass: StepPass): void {
    L.passed.push(pass);
    // the next step's clock starts now, if the learner is on this lesson
    if (L.rec.lesson === pass.lesson) {
      const steps = this.deps.lessons.steps(pass.lesson) ?? [];
      const done = new Set(L.passed.filter((p) => p.lesson === pass.lesson).map((p) => p.step));
      const next = steps.find((s) => !done.has(s.id))?.id ?? null;
      if (L.rec.step === pass.step || L.rec.step === null) {
        L.rec.step = next;
        L.rec.stepSince = Date.parse(pass.at);
        void this.deps.store.updateLearner(this.id, L.rec.id, { step: next, stepSince: L.rec.stepSince });
      }
    }
    L.send({ type: "passed", pass });
    this.touch(L);
  }

  async raiseHand(L: LearnerState, raised: boolean, message: string): Promise<void> {
    if (raised) {
      if (L.hand) {
        L.hand.message = message || L.hand.message;
      } else {
        const h = { id: newHelpId(), message, at: Date.now() };
        await this.deps.store.addHelp({ id: h.id, classId: this.id, learnerId: L.rec.id, message, raisedAt: h.at, resolvedAt: null });
        L.hand = h;
      }
    } else if (L.hand) {
      await this.deps.store.resolveHelp(this.id, L.hand.id, Date.now());
      L.hand = null;
    }
    L.send({ type: "hand", raised: L.hand !== null, message: L.hand?.message ?? "" });
    this.rebuildHelp();
    this.toDashboards({ type: "help", help: this.help });
    this.touch(L);
  }

  async resolveHelp(helpId: string): Promise<void> {
    const L = [...this.learners.values()].find((x) => x.hand?.id === helpId);
    if (!L) throw new ClassError("not_found", "No such open help request.");
    await this.raiseHand(L, false, "");
  }

  addLearnerSocket(L: LearnerState, s: Sink<LearnerServerMessage>): () => void {
    L.sockets.add(s);
    s.send({ type: "class", class: this.publicView() });
    s.send({ type: "watchers", count: L.watchers.size });
    s.send({ type: "grants", ...L.grants });
    s.send({ type: "stage", stage: this.stageInfo() });
    s.send({ type: "hand", raised: L.hand !== null, message: L.hand?.message ?? "" });
    if (this.rec.follow) s.send({ type: "follow", follow: this.publicView().follow! });
    for (const k of ["takeover", "broadcast"] as const) if (L.pending[k]) s.send({ type: "request", kind: k });
    if (this.rec.state === "ending" && this.rec.labsEndAt) s.send({ type: "ending", labsEndAt: iso(this.rec.labsEndAt)! });
    if (L.sockets.size === 1) this.touch(L);
    return () => {
      L.sockets.delete(s);
      if (!L.sockets.size) this.touch(L);
    };
  }

  /* ------------------------------------------------------------ consent: take over, broadcast */

  /** The instructor asks; the learner's page shows a prompt. */
  ask(L: LearnerState, kind: ConsentKind): void {
    if (!L.lab) throw new ClassError("conflict", "This learner has no lab right now.");
    if (L.grants[kind]) return;
    L.pending[kind] = true;
    L.send({ type: "request", kind });
    this.touch(L);
  }

  answer(L: LearnerState, kind: ConsentKind, allow: boolean): void {
    if (!L.pending[kind]) return; // nobody asked: a page cannot grant on its own
    L.pending[kind] = false;
    L.grants[kind] = allow;
    L.send({ type: "grants", ...L.grants });
    this.toDashboards({ type: "answer", learnerId: L.rec.id, kind, allow });
    if (kind === "takeover") for (const d of L.drivers) d.send({ type: "control", granted: allow });
    this.touch(L);
  }

  /** The learner (or the instructor) ends a consent: drivers are cut off, the stage goes back to the instructor. */
  revoke(L: LearnerState, kind: ConsentKind, notify = true): void {
    const had = L.grants[kind] || L.pending[kind];
    L.grants[kind] = false;
    L.pending[kind] = false;
    if (kind === "takeover") {
      for (const d of [...L.drivers]) {
        d.send({ type: "off", reason: "revoked" });
        d.close(CLASS_CLOSE.noConsent, "take-over ended");
      }
      L.drivers.clear();
    } else if (this.stage.source === "learner" && this.stage.learnerId === L.rec.id) {
      this.setStage({ source: this.instructor.lab ? "instructor" : null, learnerId: null, terminal: null });
    }
    if (had && notify) {
      L.send({ type: "grants", ...L.grants });
      this.touch(L);
    }
  }

  /** Input from the instructor into the learner's terminal: only with the learner's consent. */
  addDriver(L: LearnerState, s: Sink<StreamMessage>): { input(data: Buffer): boolean; close(): void } {
    if (!L.grants.takeover) throw new ClassError("no_consent", "The learner has not agreed to a take-over.");
    L.drivers.add(s);
    s.send({ type: "control", granted: true });
    return {
      input: (data) => {
        if (!L.grants.takeover || !L.lab) return false;
        const t = L.lab.terminal(L.terminal);
        return t ? t.inject(data) : false;
      },
      close: () => L.drivers.delete(s),
    };
  }

  /* ------------------------------------------------------------ streams: watching and the stage */

  private attach(v: Viewer, t: Terminal | null, reason: "join" | "source"): void {
    const cur = this.viewing.get(v);
    if (cur === t) return;
    if (cur) this.detach(v);
    if (!t) return;
    let s = this.streams.get(t);
    if (!s) {
      const entry = {
        stream: new TerminalStream(t, {
          ...this.deps.stream,
          onEnd: () => {
            // the terminal closed: its viewers wait for the next one
            this.streams.delete(t);
            for (const x of entry.viewers) {
              this.viewing.delete(x);
              x.send({ type: "off", reason: "terminal-gone" });
            }
          },
        }),
        viewers: new Set<Viewer>(),
      };
      s = entry;
      this.streams.set(t, s);
    }
    s.viewers.add(v);
    this.viewing.set(v, t);
    s.stream.add(v, reason);
  }

  private detach(v: Viewer): void {
    const t = this.viewing.get(v);
    if (!t) return;
    this.viewing.delete(v);
    const s = this.streams.get(t);
    if (!s) return;
    s.viewers.delete(v);
    s.stream.remove(v);
    if (!s.viewers.size) {
      s.stream.dispose();
      this.streams.delete(t);
    }
  }

  /** The instructor looks over a learner's shoulder: the learner's own terminal, read-only. */
  addWatcher(L: LearnerState, v: Viewer): () => void {
    L.watchers.add(v);
    this.announceWatchers(L);
    this.watchTarget(L, v, "join");
    return () => {
      this.detach(v);
      L.watchers.delete(v);
      this.announceWatchers(L);
    };
  }

  private announceWatchers(L: LearnerState): void {
    L.send({ type: "watchers", count: L.watchers.size });
    this.touch(L);
  }

  private watchTarget(L: LearnerState, v: Viewer, reason: "join" | "source"): void {
    const t = L.lab?.terminal(L.terminal) ?? null;
    if (!t) {
      this.detach(v);
      v.send({ type: "off", reason: L.lab ? "terminal-gone" : "lab-gone" });
    } else this.attach(v, t, this.viewing.has(v) ? "source" : reason);
  }

  private refreshWatch(L: LearnerState): void {
    for (const v of L.watchers) this.watchTarget(L, v, "source");
  }

  private stageTerminal(): Terminal | null {
    const s = this.stage;
    if (s.source === "instructor") return this.instructor.lab?.terminal(s.terminal) ?? null;
    if (s.source === "learner" && s.learnerId) {
      const L = this.learners.get(s.learnerId);
      return L?.grants.broadcast ? (L.lab?.terminal(L.terminal) ?? null) : null;
    }
    return null;
  }

  /** A learner's page shows the class broadcast. */
  addStageViewer(v: Viewer): () => void {
    this.stageViewers.add(v);
    v.send({ type: "source", stage: this.stageInfo() });
    const t = this.stageTerminal();
    if (t) this.attach(v, t, "join");
    else v.send({ type: "off", reason: "off-air" });
    return () => {
      this.detach(v);
      this.stageViewers.delete(v);
    };
  }

  setStage(s: { source: "instructor" | "learner" | null; learnerId: string | null; terminal: string | null }): void {
    if (s.source === "learner") {
      const L = s.learnerId ? this.learners.get(s.learnerId) : undefined;
      if (!L) throw new ClassError("not_found", "No such learner in this class.");
      if (!L.grants.broadcast) throw new ClassError("no_consent", "The learner has not agreed to show their terminal to the class.");
    }
    this.stage = s;
    this.refreshStage();
  }

  refreshStage(): void {
    const t = this.stageTerminal();
    const info = this.stageInfo();
    for (const v of this.stageViewers) {
      const cur = this.viewing.get(v);
      if (cur !== t || !t) v.send({ type: "source", stage: info });
      if (t) this.attach(v, t, "source");
      else if (cur) {
        this.detach(v);
        v.send({ type: "off", reason: "off-air" });
      }
    }
    for (const L of this.learners.values()) L.send({ type: "stage", stage: info });
    this.toDashboards({ type: "class", class: this.view() });
  }

  /** The instructor's own lab (demo mode), made on first use. */
  async instructorLab(lesson: string | null): Promise<ClassLab> {
    const I = this.instructor;
    if (I.lab?.running) return I.lab;
    if (!I.making) {
      I.making = this.deps
        .makeLab(this, lesson ?? this.rec.lessons[0] ?? null, null)
        .then(async (lab) => {
          if (!this.open) {
            await lab.destroy().catch(() => {});
            throw new ClassError("class_ended", "This class has ended.");
          }
          I.off?.();
          I.lab = lab;
          I.off = lab.onChange(() => {
            if (!lab.running && I.lab === lab) {
              I.off?.();
              I.lab = null;
              this.deps.labGone(lab.id);
              this.refreshStage();
            }
          });
          return lab;
        })
        .finally(() => (I.making = null));
    }
    return I.making;
  }

  /* ------------------------------------------------------------ follow me, ending */

  async follow(lesson: string, step: string | null): Promise<void> {
    this.rec.follow = { lesson, step, at: Date.now() };
    await this.deps.store.updateClass(this.id, { follow: this.rec.follow });
    const f = this.publicView().follow!;
    for (const L of this.learners.values()) L.send({ type: "follow", follow: f });
    this.toDashboards({ type: "class", class: this.view() });
  }

  /** Every class lab is put away at `at` (the class's end; see Classroom's labDeadline). */
  setLabDeadline(at: number): void {
    for (const L of this.learners.values()) L.lab?.setDeadline(at);
    this.instructor.lab?.setDeadline(at);
  }

  /** Tells everyone the labs go at `labsEndAt`. */
  announceEnding(): void {
    const at = iso(this.rec.labsEndAt)!;
    for (const L of this.learners.values()) L.send({ type: "ending", labsEndAt: at });
    this.classChanged();
  }

  /** The end: every class lab destroyed, then everyone told, every socket closed, every stream disposed. */
  async end(): Promise<void> {
    const labs: ClassLab[] = [];
    for (const L of this.learners.values()) {
      L.labOff?.();
      if (L.lab) labs.push(L.lab);
      L.lab = null;
      L.labOff = null;
    }
    this.instructor.off?.();
    if (this.instructor.lab) labs.push(this.instructor.lab);
    this.instructor.lab = null;
    await Promise.allSettled(
      labs.map(async (lab) => {
        this.deps.labGone(lab.id);
        await lab.destroy("deadline");
      }),
    );
    for (const L of this.learners.values()) {
      L.send({ type: "ended" });
      for (const s of L.sockets) s.close(CLASS_CLOSE.ended, "class ended");
      for (const d of L.drivers) d.close(CLASS_CLOSE.ended, "class ended");
      for (const v of L.watchers) {
        v.send({ type: "off", reason: "class-ended" });
        v.close(CLASS_CLOSE.ended, "class ended");
      }
    }
    for (const v of this.stageViewers) {
      v.send({ type: "off", reason: "class-ended" });
      v.close(CLASS_CLOSE.ended, "class ended");
    }
    this.toDashboards({ type: "class", class: this.view() });
    this.dispose();
  }

  /** Releases timers, streams and sockets' registrations (the labs are the caller's business). */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.pushTimer = this.healthTimer = null;
    for (const s of this.streams.values()) s.stream.dispose();
    this.streams.clear();
    this.viewing.clear();
  }

  /**
   * Server shutdown, or the class moved to another web replica: sockets closed (their pages
   * reconnect), the labs left running (in one process they go with the LabManager; on agents the
   * next owner takes them up again: resumeLabs); the class resumes from the store.
   */
  close(): void {
    for (const L of this.learners.values()) {
      for (const s of L.sockets) s.close(1001, "server shutting down");
      for (const d of L.drivers) d.close(1001, "server shutting down");
      for (const v of L.watchers) v.close(1001, "server shutting down");
      L.labOff?.();
      L.lab?.detach?.();
    }
    this.instructor.off?.();
    this.instructor.lab?.detach?.();
    for (const d of this.dashboards) d.close(1001, "server shutting down");
    for (const v of this.stageViewers) v.close(1001, "server shutting down");
    this.dispose();
  }
}
