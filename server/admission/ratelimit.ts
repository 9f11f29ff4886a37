import "server-only";

/**
 * "At most `limit` events per `windowMs` per key" (labs created per address per minute, wrong
 * codes per address), as an exact sliding window: the times of the last `limit` events of each key.
 *
 * The times live behind CounterStore, a small interface, so that several web replicas behind one
 * load balancer share them (redis-counters.ts: a Redis sorted set per key); the in-memory store is
 * the one a single server uses. Every method is async for that reason. `take` is one atomic step
 * (check and count), so concurrent requests on several replicas cannot all slip under the limit.
 */

export interface CounterStore {
  /** the event times of `key` that are at or after `since`, oldest first */
  recent(key: string, since: number): Promise<number[]>;
  /** records an event; keeps at most `keep` times per key */
  add(key: string, at: number, keep: number): Promise<void>;
  /**
   * Atomically: the times at or after `since` (before this event) and, if there are fewer than
   * `limit`, records one at `at` and returns its id (for `release`); else id null, nothing recorded.
   */
  take(key: string, since: number, at: number, limit: number): Promise<{ times: number[]; id: string | null }>;
  /** forgets the event `take` recorded under `id` (an attempt that turned out not to count) */
  release(key: string, id: string): Promise<void>;
}

export class MemoryCounterStore implements CounterStore {
  /** per key: [time, id], oldest first */
  private readonly times = new Map<string, [number, string][]>();
  private lastSweep = 0;
  private seq = 0;

  constructor(private readonly maxAgeMs = 60 * 60_000) {}

  private since(key: string, since: number): [number, string][] {
    const t = this.times.get(key);
    if (!t) return [];
    const keep = t.filter((x) => x[0] >= since);
    if (keep.length) this.times.set(key, keep);
    else this.times.delete(key);
    return keep;
  }

  private record(key: string, at: number, keep: number): string {
    const t = this.times.get(key) ?? [];
    const id = String(++this.seq);
    t.push([at, id]);
    if (t.length > keep) t.splice(0, t.length - keep);
    this.times.set(key, t);
    // forget keys nobody used for a long time, so a stream of new addresses cannot grow this map
    if (at - this.lastSweep > 60_000) {
      this.lastSweep = at;
      for (const [k, v] of this.times) if (!v.length || v[v.length - 1]![0] < at - this.maxAgeMs) this.times.delete(k);
    }
    return id;
  }

  async recent(key: string, since: number): Promise<number[]> {
    return this.since(key, since).map((x) => x[0]);
  }

  async add(key: string, at: number, keep: number): Promise<void> {
    this.record(key, at, keep);
  }

  async take(key: string, since: number, at: number, limit: number): Promise<{ times: number[]; id: string | null }> {
    const times = this.since(key, since).map((x) => x[0]);
    return { times, id: times.length < limit ? this.record(key, at, limit) : null };
  }

  async release(key: string, id: string): Promise<void> {
    const t = this.times.get(key);
    const i = t?.findIndex((x) => x[1] === id) ?? -1;
    if (i >= 0) t!.splice(i, 1);
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

  private verdict(t: number[], now: number): WindowCheck {
    if (t.length < this.limit) return { ok: true, left: this.limit - t.length, retryAfterMs: 0 };
    return { ok: false, left: 0, retryAfterMs: t[t.length - this.limit]! + this.windowMs - now };
  }

  async check(key: string, now = Date.now()): Promise<WindowCheck> {
    return this.verdict(await this.store.recent(key, now - this.windowMs + 1), now);
  }

  async hit(key: string, now = Date.now()): Promise<void> {
    await this.store.add(key, now, this.limit);
  }

  /** check, and count the event when it fits (one atomic step); `id` undoes the count (release) */
  async take(key: string, now = Date.now()): Promise<WindowCheck & { id: string | null }> {
    const { times, id } = await this.store.take(key, now - this.windowMs + 1, now, this.limit);
    const c = this.verdict(times, now);
    return c.ok ? { ...c, left: c.left - 1, id } : { ...c, id: null };
  }

  /** an event `take` counted that should not count after all */
  async release(key: string, id: string | null): Promise<void> {
    if (id !== null) await this.store.release(key, id);
  }
}
