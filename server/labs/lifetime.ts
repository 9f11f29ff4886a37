import "server-only";
import type { ExpiryReason } from "../../lib/protocol.ts";

/**
 * When a lab is put away. A lab ends at the earliest of:
 *  - `idleMs` after its last input, output or API call (activity extends it);
 *  - `maxMs` after it was handed to its learner, whatever happens;
 *  - `deadline`, a time its owner set (a class's end; see LabManager.setLifetime).
 * Each may be null (never). The manager's sweep asks `tick` once a second; the lab's page is warned
 * `warningMs` before the end ("lab-expiring") and told when activity moved the end away again
 * ("lab-extended").
 */

export interface LifetimePolicy {
  idleMs: number | null;
  maxMs: number | null;
  /** ms since the epoch */
  deadline: number | null;
  /**
   * The owner tells the lab's learner about the deadline itself (a class warns its learners before
   * it ends): no "lab-expiring" for the deadline, so the page does not show two warnings. Idle and
   * maximum-lifetime warnings are unchanged.
   */
  ownerWarns?: boolean;
}

export type LifetimeEvent = { type: "expiring"; at: number; reason: ExpiryReason } | { type: "extended"; at: number | null };

export type TickResult = { kind: "end"; reason: ExpiryReason } | { kind: "warn"; at: number; reason: ExpiryReason } | { kind: "extended"; at: number | null } | null;

export class LabLifetime {
  startedAt: number;
  lastActivity: number;
  /** the expiry time the page was warned about, while a warning stands */
  private warnedFor: number | null = null;
  private readonly listeners = new Set<(e: LifetimeEvent) => void>();

  constructor(
    private policy: LifetimePolicy,
    now = Date.now(),
  ) {
    this.startedAt = now;
    this.lastActivity = now;
  }

  /** The lab is handed to its learner now (a pooled lab's clock starts here). */
  start(now = Date.now()): void {
    this.startedAt = now;
    this.lastActivity = now;
    this.warnedFor = null;
  }

  touch(now = Date.now()): void {
    this.lastActivity = now;
  }

  get current(): Readonly<LifetimePolicy> {
    return this.policy;
  }

  /** Changes the policy (the owner's hook: a class sets its deadline, or turns the idle timeout off). */
  set(patch: Partial<LifetimePolicy>): void {
    this.policy = { ...this.policy, ...patch };
  }

  get warned(): boolean {
    return this.warnedFor !== null;
  }

  expiry(): { at: number; reason: ExpiryReason } | null {
    const p = this.policy;
    const candidates: [number, ExpiryReason][] = [];
    if (p.idleMs !== null) candidates.push([this.lastActivity + p.idleMs, "idle"]);
    if (p.maxMs !== null) candidates.push([this.startedAt + p.maxMs, "max-lifetime"]);
    if (p.deadline !== null) candidates.push([p.deadline, "deadline"]);
    if (!candidates.length) return null;
    candidates.sort((a, b) => a[0] - b[0]);
    const [at, reason] = candidates[0]!;
    return { at, reason };
  }

  tick(now: number, warningMs: number): TickResult {
    const e = this.expiry();
    if (e && now >= e.at) return { kind: "end", reason: e.reason };
    if (e && now >= e.at - warningMs && !(e.reason === "deadline" && this.policy.ownerWarns)) {
      if (this.warnedFor === e.at) return null;
      // an idle expiry moves with every keystroke: warn once per stretch of quiet, not per move
      const again = this.warnedFor !== null && e.reason === "idle";
      this.warnedFor = e.at;
      return again ? null : { kind: "warn", at: e.at, reason: e.reason };
    }
    if (this.warnedFor !== null) {
      this.warnedFor = null;
      return { kind: "extended", at: e?.at ?? null };
    }
    return null;
  }

  on(fn: (e: LifetimeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: LifetimeEvent): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch {}
    }
  }

  /** The warning that stands now, for a client that attaches while it does. */
  standing(): LifetimeEvent | null {
    const e = this.expiry();
    return this.warnedFor !== null && e ? { type: "expiring", at: e.at, reason: e.reason } : null;
  }

  clear(): void {
    this.listeners.clear();
  }
}
