/* Cgroup membership and the cgroup namespace.
 *
 * The server creates the lab's cgroup and writes its limits (pids, memory, cpu) before the lab
 * exists; the parent then writes the child's pid into cgroup.procs while the child still waits on
 * the sync pipe, so not one instruction of the lab runs outside its limits. On cgroup v1 there is
 * one cgroup.procs per controller hierarchy; on v2 one. Only then does the child unshare its
 * cgroup namespace, so the namespace's root is the lab's cgroup and /proc/self/cgroup inside reads
 * "/" (cgroup_namespaces(7)). */
#include "internal.h"
#include <errno.h>
#include <sched.h>

int cgroup_attach(struct trace_buf *t, const char *procs_file, pid_t pid) {
  char num[16];
  s_u64(num, sizeof num, (unsigned)pid);
  return tr_write_file(t, WHO_SERVER, procs_file, num);
}

int cgroup_new_namespace(struct trace_buf *t) {
  struct trace_rec *r = tr_begin(t, WHO_CHILD, "unshare");
  tr_raw(r, "CLONE_NEWCGROUP");
  if (tr_end(r, unshare(CLONE_NEWCGROUP)) < 0) return -errno;
  return 0;
}
