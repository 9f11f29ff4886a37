import "server-only";
import { WebSocket, type RawData } from "ws";
import type { ClassLabCredentials, LabHealth } from "../../lib/classes.ts";
import type { ClassLab, ClassLabs, ClassTerminal } from "../classes/labs.ts";
import type { AgentPool } from "../cluster/agents.ts";
import type { LabRoutes } from "../cluster/directory.ts";
import { placeLab } from "../cluster/placement.ts";
import { INTERNAL_HEADER, tokenDigest } from "../cluster/secret.ts";
import { LabGoneError } from "../labs/errors.ts";
import type { TerminalObserver } from "../terminals/terminal.ts";
import type { LinkMessage } from "./class-link.ts";

/**
 * The classroom's labs on a web replica (docs/scaling.md, "Classes across web replicas"): each
 * class lab is placed on an agent like any lab (placement.ts, so a class spreads over the agents)
 * and followed from here through the agent's internal sockets (class-link.ts): a link per lab
 * (state, activity, checks: the learner's progress, its end) and a tap per terminal someone
 * watches (the broadcast, looking over a shoulder, a take-over's input). The classroom's runtime
 * then works as in one process: the taps are its terminals (StreamSource), the broadcast's
 * server-side model and fan-out run on the class's owner.
 */
export interface AgentClassLabsDeps {
  pool: AgentPool;
  routes: LabRoutes;
  secret: string;
  /** a check or solution ran in a class lab (Classroom.checkRan) */
  onCheck(labId: string, lesson: string, step: string, r: { passed: boolean; feedback: string }, kind: "check" | "solve"): void;
}

/** a link that says nothing for this long is dead (the agent sends its state every 2 s) */
const SILENT_MS = 10_000;
const RECONNECT_MS = 1000;
const RELINK_TRIES = 5;
const RING_BYTES = 64 * 1024;
const INPUT_QUEUE_MAX = 64 * 1024;

export function agentClassLabs(d: AgentClassLabsDeps): ClassLabs {
  return {
    async create(lesson, clientIp, deadline) {
      const placed = await placeLab(d.pool, d.routes, d.secret, { lesson, clientIp, class: { deadline } });
      const lab = new RemoteClassLab(d, placed.id, placed.agent, { mode: placed.mode, hostname: placed.hostname });
      await lab.start();
      return lab;
    },
    async resume(labId) {
      const r = await d.routes.get(labId);
      if (!r || r.ended || !d.pool.get(r.agent)?.up) return null;
      const lab = new RemoteClassLab(d, labId, r.agent, null);
      return (await lab.start().then(() => true, () => false)) ? lab : null;
    },
  };
}

type State = Extract<LinkMessage, { type: "state" }>;

class RemoteClassLab implements ClassLab {
  private state: State | null = null;
  private link: WebSocket | null = null;
  private gone = false;
  private detached = false;
  private silence: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly taps = new Map<string, Tap>();
  private readonly setups = new Set<string>();

  constructor(
    private readonly d: AgentClassLabsDeps,
    readonly id: string,
    private readonly agent: string,
    private made: { mode: string; hostname: string } | null,
  ) {}

  private wsUrl(path: string): string | null {
    const a = this.d.pool.get(this.agent);
    return a?.up ? `${a.url.replace(/^http/, "ws")}${path}` : null;
  }

  private httpUrl(path: string): string {
    const a = this.d.pool.get(this.agent);
    if (!a?.up) throw new LabGoneError();
    return `${a.url}${path}`;
  }

