import "server-only";
import type { TraceEntry } from "../../lib/protocol.ts";
import type { RawTrace } from "../native/core.ts";

/** A lab's syscall trace: a bounded ring of what the backend did, oldest dropped first. */
export class TraceLog {
  private entries: TraceEntry[] = [];
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

  private add(list: TraceEntry[]): void {
    if (!list.length) return;
    for (const e of list) e.seq = ++this.seq;
    this.entries.push(...list);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    for (const l of this.listeners) l(list);
  }

  all(): TraceEntry[] {
    return this.entries.slice();
  }

  onAppend(fn: (e: TraceEntry[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
