import "server-only";
import crypto from "node:crypto";
import type { RedisClientType } from "redis";
import type { CounterStore } from "./ratelimit.ts";

/**
 * The rate-limit windows in Redis, shared by every web replica (NSLAB_REDIS_URL): one sorted set
 * per key, scored by event time (ms), each event a member of its own (`<time>:<random>`, so two at
 * the same millisecond both count). `take` is one Lua script, so it is atomic across replicas:
 * forty parallel requests on four replicas still get exactly `limit` through. Keys expire after
 * `maxAgeMs` without events, so a stream of new addresses cannot fill Redis.
 *
 * Times come from the replicas' clocks (as with the in-memory store): keep them in sync (NTP),
 * which every Kubernetes node is.
 */
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local times = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
if #times / 2 < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {times, 1}
end
return {times, 0}`;

const ADD = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: RedisClientType,
    private readonly o: { prefix?: string; maxAgeMs?: number } = {},
  ) {}

  private key(k: string): string {
    return `${this.o.prefix ?? "nslab:rate:"}${k}`;
  }
  private get ttl(): string {
    return String(this.o.maxAgeMs ?? 60 * 60_000);
  }
  private static member(at: number): string {
    return `${at}:${crypto.randomBytes(6).toString("base64url")}`;
  }

  async recent(key: string, since: number): Promise<number[]> {
    return (await this.redis.zRangeByScoreWithScores(this.key(key), since, "+inf")).map((e) => e.score);
  }

  async add(key: string, at: number, keep: number): Promise<void> {
    await this.redis.eval(ADD, { keys: [this.key(key)], arguments: [String(at), RedisCounterStore.member(at), String(keep), this.ttl] });
  }

  async take(key: string, since: number, at: number, limit: number): Promise<{ times: number[]; id: string | null }> {
    const id = RedisCounterStore.member(at);
    const [flat, added] = (await this.redis.eval(TAKE, { keys: [this.key(key)], arguments: [String(since), String(at), String(limit), id, this.ttl] })) as [string[], number];
    const times: number[] = [];
    for (let i = 1; i < flat.length; i += 2) times.push(Number(flat[i]));
    return { times, id: added === 1 ? id : null };
  }

  async release(key: string, id: string): Promise<void> {
    await this.redis.zRem(this.key(key), id);
  }
}
