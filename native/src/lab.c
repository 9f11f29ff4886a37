/* Making a lab, on the helper's side (see helper.c for why a helper). The sequence itself is
 * listed in steps.c. */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(struct helper_result *res, const char *step, int err, const char *detail) {
  res->ok = 0;
  res->err = err < 0 ? -err : err;
  s_cpy(res->step, sizeof res->step, step);
  s_cpy(res->detail, sizeof res->detail, detail ? detail : "");
}

/* The lab's first process is created with CLONE_PARENT: its parent is the server, which reaps it
 * and is the parent whose death kills it (PR_SET_PDEATHSIG). */
void lab_create_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int *pidfd_out) {
  autofd sync_r = -1, sync_w = -1, stat_r = -1, stat_w = -1, pidfd = -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return fail(res, "pipe", errno, "");
  sync_r = p[0], sync_w = p[1];
  if (pipe2(p, O_CLOEXEC) < 0) return fail(res, "pipe", errno, "");
  stat_r = p[0], stat_w = p[1];
  int rc = seccomp_prepare(0);
  if (rc < 0) return fail(res, "seccomp", rc, "building the filter");
  const char *step = "", *detail = "";
  if ((rc = lab_host_steps(s, t, &step, &detail)) < 0) return fail(res, step, rc, detail);
  uint64_t flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                   CLONE_NEWNET | CLONE_PARENT;
  if (s->ns_time && time_ns_available()) flags |= CLONE_NEWTIME;
  else s->ns_time = 0;
  res->timens = s->ns_time;
  /* The namespaces are created as the lab's own host uid (the effective uid alone, for the one
   * call): a user namespace's owner is its creator's euid, and the kernel's per-user counters
   * (user namespaces, inotify instances, POSIX message queue bytes, ...) are charged to the
   * owner at every level up to the host (user_namespaces(7), /proc/sys/user). Created by host
   * root, every lab would share root's counters, and one lab could drain them for all. */
  int as_lab = geteuid() == 0 && s->lab_uid > 0;
  if (as_lab && syscall(SYS_setresuid, -1, (uid_t)s->lab_uid, -1) < 0)
    return fail(res, "lab-uid", errno, "becoming the lab's host uid");
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "clone3");
  tr_flags(r, flags | CLONE_PIDFD, FT_CLONE);
  long pid = sys_clone3_fork(flags, &pidfd);
  if (pid < 0 && errno == EINVAL && (flags & CLONE_NEWTIME)) {
    /* clone3 took CLONE_NEWTIME only from Linux 6.3 (and its stable backports); on older kernels
     * labs go without a time namespace rather than not at all */
    flags &= ~(uint64_t)CLONE_NEWTIME;
    s->ns_time = res->timens = 0;
    tr_end(r, pid);
    r = tr_begin(t, WHO_SERVER, "clone3");
    tr_flags(r, flags | CLONE_PIDFD, FT_CLONE);
    pid = sys_clone3_fork(flags, &pidfd);
  }
  if (pid == 0) {
    close(steal_fd(&sync_w));
    close(steal_fd(&stat_r));
    lab_child_steps(s, t, sync_r, stat_w);
  }
  tr_end(r, pid);
  int clone_errno = errno;
  /* back to root (its capabilities return from the permitted set), to write the id maps */
  if (as_lab && syscall(SYS_setresuid, -1, 0, -1) < 0) {
    if (pid > 0) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    return fail(res, "lab-uid", errno, "back to root");
  }
  if (r && as_lab) {
    char num[16];
    s_cat(r->args, sizeof r->args, ", as host uid ");
    s_cat(r->args, sizeof r->args, s_u64(num, sizeof num, (unsigned long long)s->lab_uid));
  }
  close(steal_fd(&sync_r));
  close(steal_fd(&stat_w));
  if (pid < 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "clone3: %s", strerror(clone_errno));
    return fail(res, "clone", clone_errno, msg);
  }
  res->pid = (int32_t)pid;
  rc = lab_parent_steps(s, t, (pid_t)pid, sync_w);
  close(steal_fd(&sync_w));
  struct child_msg m;
  int failed = rc < 0 ? 0 : read_status(stat_r, &m);
  if (rc < 0 || failed) {
    /* the server reaps it: it is the server's child */
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    if (rc < 0) return fail(res, "parent-setup", rc, "writing the id maps");
    return fail(res, m.step, m.err, m.detail);
  }
  res->ok = 1;
  if (pidfd_out) *pidfd_out = steal_fd(&pidfd);
}
