import "server-only";
import crypto from "node:crypto";
import { SlidingWindow, type CounterStore, MemoryCounterStore } from "../admission/ratelimit.ts";

/**
 * Who may start a lab, and who may run the server.
 *
 *  - mode "open": anyone (a public course), within the admission limits.
 *  - mode "code": creating a lab needs a workshop access code (NSLAB_ACCESS_CODES), or another
 *    credential a later domain registers (the classroom's class join) with `addVerifier`.
 *  - the operator key (NSLAB_OPERATOR_KEY) opens /api/admin: list labs, end one, drain.
 *
 * Secrets are compared as SHA-256 digests with timingSafeEqual, every configured code each time
 * (no early exit), so neither the time nor the order says how close a guess was. Wrong guesses are
 * counted per address: past `guessLimit` in `guessWindowMs` that address is refused without a
 * comparison until the window moves on. Guesses are reported to the caller for logging; the value
 * guessed is never part of what this module returns.
 */

export type AccessMode = "open" | "code";

export type Verdict = { ok: true; via: string } | { ok: false; why: "missing" | "wrong" | "locked"; retryAfterMs?: number };

/** A credential kind a later domain adds (e.g. "class": a class join token). Returns true when valid. */
export type Verifier = (value: string) => boolean | Promise<boolean>;

export interface AccessOptions {
  mode: AccessMode;
  codes: string[];
  operatorKey: string | null;
  /** wrong codes or keys an address may try per window before it is locked out (default 10) */
  guessLimit?: number;
  guessWindowMs?: number;
  store?: CounterStore;
  /** told of every refusal (for metrics): the credential kind ("code", "operator", a verifier's), and why */
  denied?(what: string, why: "missing" | "wrong" | "locked"): void;
}

const digest = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest();

/** Constant-time membership: compares against every digest, whatever matches first. */
function matchesAny(value: string, digests: Buffer[]): boolean {
  const d = digest(value);
  let found = false;
  for (const x of digests) found = crypto.timingSafeEqual(d, x) || found;
  return found;
}

export class Access {
  readonly mode: AccessMode;
  private readonly codes: Buffer[];
  private readonly operator: Buffer | null;
  private readonly guesses: SlidingWindow;
  private readonly verifiers = new Map<string, Verifier>();
  private readonly denied: NonNullable<AccessOptions["denied"]>;

  constructor(o: AccessOptions) {
    this.denied = o.denied ?? (() => {});
    this.mode = o.mode;
    this.codes = o.codes.map(digest);
    this.operator = o.operatorKey ? digest(o.operatorKey) : null;
    this.guesses = new SlidingWindow(o.store ?? new MemoryCounterStore(), o.guessLimit ?? 10, o.guessWindowMs ?? 10 * 60_000);
  }

  get operatorEnabled(): boolean {
    return this.operator !== null;
  }

  /** Another way to be let in (classroom: "class"). Its values are checked by `fn`, rate-limited like codes. */
  addVerifier(kind: string, fn: Verifier): void {
    if (kind === "code") throw new Error('"code" is the workshop access code');
    this.verifiers.set(kind, fn);
  }

  /**
   * May `ip` create a lab with these credentials? Open mode: yes. Code mode: a workshop code, or a
   * credential of a registered kind. Wrong guesses count against the address.
   */
  async admit(ip: string, creds: { code?: string | null; kind?: string; value?: string | null } = {}, now = Date.now()): Promise<Verdict> {
    if (this.mode === "open") return { ok: true, via: "open" };
    const kind = creds.kind ?? "code";
    const v = await this.check(ip, kind, kind === "code" ? creds.code : creds.value, now);
    if (!v.ok) this.denied(kind, v.why);
    return v;
  }

  private async check(ip: string, kind: string, value: string | null | undefined, now: number): Promise<Verdict> {
    if (!value) return { ok: false, why: "missing" };
    return this.guarded(ip, now, kind, async () => {
      if (kind === "code") return matchesAny(value, this.codes);
      const v = this.verifiers.get(kind);
      return v ? await v(value) : false;
    });
  }

  /** Is `key` the operator key? Disabled (no key configured) is never ok. */
  async operatorCheck(ip: string, key: string | null, now = Date.now()): Promise<Verdict> {
    const v = await this.checkOperator(ip, key, now);
    // "missing" with no key configured is a disabled endpoint, not a refusal worth counting
    if (!v.ok && this.operator) this.denied("operator", v.why);
    return v;
  }

  private async checkOperator(ip: string, key: string | null, now: number): Promise<Verdict> {
    if (!this.operator) return { ok: false, why: "missing" };
    if (!key) return { ok: false, why: "missing" };
    const operator = this.operator;
    return this.guarded(ip, now, "operator", async () => matchesAny(key, [operator]));
  }

  /**
   * One guess: counted against the address before it is compared (atomically, so parallel guesses
   * from one address, on one replica or several, cannot all get under the limit), and uncounted
   * when it was right. A locked-out address is refused without a comparison.
   */
  private async guarded(ip: string, now: number, via: string, right: () => Promise<boolean>): Promise<Verdict> {
    const slot = await this.guesses.take(`guess:${ip}`, now);
    if (!slot.ok) return { ok: false, why: "locked", retryAfterMs: slot.retryAfterMs };
    if (!(await right())) return { ok: false, why: "wrong" };
    await this.guesses.release(`guess:${ip}`, slot.id);
    return { ok: true, via };
  }
}