  /** Opens the link; resolves on the lab's first state, rejects if the agent does not have it. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = this.wsUrl(`/internal/labs/${encodeURIComponent(this.id)}/link`);
      if (!url) return reject(new LabGoneError());
      const ws = new WebSocket(url, { headers: { [INTERNAL_HEADER]: this.d.secret }, perMessageDeflate: false, handshakeTimeout: 10_000 });
      this.link = ws;
      let first = true;
      const quiet = () => {
        if (this.silence) clearTimeout(this.silence);
        this.silence = setTimeout(() => ws.terminate(), SILENT_MS);
        this.silence.unref();
      };
      quiet();
      ws.on("message", (data: RawData, isBinary: boolean) => {
        if (isBinary) return;
        quiet();
        let m: LinkMessage;
        try {
          m = JSON.parse(data.toString()) as LinkMessage;
        } catch {
          return;
        }
        if (m.type === "state") {
          this.state = m;
          this.made ??= { mode: m.mode, hostname: m.hostname };
          if (first) {
            first = false;
            resolve();
          }
          this.changed();
        } else if (m.type === "check") this.d.onCheck(this.id, m.lesson, m.step, { passed: m.passed, feedback: m.feedback }, m.kind);
        else if (m.type === "ended") this.end();
      });
      ws.on("unexpected-response", () => {
        ws.terminate();
        if (first) reject(new LabGoneError());
        this.end();
      });
      ws.on("error", () => {});
      ws.on("close", () => {
        if (this.silence) clearTimeout(this.silence);
        if (this.link === ws) this.link = null;
        if (first) {
          first = false;
          reject(new LabGoneError());
          return;
        }
        if (!this.gone && !this.detached) void this.relink();
      });
    });
  }

  /**
   * The link dropped: the lab is lost (its route ended, its agent declared dead, or the agent no
   * longer has it), or the link comes back (a blip: a few tries while the agent counts as up).
   */
  private async relink(): Promise<void> {
    for (let attempt = 0; attempt < RELINK_TRIES; attempt++) {
      await new Promise((res) => setTimeout(res, RECONNECT_MS).unref());
      if (this.gone || this.detached) return;
      // a Redis failure (undefined) is no verdict on the lab: try the link again
      const r = await this.d.routes.get(this.id).catch(() => undefined);
      if (r === null || r?.ended || !this.d.pool.get(this.agent)?.up) return this.end();
      const back = await this.start().then(
        () => true,
        (e) => (e instanceof LabGoneError && this.gone ? null : false),
      );
      if (back !== false) return;
    }
    this.end();
  }

  private end(): void {
    if (this.gone) return;
    this.gone = true;
    this.link?.close();
    for (const t of this.taps.values()) t.end();
    this.taps.clear();
    this.changed();
  }

  private changed(): void {
    for (const fn of [...this.listeners]) {
      try {
        fn();
      } catch (e) {
        console.error("nslab classes: a lab listener failed", e);
      }
    }
  }

  get running(): boolean {
    return !this.gone && !this.detached && (this.state?.running ?? false);
  }

