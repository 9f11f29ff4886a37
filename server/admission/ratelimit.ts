import "server-only";

/**
 * "At most `limit` events per `windowMs` per key" (labs created per address per minute, wrong
 * codes per address), as an exact sliding window: the times of the last `limit` events of each key.
 *
 * The times live behind CounterStore, a small interface, so that several servers behind one load
 * balancer can share them later (a Redis sorted set per key does exactly this); the in-memory store
 * is the one a single server uses.
 */

export interface CounterStore {
  /** the event times of `key` that are at or after `since`, oldest first */
  recent(key: string, since: number): number[];
  /** records an event; keeps at most `keep` times per key */
  add(key: string, at: number, keep: number): void;
}

export class MemoryCounterStore implements CounterStore {
  private readonly times = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(private readonly maxAgeMs = 60 * 60_000) {}

  recent(key: string, since: number): number[] {
    const t = this.times.get(key);
    if (!t) return [];
    const keep = t.filter((x) => x >= since);
    if (keep.length) this.times.set(key, keep);
    else this.times.delete(key);
    return keep;
  }

  add(key: string, at: number, keep: number): void {
    const t = this.times.get(key) ?? [];
    t.push(at);
    if (t.length > keep) t.splice(0, t.length - keep);
    this.times.set(key, t);
    // forget keys nobody used for a long time, so a stream of new addresses cannot grow this map
    if (at - this.lastSweep > 60_000) {
      this.lastSweep = at;
      for (const [k, v] of this.times) if (!v.length || v[v.length - 1]! < at - this.maxAgeMs) this.times.delete(k);
    }
  }

  get size(): number {
    return this.times.size;
  }
}

export interface WindowCheck {
  ok: boolean;
  /** how many more events fit now */
  left: number;
  /** when !ok: how long until one more fits */
  retryAfterMs: number;
}

export class SlidingWindow {
  constructor(
    private readonly store: CounterStore,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  check(key: string, now = Date.now()): WindowCheck {
    const t = this.store.recent(key, now - this.windowMs + 1);
    if (t.length < this.limit) return { ok: true, left: this.limit - t.length, retryAfterMs: 0 };
    return { ok: false, left: 0, retryAfterMs: t[t.length - this.limit]! + this.windowMs - now };
  }

  hit(key: string, now = Date.now()): void {
    this.store.add(key, now, this.limit);
  }

  /** check, and count the event when it fits */
  take(key: string, now = Date.now()): WindowCheck {
    const c = this.check(key, now);
    if (c.ok) this.hit(key, now);
    return c.ok ? { ...c, left: c.left - 1 } : c;
  }
}
