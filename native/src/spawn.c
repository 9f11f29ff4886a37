/* Starting a process inside a running lab, on the helper's side. The helper was started with
 * its fds in place (helper.c): 4 = the lab init's pidfd, 5 = stdin (the pty slave, or /dev/null),
 * 6 = stdout, 7 = stderr (the same pty slave, or pipes). */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

void spawn_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int *listener) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    res->err = errno;
    s_cpy(res->step, sizeof res->step, "pipe");
    return;
  }
  autofd stat_r = p[0], stat_w = p[1];
  int stdio[3] = {HELPER_FD_STDIN, HELPER_FD_STDOUT, HELPER_FD_STDERR};
  s->lab_pidfd = HELPER_FD_PIDFD;
  pid_t pid = spawn_steps(s, t, stat_w, stdio, listener);
  close(steal_fd(&stat_w));
  struct child_msg m;
  int failed = read_status(stat_r, &m);
  res->pid = pid > 0 ? pid : 0;
  if (pid < 0 || failed) {
    res->ok = 0;
    res->err = failed ? m.err : -pid;
    s_cpy(res->step, sizeof res->step, failed ? m.step : "spawn");
    s_cpy(res->detail, sizeof res->detail, failed ? m.detail : "");
    return;
  }
  res->ok = 1;
  res->listener = *listener >= 0;
}
