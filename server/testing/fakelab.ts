import "server-only";
import type { ExecOptions, ExecResult, LabHandle } from "../labs/types.ts";

/**
 * A LabHandle for tests without a real lab: no namespaces, just a function deciding what each
 * script "does" (it records every script with the time limit it was given), and optionally the
 * host pids of real processes standing in for the lab's (inspection tests). The lesson runner's
 * one-line prelude (language, `say`, answer) is taken off each script and kept in `preludes`.
 */
export function fakeLab(
  run: (script: string) => Partial<ExecResult> | Promise<Partial<ExecResult>> = () => ({}),
  o: { initPid?: number; pids?: () => number[]; hostname?: string } = {},
): LabHandle & { calls: { script: string; timeoutMs?: number }[]; preludes: string[] } {
  const calls: { script: string; timeoutMs?: number }[] = [];
  const preludes: string[] = [];
  return {
    id: "0123456789abcdef",
    mode: "root",
    hostname: o.hostname ?? "lab-012345",
    lesson: null,
    initPid: o.initPid ?? 1,
    createdAt: new Date(0),
    running: true,
    calls,
    preludes,
    async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
      if (script.startsWith("NSLAB_LANG=")) {
        const nl = script.indexOf("\n");
        preludes.push(script.slice(0, nl));
        script = script.slice(nl + 1);
      }
      calls.push({ script, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) });
      return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false, ...(await run(script)) };
    },
    trace: () => [],
    onTrace: () => () => {},
    hostPids: async () => o.pids?.() ?? [],
    hostPidsSync: () => null,
    onActivity: () => () => {},
  };
}
