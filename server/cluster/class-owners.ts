import "server-only";
import type { RedisClientType } from "redis";

/**
 * Which web replica owns each live class (docs/scaling.md, "Classes across web replicas"): a lease,
 * `class id → the owner's internal URL`, taken with SET NX (two replicas never both own a class),
 * renewed by the owner every ttl/3 and gone ttl after the owner stops renewing it (it died), when
 * the next request makes another replica the owner. The lease is the class's directory, as the
 * lab directory is the labs': no hash affinity.
 */
export interface ClassLeases {
  /** the owner's URL, or null: nobody owns the class now */
  owner(id: string): Promise<string | null>;
  /** takes the lease if nobody holds it (or `me` does already): true when `me` owns the class */
  claim(id: string, me: string): Promise<boolean>;
  /** renews `me`'s leases; returns the ids whose lease `me` no longer holds */
  renew(ids: string[], me: string): Promise<string[]>;
  /** gives the lease back, if `me` holds it */
  release(id: string, me: string): Promise<void>;
  readonly ttlMs: number;
}

/** One web replica: the leases in this process. */
export class MemoryClassLeases implements ClassLeases {
  private readonly held = new Map<string, { owner: string; until: number }>();
  constructor(readonly ttlMs: number) {}
  private live(id: string): string | null {
    const e = this.held.get(id);
    if (!e || e.until < Date.now()) return null;
    return e.owner;
  }
  async owner(id: string): Promise<string | null> {
    return this.live(id);
  }
  async claim(id: string, me: string): Promise<boolean> {
    const o = this.live(id);
    if (o && o !== me) return false;
    this.held.set(id, { owner: me, until: Date.now() + this.ttlMs });
    return true;
  }
  async renew(ids: string[], me: string): Promise<string[]> {
    const lost: string[] = [];
    for (const id of ids) if (!(await this.claim(id, me))) lost.push(id);
    return lost;
  }
  async release(id: string, me: string): Promise<void> {
    if (this.live(id) === me) this.held.delete(id);
  }
}

/** compare-and-set: the lease is `me`'s (taken if free, renewed if mine), 1; someone else's, 0 */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Several web replicas: the leases in Redis (`<prefix>class-owner:<id>`). */
export class RedisClassLeases implements ClassLeases {
  constructor(
    private readonly client: RedisClientType,
    readonly ttlMs: number,
    private readonly prefix = "nslab:",
  ) {}
  private key(id: string): string {
    return `${this.prefix}class-owner:${id}`;
  }
  async owner(id: string): Promise<string | null> {
    return await this.client.get(this.key(id));
  }
  async claim(id: string, me: string): Promise<boolean> {
    return Number(await this.client.eval(CLAIM, { keys: [this.key(id)], arguments: [me, String(this.ttlMs)] })) === 1;
  }
  async renew(ids: string[], me: string): Promise<string[]> {
    const got = await Promise.all(ids.map((id) => this.claim(id, me)));
    return ids.filter((_, i) => !got[i]);
  }
  async release(id: string, me: string): Promise<void> {
    await this.client.eval(RELEASE, { keys: [this.key(id)], arguments: [me] });
  }
}
