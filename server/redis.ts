import "server-only";
import { createClient, type RedisClientType } from "redis";

export type Redis = RedisClientType;

/**
 * A connected Redis client (node-redis) for NSLAB_REDIS_URL: redis://[user:password@]host:port[/db],
 * rediss:// for TLS, or unix:/path/to/redis.sock. Several web replicas share what they keep there
 * (docs/scaling.md). The client reconnects by itself with a capped backoff; while Redis is away
 * commands fail at once (no offline queue) so a request is refused rather than left hanging.
 * `onError` hears connection errors (without it node-redis would throw them out of the event loop).
 */
export async function connectRedis(url: string, onError: (e: Error) => void = () => {}): Promise<Redis> {
  const socketPath = url.startsWith("unix:") ? url.slice("unix:".length) : null;
  const client = createClient({
    ...(socketPath ? { socket: { path: socketPath, reconnectStrategy: backoff } } : { url, socket: { reconnectStrategy: backoff, connectTimeout: 10_000 } }),
    disableOfflineQueue: true,
  }) as Redis;
  client.on("error", onError);
  await client.connect();
  return client;
}

const backoff = (retries: number) => Math.min(50 * 2 ** retries, 2000);
