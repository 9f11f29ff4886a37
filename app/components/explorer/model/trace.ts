/** The syscall trace: man page links, errno names, results, durations, clock times, merging batches. */
import { errnoName } from "@/lib/errno";
import type { TraceEntry } from "@/lib/protocol";

const SECTION2 = new Set(
  (
    "accept access bind brk chdir chmod chown chroot clone close connect dup dup2 dup3 epoll_create epoll_ctl epoll_wait " +
    "eventfd execve execveat exit fchdir fchmod fchown fcntl fork fsconfig fsmount fsopen fstat getdents getpid getuid " +
    "ioctl kill link listen lseek mkdir mknod mmap mount mount_setattr move_mount open open_tree openat openat2 pidfd_open " +
    "pidfd_send_signal pipe pipe2 pivot_root prctl read readlink rename rmdir setdomainname setgid setgroups sethostname " +
    "setns setpgid setresgid setresuid setsid setuid socket stat statx symlink umount unlink unshare wait4 waitid write"
  ).split(" "),
);
/** System calls whose man page is another's (clone3 is documented in clone(2), umount2 in umount(2)). */
const PAGE_OF: Record<string, string> = { clone3: "clone", umount2: "umount", dup3: "dup", pipe2: "pipe", wait4: "wait4", fchownat: "chown", mkdirat: "mkdir", symlinkat: "symlink", newfstatat: "stat" };

export interface ManLink {
  label: string; // "clone(2)"
  url: string;
}

const man = (name: string, section: "2" | "3" | "7"): ManLink => ({ label: `${name}(${section})`, url: `https://man7.org/linux/man-pages/man${section}/${name}.${section}.html` });

/**
 * The man page that documents a trace entry's call, and a second page that explains what it did
 * when that is more telling (writing uid_map → user_namespaces(7)). null for steps that are not
 * system calls (nslab's own "copy").
 */
export function manPages(sys: string, args = ""): ManLink[] {
  if (sys === "ioctl") {
    if (/\bTIOC/.test(args)) return [man("ioctl_tty", "2")];
    if (/\bNS_GET_/.test(args)) return [man("ioctl_ns", "2")];
    if (/\bSIOC/.test(args)) return [man("ioctl", "2"), man("netdevice", "7")];
    return [man("ioctl", "2")];
  }
  if (sys === "posix_spawn") return [man("posix_spawn", "3")];
  const page = PAGE_OF[sys] ?? sys;
  if (!SECTION2.has(page) && !SECTION2.has(sys)) return [];
  const links = [man(page, "2")];
  if (sys === "write" || sys === "openat" || sys === "open") {
    if (/\/(uid_map|gid_map|setgroups)\b/.test(args)) links.push(man("user_namespaces", "7"));
    else if (/cgroup/.test(args)) links.push(man("cgroups", "7"));
  }
  if (sys === "clone3" || sys === "clone" || sys === "unshare" || sys === "setns") links.push(man("namespaces", "7"));
  if (sys === "mount" && /MS_(SHARED|SLAVE|PRIVATE|UNBINDABLE)/.test(args)) links.push(man("mount_namespaces", "7"));
  if (sys === "mount_setattr" && /MS_(SHARED|SLAVE|PRIVATE|UNBINDABLE)/.test(args)) links.push(man("mount_namespaces", "7"));
  return links;
}

/**
 * What a call returned: its value, or -1 and the errno's name. A learner's own call has no
 * reported result (the observer lets it continue): what could be inferred, or "".
 */
export function traceResult(e: Pick<TraceEntry, "ret" | "errno"> & Partial<Pick<TraceEntry, "who" | "result">>): { text: string; failed: boolean } {
  if (e.who === "learner") return { text: e.result ?? "", failed: /^failed/.test(e.result ?? "") };
  if (e.errno) return { text: `-1 ${errnoName(e.errno)}`, failed: true };
  return { text: String(e.ret), failed: e.ret < 0 };
}

export function formatDuration(ns: number): string {
  if (!(ns >= 0)) return "";
  if (ns < 1_000) return "<1 µs";
  if (ns < 1_000_000) return `${Math.round(ns / 1_000)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 1 : 0)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

/** "20:28:01.123" in local time. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * Appends trace entries, dropping repeats (a reconnect resends the backlog) and keeping the newest
 * `max` of each kind: the learner's own calls, and nslab's (a loop of the learner's must not push
 * out how nslab built the lab).
 */
export function mergeTrace(have: TraceEntry[], add: TraceEntry[], max = 2000): TraceEntry[] {
  const last = have.at(-1)?.seq ?? 0;
  let fresh = add.filter((e) => e.seq > last);
  // the lab's sequence restarts only with a new lab: a lower seq than we have means start over
  if (!fresh.length && add.length && add.at(-1)!.seq < last && add[0]!.seq === 1) return cap(add, max);
  fresh = fresh.sort((a, b) => a.seq - b.seq);
  const out = fresh.length ? [...have, ...fresh] : have;
  return out.length > max ? cap(out, max) : out;
}

function cap(list: TraceEntry[], max: number): TraceEntry[] {
  let learner = 0;
  let nslab = 0;
  for (const e of list) e.who === "learner" ? learner++ : nslab++;
  if (learner <= max && nslab <= max) return list;
  let dropLearner = Math.max(0, learner - max);
  let dropNslab = Math.max(0, nslab - max);
  return list.filter((e) => (e.who === "learner" ? (dropLearner-- > 0 ? false : true) : dropNslab-- > 0 ? false : true));
}
