import "server-only";

/**
 * Token buckets per key (a client address): `burst` attempts at once, refilled at `perMinute`.
 * Used for join attempts, so a join code cannot be guessed by trying many. Buckets that are full
 * again are forgotten, so the map stays as small as the set of recent guessers.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes one token for `key`; false (and nothing taken) when there is none. */
  take(key: string, now = Date.now()): boolean {
    const b = this.level(key, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.sweep(now);
    return true;
  }

  /** Seconds until `key` has a token again. */
  retryAfter(key: string, now = Date.now()): number {
    const b = this.level(key, now);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.perMinute) * 60);
  }

  private level(key: string, now: number): { tokens: number; at: number } {
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    return { tokens, at: now };
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (this.level(k, now).tokens >= this.burst || b.at < now - 3600_000) this.buckets.delete(k);
  }
}
