import "server-only";
import type { TraceEntry } from "../../lib/protocol.ts";
import type { RawTrace } from "../native/core.ts";

/**
 * A lab's syscall trace: what the backend did, and the namespace calls of the learner's own
 * commands, each in a bounded ring of its own (oldest dropped first), numbered in one sequence.
 */
export class TraceLog {
  private entries: TraceEntry[] = [];
  private learner: TraceEntry[] = [];
  private seq = 0;
  private listeners = new Set<(e: TraceEntry[]) => void>();

  constructor(private readonly max = 2000) {}

  /** Adds native records; `startedAt` is the wall time (ms) the native call began. */
  addNative(scope: string, raw: RawTrace[], startedAt: number): void {
    this.add(
      raw.map((r) => ({
        seq: 0,
        at: new Date(startedAt + r.atNs / 1e6).toISOString(),
        scope,
        who: r.who,
        sys: r.sys,
        args: r.args,
        ret: r.ret,
        errno: r.errno,
        durNs: r.durNs,
      })),
    );
  }

  /** Records a step the server did itself in TypeScript (cgroup files, cleanup). */
  addServer(scope: string, sys: string, args: string, fn: () => void): void {
    const t0 = process.hrtime.bigint();
    const at = new Date().toISOString();
    let errno = 0;
    try {
      fn();
    } catch (e) {
      errno = -((e as NodeJS.ErrnoException).errno ?? -1);
      throw e;
    } finally {
      this.add([{ seq: 0, at, scope, who: "server", sys, args, ret: errno ? -1 : 0, errno, durNs: Number(process.hrtime.bigint() - t0) }]);
    }
  }

  /** A learner's own call (server/labs/learner-calls.ts). */
  addLearner(e: TraceEntry): void {
    this.add([e]);
  }

  private add(list: TraceEntry[]): void {
    if (!list.length) return;
    for (const e of list) e.seq = ++this.seq;
    // two rings: a learner's loop of namespace calls must not push out how nslab built the lab
    const ring = list[0]!.who === "learner" ? this.learner : this.entries;
    ring.push(...list);
    if (ring.length > this.max) ring.splice(0, ring.length - this.max);
    for (const l of this.listeners) l(list);
  }

  /** Everything kept, in order. */
  all(): TraceEntry[] {
    if (!this.learner.length) return this.entries.slice();
    const out: TraceEntry[] = [];
    let i = 0;
    let j = 0;
    while (i < this.entries.length || j < this.learner.length) {
      if (j >= this.learner.length || (i < this.entries.length && this.entries[i]!.seq < this.learner[j]!.seq)) out.push(this.entries[i++]!);
      else out.push(this.learner[j++]!);
    }
    return out;
  }

  onAppend(fn: (e: TraceEntry[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
