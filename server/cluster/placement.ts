import "server-only";
import type { AgentPool } from "./agents.ts";
import type { LabRoutes } from "./directory.ts";
import { INTERNAL_HEADER, tokenDigest } from "./secret.ts";

export interface PlacedLab {
  id: string;
  token: string;
  mode: string;
  hostname: string;
  agent: string;
  [k: string]: unknown;
}

/** No agent takes a lab now: admission queues the learner (err.capacity, as the manager's CapacityError). */
export class NoAgentError extends Error {
  readonly capacity = true;
}

/** A refusal that is the learner's (an unknown lesson, their address's cap): no other agent is tried. */
export class AgentRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string },
  ) {
    super(body.message ?? `agent refused (${status})`);
  }
}

/**
 * Makes a lab on the agent with the most headroom (AgentPool.candidates): asks it
 * (POST /internal/labs), and on 507 (overloaded) or 503 (draining) or no answer asks the next.
 * The lab's route goes into the directory before the learner hears of it; the token passes
 * through and only its digest is kept.
 */
export async function placeLab(pool: AgentPool, routes: LabRoutes, secret: string, req: { lesson: string | null; clientIp: string; class?: { deadline: number } }): Promise<PlacedLab> {
  for (const agent of pool.candidates()) {
    let res: Response;
    try {
      res = await fetch(`${agent.url}/internal/labs`, {
        method: "POST",
        headers: { [INTERNAL_HEADER]: secret, "content-type": "application/json" },
        body: JSON.stringify({ lesson: req.lesson, clientIp: req.clientIp, ...(req.class ? { class: req.class } : {}) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch {
      await pool.suspect(agent.name);
      continue;
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 201) {
      const lab = body as unknown as PlacedLab;
      await routes.put({ id: lab.id, agent: agent.name, tokenHash: tokenDigest(lab.token), createdAt: Date.now() });
      pool.placed(agent.name);
      return { ...lab, agent: agent.name };
    }
    if (res.status === 507 || res.status === 503) {
      pool.refused(agent.name);
      continue;
    }
    throw new AgentRefusal(res.status, body as { error?: string; message?: string });
  }
  throw new NoAgentError("No agent has room for a lab now.");
}

/** Ends a lab on its agent (a queued learner never picked it up) and forgets its route. */
export async function discardLab(pool: AgentPool, routes: LabRoutes, secret: string, id: string): Promise<void> {
  const r = await routes.get(id);
  if (!r) return;
  const agent = pool.get(r.agent);
  await routes.remove(id);
  if (!agent?.up) return;
  await fetch(`${agent.url}/internal/labs/${encodeURIComponent(id)}`, { method: "DELETE", headers: { [INTERNAL_HEADER]: secret }, signal: AbortSignal.timeout(10_000) })
    .then((res) => res.body?.cancel())
    .catch(() => {});
}

/**
 * An agent answers again after web declared it dead (a network split, not a crash): the labs it
 * still holds whose routes say `agent-lost` were given up for (their learners were told and moved
 * on), so they end now rather than live on unseen until their idle timeout. Returns how many.
 */
export async function endLostLabs(url: string, routes: LabRoutes, secret: string): Promise<number> {
  const res = await fetch(`${url}/internal/labs`, { headers: { [INTERNAL_HEADER]: secret }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    await res.body?.cancel();
    return 0;
  }
  const { labs } = (await res.json()) as { labs: { id: string }[] };
  let ended = 0;
  for (const { id } of labs) {
    const r = await routes.get(id);
    if (r?.ended?.reason !== "agent-lost") continue;
    const del = await fetch(`${url}/internal/labs/${encodeURIComponent(id)}?reason=agent-lost`, { method: "DELETE", headers: { [INTERNAL_HEADER]: secret }, signal: AbortSignal.timeout(10_000) });
    await del.body?.cancel();
    if (del.status === 204) ended++;
  }
  return ended;
}

/**
 * The labs an address holds on all agents that answer (NSLAB_LABS_PER_CLIENT across the cluster:
 * each agent alone sees only its share). Asked at each creation, so labs that ended on an agent by
 * themselves (idle, lifetime) are not counted; an agent that does not answer counts none.
 */
export async function labsOfClient(pool: AgentPool, secret: string, ip: string): Promise<number> {
  const counts = await Promise.all(
    pool
      .list()
      .filter((a) => a.up)
      .map(async (a) => {
        try {
          const res = await fetch(`${a.url}/internal/labs?client=${encodeURIComponent(ip)}`, { headers: { [INTERNAL_HEADER]: secret }, signal: AbortSignal.timeout(5000) });
          if (!res.ok) return void (await res.body?.cancel()), 0;
          return ((await res.json()) as { labs: unknown[] }).labs.length;
        } catch {
          return 0;
        }
      }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
