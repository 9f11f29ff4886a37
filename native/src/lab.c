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

/* Reads the child's reports until EOF. EOF with no error means every child involved has
 * exec'd (the pipe is O_CLOEXEC) or exited normally. */
int read_status(int fd, struct child_msg *err, pid_t *reported_pid) {
  struct child_msg m;
  int failed = 0;
  for (;;) {
    ssize_t n = read(fd, &m, sizeof m);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if ((size_t)n != sizeof m) continue;
    if (m.kind == MSG_ERROR && !failed) *err = m, failed = 1;
    if (m.kind == MSG_PID && reported_pid) *reported_pid = m.pid;
  }
  return failed;
}

static void fail(struct helper_result *res, const char *step, int err, const char *detail) {
  res->ok = 0;
  res->err = err < 0 ? -err : err;
  s_cpy(res->step, sizeof res->step, step);
  s_cpy(res->detail, sizeof res->detail, detail ? detail : "");
}

/* The lab's first process is created with CLONE_PARENT: its parent is the server, which reaps it
 * and is the parent whose death kills it (PR_SET_PDEATHSIG). */
void lab_create_local(struct spec *s, struct trace_buf *t, struct helper_result *res) {
  int syncp[2] = {-1, -1}, statp[2] = {-1, -1};
  if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) return fail(res, "pipe", errno, "");
  uint64_t flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                   CLONE_NEWNET | CLONE_PARENT;
  if (s->ns_time && time_ns_available()) flags |= CLONE_NEWTIME;
  else s->ns_time = 0;
  res->timens = s->ns_time;
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "clone3");
  tr_flags(r, flags | CLONE_PIDFD, FT_CLONE);
  int pidfd = -1;
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
    close(syncp[1]);
    close(statp[0]);
    lab_child_steps(s, t, syncp[0], statp[1]);
    _exit(127);
  }
  tr_end(r, pid);
  int clone_errno = errno;
  close(syncp[0]);
  close(statp[1]);
  if (pid < 0) {
    close(syncp[1]);
    close(statp[0]);
    char msg[96];
    snprintf(msg, sizeof msg, "clone3: %s", strerror(clone_errno));
    return fail(res, "clone", clone_errno, msg);
  }
  res->pid = (int32_t)pid;
  int rc = lab_parent_steps(s, t, (pid_t)pid, syncp[1]);
  close(syncp[1]);
  struct child_msg m;
  int failed = rc < 0 ? 0 : read_status(statp[0], &m, NULL);
  close(statp[0]);
  if (rc < 0 || failed) {
    /* the server reaps it: it is the server's child */
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    close(pidfd);
    if (rc < 0) return fail(res, "parent-setup", rc, "writing the id maps");
    return fail(res, m.step, m.err, m.detail);
  }
  close(pidfd);
  res->ok = 1;
}