  async credentials(): Promise<ClassLabCredentials> {
    if (!this.running) throw new LabGoneError();
    const res = await fetch(this.httpUrl(`/internal/labs/${encodeURIComponent(this.id)}/token`), {
      method: "POST",
      headers: { [INTERNAL_HEADER]: this.d.secret },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { token?: string };
    if (res.status !== 201 || typeof body.token !== "string") throw new LabGoneError();
    // the directory checks the token before anything reaches the agent: it learns its digest first
    await this.d.routes.addToken(this.id, tokenDigest(body.token));
    return { id: this.id, token: body.token, mode: (this.made?.mode ?? "full") as ClassLabCredentials["mode"], hostname: this.made?.hostname ?? "" };
  }

  terminal(id: string | null): ClassTerminal | null {
    if (!this.running || !this.state) return null;
    const open = this.state.terminals.filter((t) => !t.exited);
    const pick = id ? open.find((t) => t.id === id) : (open.find((t) => t.attached) ?? open[0]);
    if (!pick) return null;
    let tap = this.taps.get(pick.id);
    if (!tap || tap.closed) {
      tap = new Tap(this, pick.id, () => this.taps.delete(pick.id));
      this.taps.set(pick.id, tap);
    }
    return tap;
  }

  /** for a Tap: the agent's socket URL of one terminal, or null when the lab is gone */
  tapUrl(tid: string): string | null {
    return this.running ? this.wsUrl(`/internal/labs/${encodeURIComponent(this.id)}/terminals/${encodeURIComponent(tid)}/tap`) : null;
  }
  get secret(): string {
    return this.d.secret;
  }

  health(): LabHealth {
    const h = this.state?.health;
    return h && this.running ? h : { alive: false, memoryBytes: null, memoryMax: h?.memoryMax ?? 0, pids: null, pidsMax: h?.pidsMax ?? 0 };
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async setupFor(lesson: string): Promise<void> {
    if (this.setups.has(lesson) || !this.running) return;
    this.setups.add(lesson);
    const res = await fetch(this.httpUrl(`/internal/labs/${encodeURIComponent(this.id)}/setup`), {
      method: "POST",
      headers: { [INTERNAL_HEADER]: this.d.secret, "content-type": "application/json" },
      body: JSON.stringify({ lesson }),
      signal: AbortSignal.timeout(60_000),
    });
    await res.body?.cancel();
    if (res.status !== 204) throw new Error(`the lesson's setup failed on the agent (${res.status})`);
  }

  setDeadline(at: number): void {
    if (!this.running) return;
    void fetch(this.httpUrl(`/internal/labs/${encodeURIComponent(this.id)}/lifetime`), {
      method: "PATCH",
      headers: { [INTERNAL_HEADER]: this.d.secret, "content-type": "application/json" },
      body: JSON.stringify({ deadline: at }),
      signal: AbortSignal.timeout(10_000),
    })
      .then((r) => r.body?.cancel())
      .catch(() => {}); // the lab keeps its earlier deadline; the class ends it at its end anyway
  }

  async destroy(reason?: "deadline"): Promise<void> {
    const url = this.d.pool.get(this.agent)?.up ? this.httpUrl(`/internal/labs/${encodeURIComponent(this.id)}${reason ? "?reason=deadline" : ""}`) : null;
    this.end();
    // a reset lab is just gone (404, as in one process); one put away at the class's end keeps its
    // route, so its page reaches the agent and learns why (410, reason deadline)
    if (!reason) await this.d.routes.remove(this.id).catch(() => {});
    if (url) await fetch(url, { method: "DELETE", headers: { [INTERNAL_HEADER]: this.d.secret }, signal: AbortSignal.timeout(10_000) }).then((r) => r.body?.cancel(), () => {});
  }

  detach(): void {
    this.detached = true;
    this.link?.close();
    for (const t of this.taps.values()) t.end();
    this.taps.clear();
    this.listeners.clear();
  }
}

/**
 * One terminal of a class lab, seen from the class's owner: a StreamSource fed by the agent's tap
 * (opened while someone follows it or types into it), with the last RING_BYTES of its output kept
 * here so a new stream model can be seeded (broadcast.ts calls recent()).
 */
class Tap implements ClassTerminal {
  cols = 80;
  rows = 24;
  closed = false;
  private ws: WebSocket | null = null;
  private open = false;
  private readonly observers = new Set<TerminalObserver>();
  private ring: Buffer[] = [];
  private ringBytes = 0;
  private queue: Buffer[] = [];
  private queued = 0;

  constructor(
    private readonly lab: RemoteClassLab,
    readonly id: string,
    private readonly onEnd: () => void,
  ) {}

  private connect(): void {
    if (this.ws || this.closed) return;
    const url = this.lab.tapUrl(this.id);
    // not now: observe() is called from a stream's constructor, which must return before it hears "closed"
    if (!url) return void setImmediate(() => this.end());
    const ws = new WebSocket(url, { headers: { [INTERNAL_HEADER]: this.lab.secret }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on("open", () => {
      this.open = true;
      for (const b of this.queue) ws.send(b, { binary: true });
      this.queue = [];
      this.queued = 0;
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        this.keep(buf);
        for (const o of this.observers) o.output(buf);
        return;
      }
      let m: { type?: string; cols?: number; rows?: number };
      try {
        m = JSON.parse(buf.toString());
      } catch {
        return;
      }
      if ((m.type === "size" || m.type === "resize") && typeof m.cols === "number" && typeof m.rows === "number") {
        this.cols = m.cols;
        this.rows = m.rows;
        for (const o of this.observers) o.resize(m.cols, m.rows);
      } else if (m.type === "closed") this.end();
    });
    ws.on("unexpected-response", () => ws.terminate());
    ws.on("error", () => {});
    // the terminal closed, the agent went, or this end did not keep up: whoever follows it hears
    // "closed" (the classroom's viewers wait for the next terminal; a new tap starts a fresh screen)
    ws.on("close", () => this.end());
  }

  private keep(b: Buffer): void {
    this.ring.push(b);
    this.ringBytes += b.length;
    while (this.ringBytes - this.ring[0]!.length >= RING_BYTES) this.ringBytes -= this.ring.shift()!.length;
  }

  observe(o: TerminalObserver): () => void {
    this.observers.add(o);
    this.connect();
    return () => {
      this.observers.delete(o);
      if (!this.observers.size) this.end();
    };
  }

  recent(maxBytes: number): Buffer {
    const all = Buffer.concat(this.ring);
    return all.length > maxBytes ? all.subarray(all.length - maxBytes) : all;
  }

  inject(data: Buffer): boolean {
    if (this.closed) return false;
    this.connect();
    if (this.open && this.ws) {
      this.ws.send(data, { binary: true });
      return true;
    }
    if (this.queued + data.length > INPUT_QUEUE_MAX) return false;
    this.queue.push(data);
    this.queued += data.length;
    return true;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws?.close();
    this.ws = null;
    for (const o of [...this.observers]) o.closed();
    this.observers.clear();
    this.onEnd();
  }
}
