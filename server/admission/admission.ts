import "server-only";
import crypto from "node:crypto";
import { MemoryCounterStore, SlidingWindow, type CounterStore } from "./ratelimit.ts";

/**
 * Who gets a lab, and when. Every request to create a lab comes here first:
 *
 *  1. a draining server makes none ("draining");
 *  2. an address holding `labsPerClient` live or waiting labs gets none more ("too_many_labs");
 *  3. an address that started `labsPerMinute` labs in the last minute waits ("rate_limited", with
 *     the time until it may);
 *  4. when the server is full (its learners hold `maxLabs` labs, or the host's MemAvailable is below
 *     the reserve) or others are already waiting, the request takes a **ticket** in a FIFO queue;
 *  5. otherwise the lab is made at once.
 *
 * A queued learner polls their ticket (`poll`, a long poll: it answers as soon as their position
 * or state changes). Whenever a slot frees (`slotFreed`, or the 1 s pump for memory), the head of the
 * queue gets a lab, made for it and held until its learner picks it up. Learners who stop polling
 * are dropped (`abandonMs`), and a lab nobody picks up is destroyed (`pickupMs`), so ghosts hold no slot.
 *
 * State is in memory; the per-address counters sit behind CounterStore (ratelimit.ts) so that
 * several servers can share them later.
 */

export interface AdmissionRequest {
  clientIp: string;
  lesson: string | null;
  /**
   * Admitted elsewhere (a class join: the class's code or the learner's key is the admission): the
   * per-address cap and rate do not apply (a whole classroom shares one address), but a full
   * server still queues it, in the same line as everyone else.
   */
  admitted?: boolean;
  /** makes this request's lab instead of `create` (a class lab, bound to its learner when made) */
  make?: () => Promise<GrantedLab>;
}

/** What the learner gets: the lab's id and token (the token is held here only until picked up). */
export interface GrantedLab {
  id: string;
  token: string;
  [k: string]: unknown;
}

export interface AdmissionLimits {
  maxLabs: number;
  labsPerClient: number;
  labsPerMinute: number;
  /** bytes of MemAvailable below which no new lab is made */
  reserveBytes: number;
}

export interface AdmissionDeps {
  /** labs learners hold now (not the warm pool) */
  liveLabs(): number;
  liveForClient(ip: string): number;
  /** the host's MemAvailable in bytes */
  memAvailable(): number;
  /** makes a lab; throws CapacityLike (err.capacity === true) when the manager is full after all */
  create(req: AdmissionRequest): Promise<GrantedLab>;
  /** destroys a lab made for a learner who never picked it up */
  discard(labId: string): Promise<void>;
  now?: () => number;
  store?: CounterStore;
  observer?: AdmissionObserver;
}

export interface AdmissionObserver {
  refused?(reason: RefusalReason, ip: string): void;
  queued?(ip: string, position: number): void;
  admitted?(waitedMs: number): void;
  abandoned?(kind: "ticket" | "pickup"): void;
  failed?(err: unknown): void;
}

export type RefusalReason = "draining" | "too_many_labs" | "rate_limited";

/** waiting in line; starting: at the head, its lab being made; ready: the lab is there */
export type TicketState = "waiting" | "starting" | "ready" | "failed" | "gone";

/** A learner's view of their ticket: what the page shows ("you are number 3"). */
export interface TicketView {
  state: TicketState;
  /** 1 = next; 0 when not waiting */
  position: number;
  /** everyone waiting */
  waiting: number;
  /** what the queue waits for: a free lab slot, or host memory */
  waitingFor: "capacity" | "memory";
  /** changes whenever anything in this view changes: the next poll's `seen` */
  version: number;
  lab?: GrantedLab;
  message?: string;
}

export type Outcome =
  | { kind: "created"; lab: GrantedLab }
  | { kind: "queued"; ticket: string; view: TicketView }
  | { kind: "refused"; reason: RefusalReason; message: string; retryAfterMs?: number };

interface Ticket {
  key: string; // sha256 of the ticket string: the string itself is the learner's secret
  req: AdmissionRequest;
  enqueuedAt: number;
  lastSeen: number;
  state: TicketState;
  version: number;
  lastView: string;
  lab?: GrantedLab;
  readyAt?: number;
  /** the lab was sent to the learner in a poll answer */
  delivered?: boolean;
  message?: string;
}

const hash = (s: string) => crypto.createHash("sha256").update(s).digest("base64url");

export class Admission {
  private readonly rate: SlidingWindow;
  private readonly tickets = new Map<string, Ticket>();
  /** waiting tickets, oldest first */
  private queue: Ticket[] = [];
  /** labs being made now, per address */
  private inflight = new Map<string, number>();
  private inflightTotal = 0;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private pumping = false;
  private readonly now: () => number;
  readonly abandonMs: number;
  readonly pickupMs: number;

