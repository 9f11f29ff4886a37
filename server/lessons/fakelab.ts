import "server-only";
import type { ExecOptions, ExecResult, LabHandle } from "../labs/types.ts";

/**
 * A LabHandle for unit tests: no namespaces, just a function deciding what each script "does".
 * It records every script with the time limit it was given.
 */
export function fakeLab(run: (script: string) => Partial<ExecResult> | Promise<Partial<ExecResult>> = () => ({})): LabHandle & { calls: { script: string; timeoutMs?: number }[] } {
  const calls: { script: string; timeoutMs?: number }[] = [];
  return {
    id: "0123456789abcdef",
    mode: "root",
    hostname: "lab-012345",
    lesson: null,
    initPid: 1,
    createdAt: new Date(0),
    calls,
    async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
      calls.push({ script, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
      return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false, ...(await run(script)) };
    },
    trace: () => [],
    hostPids: async () => [],
    onActivity: () => () => {},
  };
}
