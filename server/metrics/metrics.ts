import "server-only";
import client from "prom-client";

/**
 * The server's metrics (Prometheus text format, prom-client), one registry per server so that
 * tests can run several. Counters and histograms are fed by events (lab created, failed, ended,
 * terminal bytes, ...); gauges are read when /metrics is scraped, from `Sources`, so nothing here
 * polls. Names and meanings: docs/operations.md, "Metrics".
 */

export interface LabSample {
  state: "pooled" | "active" | "idle" | "expiring";
  memoryBytes: number | null;
  pids: number | null;
  /** cumulative CPU time of the lab's cgroup, seconds; null without cgroups */
  cpuSeconds: number | null;
}

/** One agent as a web replica sees it (NSLAB_ROLE=web: its per-agent gauges). */
export interface AgentSample {
  name: string;
  up: boolean;
  /** learners' labs, and the agent's NSLAB_MAX_LABS (null before its first health report) */
  labs: number | null;
  maxLabs: number | null;
  /** placement's score, 0 (no room) to 1 (cluster/agents.ts headroom) */
  headroom: number;
  draining: boolean;
  overloaded: boolean;
  memAvailableBytes: number | null;
}

/** What the gauges read at scrape time. */
export interface Sources {
  labs(): LabSample[];
  pool(): number;
  terminals(): { attached: number; detached: number };
  sockets(): { terminal: number; explorer: number };
  queue(): number;
  /** live classes by state and the learners in them (classroom) */
  classes?(): { open: number; ending: number; learners: number };
  /** open read-only broadcast sockets: the class's stage, and instructors watching a learner */
  viewers?(): { stage: number; watch: number };
}

const LAB_STATES: LabSample["state"][] = ["pooled", "active", "idle", "expiring"];

export class Metrics {
  readonly registry = new client.Registry();
  readonly creations: client.Counter<"source">;
  readonly failures: client.Counter<"step">;
  readonly createSeconds: client.Histogram<"source">;
  readonly firstPromptSeconds: client.Histogram<"source">;
  readonly terminalBytes: client.Counter<"direction">;
  readonly evictions: client.Counter<"reason">;
  readonly refusals: client.Counter<"reason">;
  readonly queueWaitSeconds: client.Histogram;
  readonly httpRequests: client.Counter<"status">;
  readonly accessDenied: client.Counter<"what" | "why">;
  readonly classJoins: client.Counter<"kind">;
  readonly broadcastBytes: client.Counter;
  readonly connectionsRefused: client.Counter<"reason">;
  private sources: Sources | null = null;

  /**
   * Web's gauges per agent, read at scrape time: up, labs against the limit, placement headroom,
   * draining, overloaded (507), free memory. The agents' own /metrics say the rest.
   */
  watchAgents(read: () => AgentSample[]): void {
    const r = this.registry;
    const gauge = (name: string, help: string, value: (a: AgentSample) => number | null) =>
      new client.Gauge({
        name,
        help,
        labelNames: ["agent"],
        registers: [r],
        collect() {
          this.reset();
          for (const a of read()) {
            const v = value(a);
            if (v !== null) this.set({ agent: a.name }, v);
          }
        },
      });
    gauge("nslab_agent_up", "1 while the agent answers its health reads, 0 once it is declared dead", (a) => (a.up ? 1 : 0));
    gauge("nslab_agent_labs", "Learners' labs on the agent (its last health report)", (a) => a.labs);
    gauge("nslab_agent_max_labs", "The agent's NSLAB_MAX_LABS", (a) => a.maxLabs);
    gauge("nslab_agent_headroom", "Placement's headroom for the agent, 0 (no room) to 1 (empty, idle)", (a) => a.headroom);
    gauge("nslab_agent_draining", "1 while the agent is drained (no new labs)", (a) => (a.draining ? 1 : 0));
    gauge("nslab_agent_overloaded", "1 while the agent is full or short of memory (507)", (a) => (a.overloaded ? 1 : 0));
    gauge("nslab_agent_memory_available_bytes", "The agent's MemAvailable (its last health report)", (a) => a.memAvailableBytes);
  }

