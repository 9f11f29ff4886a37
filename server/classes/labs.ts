import "server-only";
import type { ClassLabCredentials, LabHealth } from "../../lib/classes.ts";
import { LabGoneError } from "../labs/errors.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import type { StreamSource } from "../terminals/broadcast.ts";
import type { Terminal } from "../terminals/terminal.ts";

/**
 * What the classroom needs of labs, as a port: a class lab is an ordinary lab (the lab API and
 * sockets work on it with its token), made and ended for the class. Implemented here over the
 * LabManager; a multi-node deployment (issue 15) implements it over its agents.
 */
export interface ClassLabs {
  /**
   * A new lab with the lesson's setup run; it counts as admitted (no per-address cap). It lives
   * until `deadline` (the class's end), however quiet it is.
   */
  create(lesson: string | null, clientIp: string, deadline: number): Promise<ClassLab>;
  /**
   * A lab made for this class earlier, by another process (a web replica that owned the class
   * before): the lab again if it still runs, else null. Without it (one process: the labs went
   * with it), a resumed class's learners get fresh labs.
   */
  resume?(labId: string): Promise<ClassLab | null>;
}

/**
 * What the classroom needs of a terminal: to follow its output (broadcast, looking over a
 * shoulder: terminals/broadcast.ts's StreamSource) and, with the learner's consent, to type into it.
 * A local Terminal is one; on a web replica it is a tap on the agent's terminal.
 */
export interface ClassTerminal extends StreamSource {
  inject(data: Buffer): boolean;
}

export interface ClassLab {
  readonly id: string;
  /**
   * What the learner's page needs to reach the lab, with a fresh token each time (the class keeps
   * no token: the lab keeps only their hashes, and the learner's earlier tabs keep working).
   */
  credentials(): Promise<ClassLabCredentials>;
  readonly running: boolean;
  /** the terminal with this id; without one, the terminal someone used last */
  terminal(id: string | null): ClassTerminal | null;
  health(): LabHealth;
  /** output, a finished command, or the lab's end; returns the unsubscribe function */
  onChange(fn: () => void): () => void;
  /** the lesson's setup scripts, once per lesson and lab */
  setupFor(lesson: string): Promise<void>;
  /** The lab is put away at `at` (ms since the epoch): the class's end moved (extended, or ended early). */
  setDeadline(at: number): void;
  /** `deadline`: the class ended (the lab's page says so); otherwise a plain end (a learner's reset) */
  destroy(reason?: "deadline"): Promise<void>;
  /** The class lets go of the lab without ending it (it moved to another process); optional. */
  detach?(): void;
}

export function managerLabs(mgr: LabManager, terminals: Terminals, runSetup: (lab: Lab, lesson: string) => Promise<unknown>): ClassLabs {
  return {
    async create(lesson, clientIp, deadline) {
      // a class lab lives for the class: no idle timeout or lifetime cap of the server's (a lecture
      // may leave it quiet for an hour), and the class's end as its deadline, so the lab manager
      // puts it away then whatever else happens. The class warns its learners before the end
      // itself, so the lab's own deadline warning is off (ownerWarns).
      const { lab } = await mgr.create({ lesson, clientIp, admitted: true, terminal: true, lifetime: { idleMs: null, maxMs: null, deadline, ownerWarns: true } });
      const done = new Set<string>(lesson ? [lesson] : []);
      return {
        id: lab.id,
        async credentials() {
          const token = mgr.issueToken(lab.id);
          if (!token) throw new LabGoneError();
          return { id: lab.id, token, mode: lab.mode, hostname: lab.hostname };
        },
        get running() {
          return lab.running;
        },
        terminal(id) {
          const mine = terminals.of(lab);
          if (id) return mine.get(id) ?? null;
          let best: Terminal | null = null;
          for (const t of mine.values()) if (!t.closed && (!best || (t.attached && !best.attached))) best = t;
          return best;
        },
        health() {
          const u = lab.usage();
          return { alive: lab.running, memoryBytes: u.memoryBytes, memoryMax: u.limits.memoryBytes, pids: u.pids, pidsMax: u.limits.pids };
        },
        onChange: (fn) => lab.onActivity(fn),
        async setupFor(l) {
          if (done.has(l) || !lab.running) return;
          done.add(l);
          await runSetup(lab, l);
        },
        setDeadline(at) {
          mgr.setLifetime(lab.id, { deadline: at });
        },
        destroy: (reason) => mgr.destroy(lab.id, reason ?? "deleted").then(() => {}),
      };
    },
  };
}
