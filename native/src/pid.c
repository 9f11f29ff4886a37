/* PID namespace: the child of clone(CLONE_NEWPID) is PID 1 of the new namespace and must stay
 * alive for as long as the lab: when PID 1 dies, the kernel kills every other process in the
 * namespace (pid_namespaces(7), "The namespace init process"). It also inherits every orphan, so
 * it must reap. The lab's init is nslab-init, a tiny program executed from a sealed memfd so the
 * lab never holds a path to a host binary (CVE-2019-5736). */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int pid_exec_init(struct trace_buf *t, int init_fd) {
  static const char *argv[] = {"nslab-init", NULL};
  static const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
  /* close-on-exec, so the running init does not keep the memfd open (fine for an ELF file; only
   * scripts need their fd after exec) */
  fcntl(init_fd, F_SETFD, FD_CLOEXEC);
  struct trace_rec *r = tr_begin(t, WHO_CHILD, "execveat");
  tr_int(r, init_fd);
  tr_str(r, "");
  tr_raw(r, "[\"nslab-init\"], envp, AT_EMPTY_PATH");
  tr_end(r, 0); /* recorded before the call: on success it does not return */
  syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
  if (r) r->ret = -1, r->err = errno;
  return -errno;
}
