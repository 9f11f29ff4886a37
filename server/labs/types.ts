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
  timeoutMs?: number; // default 10000, at most 60000
  stdin?: never; // scripts get /dev/null on stdin
}

/** A running lab, owned by the LabManager. */
export interface LabHandle {
  readonly id: string;
  readonly mode: LabMode;
  readonly hostname: string;
  readonly lesson: string | null;
  readonly initPid: number; // host pid of the lab's PID 1 (nslab-init)
  readonly createdAt: Date;
  /** Runs `bash -c script` inside the lab as lab root, cwd /root. Never rejects for a failing script. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Trace entries recorded for this lab so far (bounded ring). */
  trace(): TraceEntry[];
  /** Host pids of every process of the lab (init, shells, and everything nested). */
  hostPids(): Promise<number[]>;
  /** Fires after terminal output or a finished command; the explorer uses it to refresh. */
  onActivity(fn: () => void): () => void;
}
