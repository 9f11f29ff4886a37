import "server-only";
import dns from "node:dns/promises";
import { INTERNAL_HEADER } from "./secret.ts";

/** What an agent reports about itself (GET /internal/health), for placement and rotation. */
export interface AgentHealth {
  /** the agent's own name (NSLAB_AGENT_NAME, else its host name) */
  name: string;
  /** learners' labs, and the most it takes (its NSLAB_MAX_LABS) */
  labs: number;
  maxLabs: number;
  pooled: number;
  /** host memory: MemAvailable and MemTotal, bytes */
  memAvailable: number;
  memTotal: number;
  /** 1-minute load average and CPU count */
  load1: number;
  cpus: number;
  /** an operator drains it: no new labs, its labs run on */
  draining: boolean;
  /** it refuses new labs now (full, or short of memory): Play with Docker's 507 */
  overloaded: boolean;
}

export interface AgentState {
  name: string;
  url: string;
  up: boolean;
  health: AgentHealth | null;
  /** failed health reads in a row */
  failures: number;
  /** labs placed here since its last health report (so a burst does not all land on one agent) */
  placedSince: number;
  /** it answered 507 since its last report */
  refusing: boolean;
}

/**
 * How much room an agent has for one more lab, 0..1: the scarcer of lab slots and memory (a host
 * with free slots but no memory has no room; labs placed since its last report count), weighed
 * down by up to half when its CPUs are busy. A busy CPU alone never makes room 0: load average
 * counts waiting tasks of every kind, and a lab mostly waits for its learner.
 */
export function headroom(h: AgentHealth, placedSince = 0): number {
  const slots = h.maxLabs > 0 ? 1 - (h.labs + placedSince) / h.maxLabs : 0;
  const mem = h.memTotal > 0 && Number.isFinite(h.memAvailable) ? h.memAvailable / h.memTotal : 1;
  const room = Math.max(0, Math.min(slots, mem));
  const busy = h.cpus > 0 ? Math.min(h.load1 / h.cpus, 1) : 0;
  return room * (1 - busy / 2);
}

export interface AgentPoolOptions {
  secret: string;
  intervalMs: number;
  /** failed reads in a row before an agent is dead */
  downAfter: number;
  timeoutMs?: number;
  /** agents found by name: every A record of `host` is an agent at http://ip:port, named ip:port */
  dns?: { host: string; port: number } | null;
  /** how addresses are resolved (tests) */
  resolve?: (host: string) => Promise<string[]>;
}

export interface AgentPoolEvents {
  /** an agent stopped answering: its labs are lost */
  down?(name: string): void | Promise<void>;
  /** an agent answers again (or for the first time) */
  up?(name: string): void;
  /** a report came in with room: queued learners may get a lab */
  room?(): void;
}

/**
 * The agents a web replica knows (NSLAB_AGENTS), their health read every `intervalMs`, and which
 * one gets the next lab. Each web replica reads the agents itself (nothing to coordinate); when
 * one sees an agent die it marks that agent's labs in the shared directory.
 */
export class AgentPool {
  private readonly agents = new Map<string, AgentState>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    list: { name: string; url: string }[],
    private readonly o: AgentPoolOptions,
    private readonly events: AgentPoolEvents = {},
  ) {
    for (const a of list) this.agents.set(a.name, { name: a.name, url: a.url, up: false, health: null, failures: 0, placedSince: 0, refusing: false });
  }

  /** Reads every agent once, then keeps reading them in the background. */
  async start(): Promise<void> {
    await this.pollAll();
    const tick = () => {
      if (this.closed) return;
      this.timer = setTimeout(() => void this.pollAll().finally(tick), this.o.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  get(name: string): AgentState | undefined {
    return this.agents.get(name);
  }

  list(): AgentState[] {
    return [...this.agents.values()];
  }

  /** Agents that take new labs, the most headroom first. */
  candidates(): AgentState[] {
    return this.list()
      .filter((a) => a.up && a.health && !a.health.draining && !a.health.overloaded && !a.refusing)
      // rooms within 5% of each other count as equal, so the fewer labs win: two agents on hosts alike
      // differ only by noise in MemAvailable, and a burst must still spread over both
      .filter((a) => headroom(a.health!, a.placedSince) > 0)
      .map((a) => ({ a, room: Math.floor(headroom(a.health!, a.placedSince) * 20) / 20 }))
      .sort((x, y) => y.room - x.room || x.a.placedSince + x.a.health!.labs - (y.a.placedSince + y.a.health!.labs) || x.a.name.localeCompare(y.a.name))
      .map((x) => x.a);
  }

  placed(name: string): void {
    const a = this.agents.get(name);
    if (a) a.placedSince++;
  }

  /** The agent answered 507 (or 503 draining): out of rotation until its next report. */
  refused(name: string): void {
    const a = this.agents.get(name);
    if (a) a.refusing = true;
  }

  /**
   * A connection to the agent failed: read its health now; if that fails too, it is dead at once
   * (two failures of different kinds), without waiting for `downAfter` reads.
   */
  async suspect(name: string): Promise<boolean> {
    const a = this.agents.get(name);
    if (!a) return false;
    if (!a.up) return false;
    const ok = await this.poll(a);
    if (!ok && a.up) await this.markDown(a);
    return a.up;
  }

  private async pollAll(): Promise<void> {
    if (this.o.dns) await this.discover(this.o.dns);
    await Promise.all(this.list().map((a) => this.poll(a)));
    if (this.candidates().length) this.events.room?.();
  }

  private async poll(a: AgentState): Promise<boolean> {
    let h: AgentHealth | null = null;
    try {
      const res = await fetch(`${a.url}/internal/health`, {
        headers: { [INTERNAL_HEADER]: this.o.secret },
        signal: AbortSignal.timeout(this.o.timeoutMs ?? Math.max(1000, this.o.intervalMs)),
      });
      if (res.ok) h = (await res.json()) as AgentHealth;
      else await res.body?.cancel();
    } catch {
      h = null;
    }
    if (this.closed) return false;
    if (h) {
      a.health = h;
      a.failures = 0;
      a.placedSince = 0;
      a.refusing = false;
      if (!a.up) {
        a.up = true;
        this.events.up?.(a.name);
      }
      return true;
    }
    a.failures++;
    if (a.up && a.failures >= this.o.downAfter) await this.markDown(a);
    return false;
  }

  /**
   * A headless Service's addresses are the agents: a new address is a new agent; one that left the
   * records stays until it is down (its labs are marked lost first), then it is forgotten.
   */
  private async discover(d: { host: string; port: number }): Promise<void> {
    let ips: string[];
    try {
      ips = await (this.o.resolve ?? ((h: string) => dns.resolve4(h)))(d.host);
    } catch {
      return; // no answer this time: keep the agents known
    }
    const names = new Set(ips.map((ip) => `${ip}:${d.port}`));
    for (const name of names)
      if (!this.agents.has(name)) this.agents.set(name, { name, url: `http://${name}`, up: false, health: null, failures: 0, placedSince: 0, refusing: false });
    for (const a of this.list()) if (!names.has(a.name) && !a.up && a.url === `http://${a.name}`) this.agents.delete(a.name);
  }

  private async markDown(a: AgentState): Promise<void> {
    a.up = false;
    try {
      await this.events.down?.(a.name);
    } catch (e) {
      console.error(`nslab: marking agent ${a.name}'s labs lost failed:`, e);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
