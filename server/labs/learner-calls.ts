import "server-only";
import { printable } from "../../lib/printable.ts";
import type { TraceEntry } from "../../lib/protocol.ts";
import { TRACED_NS, type LearnerCall } from "../native/syscalls.ts";

type Ns = (typeof TRACED_NS)[number];
/** the namespace types a CLONE_NEW* flag names (for pid and time the tracer reads *_for_children) */
const FLAG_NS: Record<string, Ns> = {
  CLONE_NEWUSER: "user",
  CLONE_NEWNS: "mnt",
  CLONE_NEWUTS: "uts",
  CLONE_NEWIPC: "ipc",
  CLONE_NEWNET: "net",
  CLONE_NEWCGROUP: "cgroup",
  CLONE_NEWPID: "pid",
  CLONE_NEWTIME: "time",
};
const FOR_CHILDREN = new Set<Ns>(["pid", "time"]);
const label = (t: Ns, ino: number) => `${t}:[${ino}]${FOR_CHILDREN.has(t) ? " (for its children)" : ""}`;
/**
 * What a call did, from its namespaces before and after, where that shows it: the kernel reports
 * no result to an observer that lets the call continue (seccomp_unotify(2)). Returns "" when
 * nothing can be told.
 */
export function inferResult(call: Pick<LearnerCall, "sys" | "args" | "nsBefore">, after: LearnerCall["nsAfter"]): string {
  const before = call.nsBefore;
  if (!before || !after) return "";
  if (call.sys === "unshare") {
    const types = [...call.args.matchAll(/CLONE_NEW[A-Z]+/g)].map((m) => FLAG_NS[m[0]]).filter((t): t is Ns => !!t);
    if (!types.length) return "";
    const changed = types.filter((t) => before[t] !== after[t]);
    if (changed.length === types.length) return `ok: new ${changed.map((t) => label(t, after[t])).join(" ")}`;
    return changed.length ? `partly: new ${changed.map((t) => label(t, after[t])).join(" ")}` : "failed (no new namespace)";
  }
  if (call.sys === "setns") {
    const changed = TRACED_NS.filter((t) => before[t] !== after[t]);
    return changed.length ? `ok: joined ${changed.map((t) => label(t, after[t])).join(" ")}` : "no namespace changed";
  }
  return "";
}

/**
 * A lab's learner calls into its trace: each record becomes a "learner" entry with the calling
 * process (its pid in the lab, its name) and, for unshare and setns, the result its namespaces
 * showed a moment later (native/src/tracer.c reads them again).
 */
export function learnerEntry(scope: string, call: LearnerCall): TraceEntry {
  return {
    seq: 0,
    at: new Date(call.at).toISOString(),
    scope,
    who: "learner",
    sys: call.sys,
    args: printable(call.args), // strings from the learner's memory
    ret: 0,
    errno: 0,
    durNs: -1,
    pid: call.labPid ?? undefined,
    comm: printable(call.comm),
    result: inferResult(call, call.nsAfter),
  };
}
