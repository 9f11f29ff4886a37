import "server-only";
import type { LabEndReason } from "../../lib/protocol.ts";
import { tokenMatchesDigest } from "./secret.ts";

/**
 * The web tier's lab directory (issue 15): which agent holds each lab, its token's digest, and,
 * once it ended for a reason the agent cannot tell any more (its agent died), why. Web replicas
 * share it (Redis); with one web replica it lives in the process. The agent keeps the live labs
 * (server/labs/directory.ts); this is only the routing table, so it never holds a token.
 */
export interface LabRoute {
  id: string;
  agent: string;
  /** SHA-256 of the lab's token, hex */
  tokenHash: string;
  createdAt: number;
  /** further tokens handed out for the lab (a class learner rejoining), newest last, at most TOKENS_KEPT */
  moreTokens?: string[];
  ended?: { reason: LabEndReason; at: number };
}

/** as many as the agent's lab keeps (server/labs/lab.ts: the hashes of its last 8 tokens) */
export const TOKENS_KEPT = 8;

export interface LabRoutes {
  put(r: LabRoute): Promise<void>;
  get(id: string): Promise<LabRoute | null>;
  /** marks a lab ended (kept for `keepMs` so its page learns why) */
  end(id: string, reason: LabEndReason, at: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** a further token's digest for the lab (the agent issued it: POST /internal/labs/:id/token) */
  addToken(id: string, tokenHash: string): Promise<void>;
  /** ids of the labs routed to `agent` and not ended */
  onAgent(agent: string): Promise<string[]>;
  close(): Promise<void>;
}

/** The lab a token names: its route, "ended" (with why), or nothing (unknown lab or wrong token alike). */
export async function routeFor(routes: LabRoutes, id: string, token: string): Promise<{ route: LabRoute } | { ended: { reason: LabEndReason; at: number } } | null> {
  const r = await routes.get(id);
  if (!r) return null;
  let ok = tokenMatchesDigest(token, r.tokenHash);
  for (const d of r.moreTokens ?? []) if (tokenMatchesDigest(token, d)) ok = true;
  if (!ok) return null;
  return r.ended ? { ended: r.ended } : { route: r };
}

/** One web replica: the routes in this process (expired on a timer, like Redis's TTL). */
export class MemoryLabRoutes implements LabRoutes {
  private readonly byId = new Map<string, { r: LabRoute; until: number }>();
  constructor(private readonly keepMs: number) {}

  private live(id: string): LabRoute | null {
    const e = this.byId.get(id);
    if (!e) return null;
    if (Date.now() > e.until) {
      this.byId.delete(id);
      return null;
    }
    return e.r;
  }
  async put(r: LabRoute): Promise<void> {
    this.byId.set(r.id, { r: { ...r }, until: Date.now() + this.keepMs });
  }
  async get(id: string): Promise<LabRoute | null> {
    const r = this.live(id);
    return r ? { ...r } : null;
  }
  async end(id: string, reason: LabEndReason, at: number): Promise<void> {
    const r = this.live(id);
    if (r && !r.ended) this.byId.set(id, { r: { ...r, ended: { reason, at } }, until: Date.now() + this.keepMs });
  }
  async remove(id: string): Promise<void> {
    this.byId.delete(id);
  }
  async addToken(id: string, tokenHash: string): Promise<void> {
    const e = this.byId.get(id);
    if (e) e.r.moreTokens = [...(e.r.moreTokens ?? []), tokenHash].slice(-TOKENS_KEPT);
  }
  async onAgent(agent: string): Promise<string[]> {
    return [...this.byId.keys()].filter((id) => {
      const r = this.live(id);
      return r && r.agent === agent && !r.ended;
    });
  }
  async close(): Promise<void> {
    this.byId.clear();
  }
}
