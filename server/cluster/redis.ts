import "server-only";
import type { RedisClientType } from "redis";
import type { LabEndReason } from "../../lib/protocol.ts";
import { TOKENS_KEPT, type LabRoute, type LabRoutes } from "./directory.ts";

type Client = RedisClientType;

/**
 * The lab directory in Redis, shared by every web replica (docs/scaling.md): one hash per lab
 * (`<prefix>lab:<id>`: agent, token digest, created, and why it ended), expiring `keepMs` after it
 * was written, and one set per agent of its labs (so an agent's death finds them). node-redis
 * reconnects by itself; while Redis is away, lookups fail and the API answers 500, never a wrong lab.
 */
export class RedisLabRoutes implements LabRoutes {
  /** `client`: connected (server/redis.ts connectRedis); closed by close() */
  constructor(
    private readonly client: Client,
    private readonly keepMs: number,
    private readonly prefix = "nslab:",
  ) {}

  private key(id: string): string {
    return `${this.prefix}lab:${id}`;
  }
  private agentKey(agent: string): string {
    return `${this.prefix}agent:${agent}`;
  }

  async put(r: LabRoute): Promise<void> {
    await this.client
      .multi()
      .hSet(this.key(r.id), { agent: r.agent, tokenHash: r.tokenHash, createdAt: String(r.createdAt) })
      .pExpire(this.key(r.id), this.keepMs)
      .sAdd(this.agentKey(r.agent), r.id)
      .exec();
  }

  async get(id: string): Promise<LabRoute | null> {
    const h = await this.client.hGetAll(this.key(id));
    if (!h || !h.agent || !h.tokenHash) return null;
    const r: LabRoute = { id, agent: h.agent, tokenHash: h.tokenHash, createdAt: Number(h.createdAt) };
    if (h.moreTokens) r.moreTokens = h.moreTokens.split(" ").filter(Boolean);
    if (h.endedReason) r.ended = { reason: h.endedReason as LabEndReason, at: Number(h.endedAt) };
    return r;
  }

  async end(id: string, reason: LabEndReason, at: number): Promise<void> {
    const agent = await this.client.hGet(this.key(id), "agent");
    if (!agent) return;
    // HSETNX: the first web replica to see the end says why; a second one does not overwrite it
    await this.client.multi().hSetNX(this.key(id), "endedReason", reason).hSetNX(this.key(id), "endedAt", String(at)).pExpire(this.key(id), this.keepMs).sRem(this.agentKey(agent), id).exec();
  }

  /** one class owner issues a lab's tokens, so a read and a write do (no two writers race) */
  async addToken(id: string, tokenHash: string): Promise<void> {
    const cur = await this.client.hGet(this.key(id), "moreTokens");
    if (cur === null && !(await this.client.exists(this.key(id)))) return;
    const list = [...(cur ?? "").split(" ").filter(Boolean), tokenHash].slice(-TOKENS_KEPT);
    await this.client.hSet(this.key(id), "moreTokens", list.join(" "));
  }

  async remove(id: string): Promise<void> {
    const agent = await this.client.hGet(this.key(id), "agent");
    const m = this.client.multi().del(this.key(id));
    if (agent) m.sRem(this.agentKey(agent), id);
    await m.exec();
  }

  async onAgent(agent: string): Promise<string[]> {
    const ids = await this.client.sMembers(this.agentKey(agent));
    if (!ids.length) return [];
    const m = this.client.multi();
    for (const id of ids) m.hGet(this.key(id), "endedReason").exists(this.key(id));
    const res = (await m.exec()) as unknown[];
    const out: string[] = [];
    const stale: string[] = [];
    ids.forEach((id, i) => {
      const ended = res[2 * i];
      const exists = Number(res[2 * i + 1]);
      if (!exists) stale.push(id);
      else if (!ended) out.push(id);
    });
    // labs whose hash expired leave the agent's set here
    if (stale.length) await this.client.sRem(this.agentKey(agent), stale);
    return out;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