  constructor(
    private limits: AdmissionLimits,
    private readonly deps: AdmissionDeps,
    opts: { abandonMs?: number; pickupMs?: number } = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.rate = new SlidingWindow(deps.store ?? new MemoryCounterStore(), limits.labsPerMinute, 60_000);
    this.abandonMs = opts.abandonMs ?? 45_000;
    this.pickupMs = opts.pickupMs ?? 60_000;
  }

  get queueLength(): number {
    return this.queue.length;
  }
  get isDraining(): boolean {
    return this.draining;
  }
  /** Is the server taking new labs now (for /readyz)? */
  get accepting(): boolean {
    return !this.draining;
  }

  private queuedFor(ip: string): number {
    let n = 0;
    // class joins do not count: they are not held against the address (a classroom shares one)
    for (const t of this.queue) if (t.req.clientIp === ip && !t.req.admitted) n++;
    return n;
  }

  private full(): "capacity" | "memory" | null {
    if (this.deps.liveLabs() + this.inflightTotal >= this.limits.maxLabs) return "capacity";
    if (this.deps.memAvailable() < this.limits.reserveBytes) return "memory";
    return null;
  }

  async request(req: AdmissionRequest): Promise<Outcome> {
    const ip = req.clientIp;
    if (this.draining) return this.refuse("draining", ip, "This server is not starting new labs now (maintenance). Try again later.");
    if (req.admitted) return this.admitOrQueue(req);
    const held = () => this.deps.liveForClient(ip) + this.queuedFor(ip) + (this.inflight.get(ip) ?? 0);
    const tooMany = () => this.refuse("too_many_labs", ip, `Your network already has ${this.limits.labsPerClient} labs open. Close one (or reset a lesson's lab) first.`);
    if (held() >= this.limits.labsPerClient) return tooMany();
    const r = await this.rate.take(`create:${ip}`, this.now());
    if (!r.ok)
      return {
        ...this.refuse("rate_limited", ip, `Many labs were started from your network in the last minute. Yours starts in ${Math.ceil(r.retryAfterMs / 1000)} s.`),
        retryAfterMs: r.retryAfterMs,
      } as Outcome;
    // the rate store may be shared (Redis) and answers later: what this address holds may have
    // changed meanwhile, so look again; from here to counting the lab in `inflight` nothing waits
    if (this.draining) return this.refuse("draining", ip, "This server is not starting new labs now (maintenance). Try again later.");
    if (held() >= this.limits.labsPerClient) {
      await this.rate.release(`create:${ip}`, r.id);
      return tooMany();
    }
    return this.admitOrQueue(req);
  }

  /** A lab now if there is room and nobody waits; otherwise a ticket at the end of the line. */
  private async admitOrQueue(req: AdmissionRequest): Promise<Outcome> {
    const ip = req.clientIp;
    if (this.queue.length === 0 && !this.full()) {
      try {
        return { kind: "created", lab: await this.make(req) };
      } catch (e) {
        if (!isCapacity(e)) throw e;
        // full after all (a race with another creation): wait in line like everyone else
      }
    }
    const ticket = crypto.randomBytes(24).toString("base64url");
    const t: Ticket = { key: hash(ticket), req, enqueuedAt: this.now(), lastSeen: this.now(), state: "waiting", version: 0, lastView: "" };
    this.tickets.set(t.key, t);
    this.queue.push(t);
    this.deps.observer?.queued?.(ip, this.queue.length);
    this.changed();
    this.startTimer();
    return { kind: "queued", ticket, view: this.view(t) };
  }

  private refuse(reason: RefusalReason, ip: string, message: string): Outcome {
    this.deps.observer?.refused?.(reason, ip);
    return { kind: "refused", reason, message };
  }

  private async make(req: AdmissionRequest): Promise<GrantedLab> {
    const ip = req.clientIp;
    this.inflight.set(ip, (this.inflight.get(ip) ?? 0) + 1);
    this.inflightTotal++;
    try {
      return await (req.make ? req.make() : this.deps.create(req));
    } finally {
      this.inflightTotal--;
      const n = (this.inflight.get(ip) ?? 1) - 1;
      if (n) this.inflight.set(ip, n);
      else this.inflight.delete(ip);
    }
  }

