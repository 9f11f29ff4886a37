import "server-only";
import type { LabMode, TraceEntry } from "../../lib/protocol.ts";

/** What a check, solution or setup run returns. */
export interface ExecResult {
  code: number | null; // exit code, null if killed by a signal
  signal: string | null;
  stdout: string; // at most 64 KiB each; longer output is cut
  stderr: string;
  timedOut: boolean;
}

export interface ExecOptions {
  timeoutMs?: number; // default 10000, at most 600000
  stdin?: never; // scripts get /dev/null on stdin
}

/**
 * What the rest of the server may use of a lab (inspection, lessons, the explorer): everything
 * they need, so that nobody casts to reach further. Owned by the LabManager.
 */
export interface LabHandle {
  readonly id: string;
  readonly mode: LabMode;
  readonly hostname: string;
  readonly lesson: string | null;
  readonly initPid: number; // host pid of the lab's PID 1 (nslab-init)
  readonly createdAt: Date;
  /** false once the lab is being destroyed or its init has died */
  readonly running: boolean;
  /** Runs `bash -c script` inside the lab as lab root, cwd /root. Never rejects for a failing script. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Trace entries recorded for this lab so far (bounded ring). */
  trace(): TraceEntry[];
  /** Calls `fn` with each batch of trace entries as it is recorded; returns the unsubscribe. */
  onTrace(fn: (entries: TraceEntry[]) => void): () => void;
  /** Host pids of every process of the lab (init, shells, and everything nested). */
  hostPids(): Promise<number[]>;
  /** The same, read synchronously for cheap polls (from the lab's process tree, not its cgroups); null where unknown. */
  hostPidsSync(): number[] | null;
  /** Fires after terminal output or a finished command; the explorer uses it to refresh. */
  onActivity(fn: () => void): () => void;
}
