/* nslab native core: the part of a lab that must run between clone() and execve().
 *
 * Node is multithreaded, and the kernel refuses unshare(CLONE_NEWUSER) and setns() into user or
 * mount namespaces to threaded callers (unshare(2), setns(2)). So the server calls these
 * functions through koffi, and nslab_lab_create and nslab_spawn do the namespace work elsewhere:
 * each posix_spawns nslab-helper (a small single-threaded program, src/helper.c), which clone3()s
 * or setns()es the lab's process, and answers on a pipe. The process it makes is the server's
 * child (CLONE_PARENT).
 *
 * Every function returns 0 or a negative errno. Functions that produce data write one JSON object
 * into the caller's buffer (`out`, `outlen`): {"ok":true,...} or {"ok":false,"step":...,"errno":...}.
 */
#ifndef NSLAB_H
#define NSLAB_H
#include <stddef.h>

#define NSLAB_ABI_VERSION 1
#define NSLAB_API __attribute__((visibility("default")))

NSLAB_API int nslab_abi_version(void);

/* Where nslab-helper is (native/build/nslab-helper). Must be called before creating labs. */
NSLAB_API int nslab_set_helper(const char *path);

/* How long nslab_lab_create and nslab_spawn wait for the helper's answer before they kill it and
 * fail with -ETIMEDOUT (default 20000 ms; 1..600000). */
NSLAB_API int nslab_set_helper_timeout(int ms);

/* Creates a lab from a spec (see docs/architecture.md, "Lab spec"): the helper makes a process in
 * new user, pid, mnt, uts, ipc, net, cgroup (and time) namespaces that builds its root, pivots
 * into it and execs the lab's init. out: {"ok":true,"pid":N,"pidfd":N,"trace":[...]} */
NSLAB_API int nslab_lab_create(const char *spec, char *out, size_t outlen);

/* A lab spec may also ask for the lab's first shell (a pty process, with the keys nslab_spawn
 * takes and shell_cgroup, ns_env): the helper that made the lab starts it right after init. The
 * lab's answer then has "shellPending":{"sock":N,"helper":N} (a socket and a pidfd of the helper),
 * and this collects the shell (it waits until the helper has started it): {"ok":true,"pid":N,"pidfd":N,"master":N[,"listener":N],
 * "trace":[...]} or {"ok":false,"step":..,"errno":N,"detail":..,"trace":[...]} (the lab is
 * unaffected). It takes both fds and closes them; call it once for each pending shell. */
NSLAB_API int nslab_lab_shell(int sock, int helper, char *out, size_t outlen);

/* Starts the helper for the next nslab_lab_create with this init_fd ahead of time, so that lab
 * does not wait for a process to start. `cgroups`: the cgroup.procs files of that lab (its spec's
 * `cgroup` lines, '\n'-separated; "" or NULL for none), which it joins now rather than when the
 * lab is asked for; a lab with other cgroups does not take it (it is let go). It does nothing
 * else before its lab's spec arrives. One at a time (a call for the same init and cgroups while one
 * is ready is a no-op; other cgroups replace it). nslab_lab_unprepare lets the one for that
 * init_fd go (the caller's, before it closes init_fd or removes those cgroups). */
NSLAB_API int nslab_lab_prepare(int init_fd, const char *cgroups);
NSLAB_API void nslab_lab_unprepare(int init_fd);

/* Starts a process inside a running lab: a login shell on a pty from the lab's own devpts, or a
 * command with pipes (checks). out: {"ok":true,"pid":N,"pidfd":N,"master":N} or
 * {"ok":true,"pid":N,"pidfd":N,"stdout":N,"stderr":N} plus "trace". */
NSLAB_API int nslab_spawn(const char *spec, char *out, size_t outlen);

/* Exit monitor: one thread waits (epoll) on the pidfds it is given, reaps exactly those processes
 * with waitid(P_PIDFD) and writes a 16-byte record {pid, si_code, si_status, 0} per exit to a pipe
 * whose read end nslab_monitor_start returns. It never calls waitpid(-1): libuv reaps its own. */
NSLAB_API int nslab_monitor_start(void);
NSLAB_API int nslab_monitor_watch(int pidfd);
NSLAB_API void nslab_monitor_stop(void);

NSLAB_API int nslab_signal(int pidfd, int sig);
NSLAB_API int nslab_set_winsize(int fd, int rows, int cols);
NSLAB_API int nslab_close(int fd);

/* The learner's own namespace calls (src/tracer.c). A terminal spawned with `trace_syscalls 1`
 * runs behind a filter that reports its namespace-relevant calls (unshare, setns, clone/clone3 with
 * CLONE_NEW*, the mount family, pivot_root, sethostname/setdomainname) to a listener fd, returned by
 * nslab_spawn as "listener". One thread answers every listener with CONTINUE (observation only)
 * and writes a 824-byte record per call to the pipe nslab_tracer_start returns:
 *   int32 tag, pid (host), lab_pid (in the lab's pid namespace, 0: unknown), nr, flags (1:
 *   ns_before set, 2: ns_after set, 4: uts_owner and uts_rel set, 8: cap_eff set, 16: maps), uts_rel;
 *   uint64 t_ns (CLOCK_MONOTONIC); uint64 ns_before[8] and ns_after[8] (inodes of the caller's
 *   user pid mnt uts ipc net cgroup time namespaces (pid and time: *_for_children) before the
 *   call, and for unshare and setns once they changed, read within ~80 ms while the caller
 *   lives); char comm[16], sys[24], args[416]; uint64 uts_owner, cap_eff. For sethostname and
 *   setdomainname, read while the caller was suspended in the call: uts_owner is the inode of the
 *   user namespace owning the caller's UTS namespace, uts_rel where it is from the caller's user
 *   namespace (0: the same, n: its n-th ancestor, -1: neither), cap_eff the caller's effective
 *   capabilities. Then char uid_map[96], gid_map[96] (flag 16): for unshare(CLONE_NEWUSER), the
 *   new namespace's maps as written within ~80 ms of the call (whole lines, host ids; "" if not),
 *   read through /proc/PID/{uid,gid}_map opened while the caller was in it, so still after it
 *   exited. */
NSLAB_API int nslab_tracer_start(void);
/* Watches a listener (the tracer keeps its own duplicate; it closes it when no task uses the
 * filter any more). `tag` comes back in each record. */
NSLAB_API int nslab_tracer_watch(int listener, int tag);
NSLAB_API void nslab_tracer_stop(void);

/* A sealed memfd holding a copy of the file at path (the lab's init binary). Executing the lab's
 * init from a sealed memfd means a lab cannot reach or rewrite the host file through
 * /proc/1/exe (the runc escape, CVE-2019-5736). */
NSLAB_API int nslab_sealed_copy(const char *path);

/* Describes the namespace behind path (a /proc/PID/ns/TYPE link): its inode, type, parent (for
 * pid and user namespaces) and owning user namespace, via NS_GET_* ioctls (ioctl_ns(2)).
 * out: {"ok":true,"ino":N,"type":"pid","parent":N|null,"owner":N|null} */
NSLAB_API int nslab_ns_info(const char *path, char *out, size_t outlen);

/* Kernel features the doctor reports: {"clone3":b,"pidfd":b,"timens":b,"openat2":b,...} */
NSLAB_API int nslab_features(char *out, size_t outlen);

#endif