  /**
   * A learner's ticket, answered at once if anything changed since `seen` (a version from an
   * earlier answer), else when something does, or after `waitMs`. Unknown tickets are "gone".
   */
  async poll(ticket: string, seen: number | null, waitMs = 25_000): Promise<TicketView> {
    const t = this.tickets.get(hash(ticket));
    if (!t) return { state: "gone", position: 0, waiting: this.queue.length, waitingFor: "capacity", version: -1, message: "This place in the queue has expired. Ask for a lab again." };
    t.lastSeen = this.now();
    const deadline = this.now() + waitMs;
    while (seen !== null && this.view(t).version === seen && this.now() < deadline && this.tickets.has(t.key)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, deadline - this.now()));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
      t.lastSeen = this.now();
    }
    const v = this.view(t);
    if (t.state === "ready") t.delivered = true;
    return v;
  }

  /** Where this ticket stands now (null: unknown), without counting as the learner's poll. */
  state(ticket: string): TicketState | null {
    return this.tickets.get(hash(ticket))?.state ?? null;
  }

  /** Leaves the queue (the learner closed the page or gave up). */
  cancel(ticket: string): boolean {
    const t = this.tickets.get(hash(ticket));
    if (!t) return false;
    this.drop(t, "gone");
    return true;
  }

  private view(t: Ticket): TicketView {
    const position = t.state === "waiting" ? this.queue.indexOf(t) + 1 : 0;
    const v: Omit<TicketView, "version"> = {
      state: t.state,
      position,
      waiting: this.queue.length,
      waitingFor: this.full() === "memory" ? "memory" : "capacity",
      ...(t.lab ? { lab: t.lab } : {}),
      ...(t.message ? { message: t.message } : {}),
    };
    const key = `${v.state}:${v.position}:${v.waiting}:${v.waitingFor}`;
    if (key !== t.lastView) {
      t.lastView = key;
      t.version++;
    }
    return { ...v, version: t.version };
  }

  /** A lab ended (or memory freed): serve the queue. */
  slotFreed(): void {
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const now = this.now();
      // learners who stopped asking, and labs nobody picked up
      for (const t of [...this.tickets.values()]) {
        if (t.state === "waiting" && now - t.lastSeen > this.abandonMs) {
          this.drop(t, "gone", "You left the queue.");
          this.deps.observer?.abandoned?.("ticket");
        } else if (t.state === "ready" && now - t.readyAt! > this.pickupMs && now - t.lastSeen > this.pickupMs) {
          this.tickets.delete(t.key);
          const lab = t.lab!;
          if (!t.delivered) {
            // never delivered: give the slot back
            this.deps.observer?.abandoned?.("pickup");
            await this.deps.discard(lab.id).catch(() => {});
          }
        } else if ((t.state === "failed" || t.state === "gone") && now - t.lastSeen > this.pickupMs) this.tickets.delete(t.key);
      }
      while (this.queue.length && !this.draining && !this.full()) {
        const t = this.queue.shift()!;
        t.state = "starting";
        this.changed();
        try {
          const lab = await this.make(t.req);
          if (!this.tickets.has(t.key)) {
            await this.deps.discard(lab.id).catch(() => {}); // cancelled while it was being made
            continue;
          }
          t.state = "ready";
          t.lab = lab;
          t.readyAt = this.now();
          this.deps.observer?.admitted?.(t.readyAt - t.enqueuedAt);
        } catch (e) {
          if (isCapacity(e)) {
            t.state = "waiting";
            this.queue.unshift(t); // still first in line
            break;
          }
          t.state = "failed";
          t.message = "The lab could not be created. Try again.";
          this.deps.observer?.failed?.(e);
        }
        this.changed();
      }
    } finally {
      this.pumping = false;
    }
    if (!this.tickets.size) this.stopTimer();
  }

  private drop(t: Ticket, state: TicketState, message?: string): void {
    const i = this.queue.indexOf(t);
    if (i >= 0) this.queue.splice(i, 1);
    t.state = state;
    if (message) t.message = message;
    if (state === "gone" && !message) this.tickets.delete(t.key);
    this.changed();
  }

  private changed(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pump(), 1000);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Drain: no new labs (requests are refused, the queue is told), existing labs run on. */
  drain(on = true): void {
    this.draining = on;
    if (on) for (const t of [...this.queue]) this.drop(t, "failed", "This server is not starting new labs now (maintenance).");
    this.changed();
  }

  close(): void {
    this.stopTimer();
    this.changed();
  }

  /** Holders of labs not yet picked up, for the manager's shutdown and the operator's list. */
  pending(): { waiting: number; ready: number } {
    let ready = 0;
    for (const t of this.tickets.values()) if (t.state === "ready") ready++;
    return { waiting: this.queue.length, ready };
  }
}

function isCapacity(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { capacity?: unknown }).capacity === true;
}
