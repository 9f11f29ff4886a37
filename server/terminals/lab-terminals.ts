import "server-only";
import type { LabEndReason, TerminalStatus } from "../../lib/protocol.ts";
import { LabGoneError } from "../labs/errors.ts";
import type { Lab } from "../labs/lab.ts";
import { TooManyTerminalsError } from "./errors.ts";
import { Terminal, type TerminalOptions } from "./terminal.ts";

/** What a lab's terminals need of it: a shell on a new pty, its activity channel, and its end. */
export type PtyLab = Pick<Lab, "id" | "running" | "spawnPty" | "takeFirstShell" | "emitActivity" | "onDestroy" | "touch" | "endReason">;

/** What a terminal's page is told when its lab ends, by reason (the `closed` message). */
const END_MESSAGES: Record<LabEndReason, string> = {
  idle: "The lab was put away because nothing happened in it for a while.",
  "max-lifetime": "The lab reached its maximum lifetime and was put away.",
  deadline: "The lab's time is up (its class ended).",
  operator: "The lab was ended by the server's operator.",
  shutdown: "The server is restarting; the lab was shut down.",
  deleted: "The lab was shut down.",
  "agent-lost": "The machine that ran the lab stopped answering.",
  "cgroup-limit": "The lab was ended: it made more cgroups than a lab may.",
};

export interface TerminalSettings extends TerminalOptions {
  /** terminals one lab may have at once (Config.terminalsPerLab) */
  maxPerLab: number;
}

/** The login shell each terminal runs. */
export const SHELL = ["/bin/bash", "-l"];

/**
 * The terminals of every lab. Each lab's set is made on first use and released when the lab is
 * destroyed (its shells get SIGHUP, its clients a "lab-destroyed" close). One per server.
 */
export class Terminals {
  private readonly sets = new Map<PtyLab, LabTerminals>();

  constructor(private readonly settings: TerminalSettings) {}

  /** The terminals of `lab` (an empty set, not kept, for a lab that is not running). */
  of(lab: PtyLab): LabTerminals {
    let set = this.sets.get(lab);
    if (set) return set;
    set = new LabTerminals(lab, this.settings);
    if (!lab.running) return set;
    this.sets.set(lab, set);
    const made = set;
    lab.onDestroy(() => {
      this.sets.delete(lab);
      made.closeAll("lab-destroyed", lab.endReason ?? undefined);
    });
    return set;
  }

  /** The shell each open terminal of `lab` runs (host pids), without making a set for it. */
  shells(lab: object): { id: string; pid: number }[] {
    return this.sets.get(lab as PtyLab)?.shells() ?? [];
  }

  /** Labs that have a terminal set now. */
  get labs(): number {
    return this.sets.size;
  }
}

/** One lab's terminals: `t1`, `t2`, … at most `maxPerLab` at once. */
export class LabTerminals {
  private readonly byId = new Map<string, Terminal>();
  private next = 1;
  private opening = 0;
  /** the shell started before anyone asked (prestart), while it starts */
  private early: Promise<unknown> | null = null;
  /** fresh terminals a socket took (takeFresh) and is about to attach: no other socket takes them */
  private readonly claimed = new WeakSet<Terminal>();

  constructor(
    private readonly lab: PtyLab,
    private readonly settings: TerminalSettings,
  ) {}

  get(id: string): Terminal | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<Terminal> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** A terminal opened ahead of time (a pooled lab's) that nobody has attached to yet, if any. */
  fresh(): Terminal | undefined {
    for (const t of this.byId.values()) if (!t.everAttached && !t.exit && !this.claimed.has(t)) return t;
    return undefined;
  }

  /**
   * Starts the lab's first shell now, before any socket asks for it (a new lab whose page will
   * open a terminal at once), so that its start overlaps the HTTP answer and the socket's
   * handshake. A failure is left for the socket, which then opens a shell of its own and reports.
   */
  prestart(cols: number, rows: number): void {
    if (this.early || this.byId.size || this.opening) return;
    const early = this.open(cols, rows).catch(() => {});
    this.early = early;
    void early.then(() => {
      if (this.early === early) this.early = null;
    });
  }

  /**
   * fresh(), once a shell being started ahead of time (prestart) is there, taken by one socket only
   * (sockets that arrive together each get their own terminal); `unclaim` if it is not attached.
   */
  async takeFresh(): Promise<Terminal | undefined> {
    if (this.early) await this.early;
    const t = this.fresh();
    if (t) this.claimed.add(t);
    return t;
  }

  unclaim(t: Terminal): void {
    this.claimed.delete(t);
  }

  /** The shell of each terminal whose shell still runs. */
  shells(): { id: string; pid: number }[] {
    return [...this.byId.values()].filter((t) => !t.exit).map((t) => ({ id: t.id, pid: t.pid }));
  }

  status(): TerminalStatus[] {
    return [...this.byId.values()].map((t) => ({ id: t.id, attached: t.attached, exited: t.exit !== null, exitCode: t.exit?.code ?? null }));
  }

  /** Opens a login shell on a new pty of the lab's devpts. */
  async open(cols: number, rows: number): Promise<Terminal> {
    if (!this.lab.running) throw new LabGoneError();
    const max = this.settings.maxPerLab;
    if (this.byId.size + this.opening >= max) throw new TooManyTerminalsError(max);
    const id = `t${this.next++}`;
    let pty;
    this.opening++;
    try {
      // the shell that came with the lab (a page's first terminal), or a new one
      const o = { cols, rows, traceScope: `terminal:${id}` };
      pty = (await this.lab.takeFirstShell(SHELL, o)) ?? (await this.lab.spawnPty(SHELL, o));
    } finally {
      this.opening--;
    }
    const term = new Terminal(id, pty.proc, pty.master, { cols, rows }, this.settings, {
      // output and input are the lab's activity: its idle timeout starts again
      onActivity: () => {
        this.lab.touch();
        this.lab.emitActivity();
      },
      onInput: () => this.lab.touch(),
      onDisposed: (t) => {
        this.byId.delete(t.id);
        this.lab.emitActivity();
      },
    });
    this.byId.set(id, term);
    if (!this.lab.running) {
      // the lab went away while the shell was being started
      term.dispose("lab-destroyed");
      throw new LabGoneError();
    }
    this.lab.emitActivity();
    return term;
  }

  /** A pooled lab was handed to a learner: its waiting shells' grace periods start now. */
  restartGrace(): void {
    for (const t of this.byId.values()) t.restartGrace();
  }

  /** Ends every terminal (the lab is going; `ended`: why, for the pages). */
  closeAll(reason: "lab-destroyed" | "terminal-closed", ended?: LabEndReason): void {
    const why = ended ? { message: END_MESSAGES[ended], ended } : undefined;
    for (const t of [...this.byId.values()]) t.dispose(reason, why);
  }
}
