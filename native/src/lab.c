/* nslab_lab_create: the parent's half of making a lab (the sequence itself is in steps.c). */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int nslab_abi_version(void) { return NSLAB_ABI_VERSION; }

/* Kill and reap a child we own, through its pidfd: never waitpid(-1), which could steal libuv's
 * children. */
void kill_and_reap(int pidfd) {
  if (pidfd < 0) return;
  syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  siginfo_t si;
  while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR) {}
  close(pidfd);
}

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

int nslab_lab_create(const char *spec_text, char *out, size_t outlen) {
  struct spec s;
  char err[256];
  int rc = spec_parse(&s, spec_text, err, sizeof err);
  if (rc < 0) {
    spec_free(&s);
    return out_error(out, outlen, "spec", -rc, err, NULL);
  }
  if (!s.root || s.init_fd < 0) {
    spec_free(&s);
    return out_error(out, outlen, "spec", EINVAL, "a lab needs root and init_fd", NULL);
  }
  struct trace_buf *t = trace_new();
  if (!t) {
    spec_free(&s);
    return out_error(out, outlen, "trace", ENOMEM, "", NULL);
  }
  int syncp[2] = {-1, -1}, statp[2] = {-1, -1};
  if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) {
    rc = -errno;
    goto fail_pipes;
  }
  uint64_t flags =
      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
  if (s.ns_time && time_ns_available()) flags |= CLONE_NEWTIME;
  else s.ns_time = 0;

  /* Block every signal across clone: until the child has reset the dispositions, a signal would
   * run one of Node's handlers in the child (posix_spawn does the same). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "clone3");
  tr_flags(r, flags | CLONE_PIDFD, FT_CLONE);
  int pidfd = -1;
  long pid = sys_clone3_fork(flags, &pidfd);
  if (pid == 0) {
    close(syncp[1]);
    close(statp[0]);
    lab_child_steps(&s, t, syncp[0], statp[1]);
    _exit(127);
  }
  tr_end(r, pid);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(syncp[0]);
  close(statp[1]);
  syncp[0] = statp[1] = -1;
  if (pid < 0) {
    rc = -clone_errno;
    snprintf(err, sizeof err, "clone3 failed: %s", strerror(clone_errno));
    close(syncp[1]);
    close(statp[0]);
    out_error(out, outlen, "clone", rc, err, t);
    goto done;
  }
  rc = lab_parent_steps(&s, t, (pid_t)pid, syncp[1]);
  close(syncp[1]);
  if (rc < 0) {
    close(statp[0]);
    kill_and_reap(pidfd);
    out_error(out, outlen, "parent-setup", rc, "writing id maps or cgroup membership", t);
    goto done;
  }
  struct child_msg m;
  int failed = read_status(statp[0], &m, NULL);
  close(statp[0]);
  if (failed) {
    kill_and_reap(pidfd);
    rc = -m.err;
    out_error(out, outlen, m.step, m.err, m.detail, t);
    goto done;
  }
  struct out o;
  out_init(&o, out, outlen);
  out_raw(&o, "{\"ok\":true,\"pid\":");
  out_int(&o, pid);
  out_raw(&o, ",\"pidfd\":");
  out_int(&o, pidfd);
  out_raw(&o, ",\"timens\":");
  out_raw(&o, s.ns_time ? "true" : "false");
  out_raw(&o, ",\"trace\":");
  out_trace(&o, t);
  out_raw(&o, "}");
  rc = 0;
done:
  trace_free(t);
  spec_free(&s);
  return rc;
fail_pipes:
  for (int i = 0; i < 2; i++) {
    if (syncp[i] >= 0) close(syncp[i]);
    if (statp[i] >= 0) close(statp[i]);
  }
  out_error(out, outlen, "pipe", rc, "", t);
  goto done;
}
