import "server-only";
import type { ClassLabCredentials, LabHealth } from "../../lib/classes.ts";
import type { Lab } from "../labs/lab.ts";
import type { LabManager } from "../labs/manager.ts";
import type { Terminals } from "../terminals/lab-terminals.ts";
import type { Terminal } from "../terminals/terminal.ts";

/**
 * What the classroom needs of labs, as a port: a class lab is an ordinary lab (the lab API and
 * sockets work on it with its token), made and ended for the class. Implemented here over the
 * LabManager; a multi-node deployment (issue 15) implements it over its agents.
 */
export interface ClassLabs {
  /** A new lab with the lesson's setup run; it counts as admitted (no per-address cap). */
  create(lesson: string | null, clientIp: string): Promise<ClassLab>;
}

export interface ClassLab {
  readonly credentials: ClassLabCredentials;
  readonly running: boolean;
  /** the terminal with this id; without one, the terminal someone used last */
  terminal(id: string | null): Terminal | null;
  health(): LabHealth;
  /** output, a finished command, or the lab's end; returns the unsubscribe function */
  onChange(fn: () => void): () => void;
  /** the lesson's setup scripts, once per lesson and lab */
  setupFor(lesson: string): Promise<void>;
  destroy(): Promise<void>;
}

export function managerLabs(mgr: LabManager, terminals: Terminals, runSetup: (lab: Lab, lesson: string) => Promise<unknown>): ClassLabs {
  return {
    async create(lesson, clientIp) {
      // a class lab lives for the class: no idle timeout or lifetime cap of the server's (a lecture
      // may leave it quiet for an hour); the class destroys it when it ends (LabManager.setLifetime
      // can give it the class's end as a deadline)
      const { lab, token } = await mgr.create({ lesson, clientIp, admitted: true, lifetime: { idleMs: null, maxMs: null } });
      const done = new Set<string>(lesson ? [lesson] : []);
      const credentials: ClassLabCredentials = { id: lab.id, token, mode: lab.mode, hostname: lab.hostname };
      return {
        credentials,
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
        destroy: () => mgr.destroy(lab.id).then(() => {}),
      };
    },
  };
}