  constructor(opts: { defaults?: boolean } = {}) {
    const r = this.registry;
    if (opts.defaults !== false) client.collectDefaultMetrics({ register: r, prefix: "nslab_" });
    this.creations = new client.Counter({ name: "nslab_lab_creations_total", help: "Labs handed to learners, from the warm pool or made for them", labelNames: ["source"], registers: [r] });
    this.failures = new client.Counter({ name: "nslab_lab_create_failures_total", help: "Lab creations that failed, by the step that failed", labelNames: ["step"], registers: [r] });
    this.createSeconds = new client.Histogram({
      name: "nslab_lab_create_seconds",
      help: "Time to hand a lab to a learner (pool: a pooled lab; cold: made on request)",
      labelNames: ["source"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    this.firstPromptSeconds = new client.Histogram({
      name: "nslab_first_prompt_seconds",
      help: "From the lab's creation request to the first byte of its first terminal sent to the learner",
      labelNames: ["source"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [r],
    });
    this.terminalBytes = new client.Counter({ name: "nslab_terminal_bytes_total", help: "Terminal bytes: in = typed by learners, out = sent to them", labelNames: ["direction"], registers: [r] });
    this.evictions = new client.Counter({ name: "nslab_lab_evictions_total", help: "Labs the server put away, by reason (idle, max-lifetime, deadline, operator, shutdown)", labelNames: ["reason"], registers: [r] });
    this.refusals = new client.Counter({ name: "nslab_admission_refusals_total", help: "Lab requests refused, by reason (rate_limited, too_many_labs, draining)", labelNames: ["reason"], registers: [r] });
    this.queueWaitSeconds = new client.Histogram({
      name: "nslab_queue_wait_seconds",
      help: "How long queued learners waited for a lab",
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers: [r],
    });
    this.httpRequests = new client.Counter({ name: "nslab_http_requests_total", help: "API requests by status class", labelNames: ["status"], registers: [r] });
    this.accessDenied = new client.Counter({
      name: "nslab_access_denied_total",
      help: "Refused credentials: what (code: workshop access code, class: class join code, operator: operator key), why (missing, wrong, locked)",
      labelNames: ["what", "why"],
      registers: [r],
    });
    this.classJoins = new client.Counter({ name: "nslab_class_joins_total", help: "Learners joining a class: new learners, and rejoins with their key", labelNames: ["kind"], registers: [r] });
    this.broadcastBytes = new client.Counter({ name: "nslab_broadcast_bytes_total", help: "Terminal bytes sent to read-only viewers (the class's broadcast, an instructor watching a learner), snapshots included", registers: [r] });
    this.connectionsRefused = new client.Counter({
      name: "nslab_connections_refused_total",
      help: "Connections refused or closed by a limit: connections_per_address, sockets_per_address, sockets_per_lab, slow_reader",
      labelNames: ["reason"],
      registers: [r],
    });

    const self = this;
    new client.Gauge({
      name: "nslab_labs",
      help: "Labs by state: pooled (warm, nobody's), active (activity in the last minute), idle, expiring (its page was warned)",
      labelNames: ["state"],
      registers: [r],
      collect() {
        const counts = Object.fromEntries(LAB_STATES.map((s) => [s, 0])) as Record<LabSample["state"], number>;
        for (const l of self.sources?.labs() ?? []) counts[l.state]++;
        for (const s of LAB_STATES) this.set({ state: s }, counts[s]);
      },
    });
    new client.Gauge({ name: "nslab_pool_size", help: "Warm labs ready in the pool", registers: [r], collect() { this.set(self.sources?.pool() ?? 0); } });
    new client.Gauge({
      name: "nslab_terminals",
      help: "Open terminals (shells), attached to a browser or not",
      labelNames: ["attached"],
      registers: [r],
      collect() {
        const t = self.sources?.terminals() ?? { attached: 0, detached: 0 };
        this.set({ attached: "yes" }, t.attached);
        this.set({ attached: "no" }, t.detached);
      },
    });
    new client.Gauge({
      name: "nslab_sockets",
      help: "Open WebSockets by kind",
      labelNames: ["kind"],
      registers: [r],
      collect() {
        const s = self.sources?.sockets() ?? { terminal: 0, explorer: 0 };
        this.set({ kind: "terminal" }, s.terminal);
        this.set({ kind: "explorer" }, s.explorer);
      },
    });
    new client.Gauge({
      name: "nslab_classes",
      help: "Live classes by state: open, ending (learners warned, labs about to go)",
      labelNames: ["state"],
      registers: [r],
      collect() {
        const c = self.sources?.classes?.() ?? { open: 0, ending: 0, learners: 0 };
        this.set({ state: "open" }, c.open);
        this.set({ state: "ending" }, c.ending);
      },
    });
    new client.Gauge({ name: "nslab_class_learners", help: "Learners in live classes", registers: [r], collect() { this.set(self.sources?.classes?.().learners ?? 0); } });
    new client.Gauge({
      name: "nslab_broadcast_viewers",
      help: "Open read-only terminal viewers: stage (a class's broadcast), watch (an instructor looking over a learner's shoulder)",
      labelNames: ["kind"],
      registers: [r],
      collect() {
        const v = self.sources?.viewers?.() ?? { stage: 0, watch: 0 };
        this.set({ kind: "stage" }, v.stage);
        this.set({ kind: "watch" }, v.watch);
      },
    });
    new client.Gauge({ name: "nslab_queue_length", help: "Learners waiting for a lab", registers: [r], collect() { this.set(self.sources?.queue() ?? 0); } });
    // per-lab cgroup usage, summarised (one series per statistic, not per lab)
    const summary = (name: string, help: string, pick: (l: LabSample) => number | null) =>
      new client.Gauge({
        name,
        help,
        labelNames: ["stat"],
        registers: [r],
        collect() {
          const v = (self.sources?.labs() ?? []).map(pick).filter((x): x is number => x !== null).sort((a, b) => a - b);
          const q = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))]! : 0);
          this.set({ stat: "sum" }, v.reduce((a, b) => a + b, 0));
          this.set({ stat: "max" }, v.at(-1) ?? 0);
          this.set({ stat: "p50" }, q(0.5));
          this.set({ stat: "p90" }, q(0.9));
        },
      });
    summary("nslab_lab_memory_bytes", "Memory of labs' cgroups (page cache included, as their limit counts it): sum, max, p50, p90 over labs", (l) => l.memoryBytes);
    summary("nslab_lab_pids", "Processes in labs' cgroups: sum, max, p50, p90 over labs", (l) => l.pids);
    summary("nslab_lab_cpu_seconds", "CPU time used by labs' cgroups so far: sum, max, p50, p90 over labs", (l) => l.cpuSeconds);
  }

  setSources(s: Sources): void {
    this.sources = s;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
