import "server-only";
import fs from "node:fs";

/**
 * The host pids of every process of a lab: its pid namespace and every namespace nested in it,
 * found by following the process tree, not by walking the lab's cgroups. A lab may make thousands
 * of child cgroups (issue 12, finding 2: with 30,000 every walk of them held the event loop for
 * seconds); the tree costs one read per process of the lab, and the lab's pids.max bounds those.
 *
 * Every process of the lab descends from one of these roots:
 * - the lab's init: orphans are re-parented to it, or to a subreaper or nested init below it
 *   (pid_namespaces(7)), and a process in a nested namespace was started by one in the lab;
 * - the server's own children in the lab's pid namespace: the shells and checks the server starts
 *   (the helper clones them with CLONE_PARENT, so their parent is the server), and any process a
 *   lab process made beside itself with CLONE_PARENT.
 * A child of the server is the lab's only if its pid namespace is the lab's, so a reused pid is
 * never taken for the lab's. Each task's children are listed in /proc/PID/task/TID/children
 * (proc(5); the kernel builds it with CONFIG_PROC_CHILDREN, as CRIU needs).
 */
export function labPids(initPid: number, labNs: string, proc = "/proc"): number[] {
  const ns = (pid: number) => pidNamespace(pid, proc);
  const roots = [initPid, ...childrenOf("self", proc).filter((p) => p !== initPid && ns(p) === labNs)];
  if (ns(initPid) !== labNs) roots.shift(); // init is gone: its pid may be someone else's now
  const seen = new Set<number>(roots);
  const queue = [...roots];
  for (let i = 0; i < queue.length && seen.size < MAX_PROCESSES; i++) {
    for (const c of childrenOf(queue[i]!, proc)) {
      if (seen.has(c)) continue;
      seen.add(c);
      queue.push(c);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/** pid_max's ceiling (PID_MAX_LIMIT): a tree larger than any real one stops the walk. */
const MAX_PROCESSES = 4 * 1024 * 1024;

/** A process's pid namespace as /proc/PID/ns/pid names it ("pid:[4026532…]"); null once it is gone or a zombie (namespaces are released at exit). */
export function pidNamespace(pid: number, proc = "/proc"): string | null {
  try {
    return fs.readlinkSync(`${proc}/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

/** Children of every thread of a process. */
function childrenOf(pid: number | "self", proc: string): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`${proc}/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let text: string;
    try {
      text = fs.readFileSync(`${proc}/${pid}/task/${t}/children`, "latin1");
    } catch {
      continue;
    }
    for (const c of text.trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}
