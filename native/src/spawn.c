/* Starting a process inside a running lab, on the helper's side. The helper was started with
 * its fds in place (helper.c): 4 = the lab init's pidfd, 5 = stdin (the pty slave, or /dev/null),
 * 6 = stdout, 7 = stderr (the same pty slave, or pipes). */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* Opens the ptmx of the lab's devpts from the host side. The lab's root controls every name in
 * its tree, so the path is resolved with openat2(RESOLVE_IN_ROOT): a symlink planted by the lab
 * resolves inside the lab, never on the host (openat2(2)); O_NONBLOCK keeps a planted FIFO from
 * hanging the server; and the result must be a ptmx (char 5:2) or it is refused. */
int lab_open_ptmx(struct trace_buf *t, const struct spec *s, char *err, size_t errlen) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)s->lab_pid);
  autofd root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return snprintf(err, errlen, "open %s", path), -errno;
  /* the pid could have been reused: the pidfd says whether our lab's init is still alive */
  if (syscall(SYS_pidfd_send_signal, s->lab_pidfd, 0, NULL, 0) < 0) {
    int e = errno;
    snprintf(err, errlen, "the lab's init has exited");
    return -e;
  }
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "openat2");
  tr_str(r, path);
  tr_str(r, "dev/pts/ptmx");
  tr_raw(r, "{O_RDWR|O_NOCTTY|O_CLOEXEC|O_NONBLOCK, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS}");
  autofd fd = (int)tr_end(r, syscall(SYS_openat2, root, "dev/pts/ptmx", &how, sizeof how));
  if (fd < 0) return snprintf(err, errlen, "open the lab's /dev/pts/ptmx"), -errno;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2) {
    snprintf(err, errlen, "the lab's /dev/pts/ptmx is not a pty multiplexer");
    return -EPERM;
  }
  int unlock = 0;
  struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
  if (ioctl(fd, TIOCSPTLCK, &unlock) < 0 || ioctl(fd, TIOCSWINSZ, &ws) < 0) {
    snprintf(err, errlen, "unlock or size the pty");
    return -errno;
  }
  return steal_fd(&fd);
}


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

static void shell_fail(struct helper_result *res, const char *step, int err, const char *detail) {
  res->shell_ok = 0;
  res->shell_err = err < 0 ? -err : err;
  s_cpy(res->shell_step, sizeof res->shell_step, step);
  s_cpy(res->shell_detail, sizeof res->shell_detail, detail ? detail : "");
}

/* "NAME=user:INO pid:INO ... " (the form the lab's bash.bashrc records in NSLAB_NS), for the
 * namespaces the lab's init has; 0, or -errno (then the shell finds them itself). */
static int ns_env_value(char *buf, size_t cap, const char *name, pid_t init) {
  static const char *const types[] = {"user", "pid", "mnt", "uts", "ipc", "net", "cgroup", "time"};
  char path[64], num[24];
  s_cpy(buf, cap, name);
  s_cat(buf, cap, "=");
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)init, types[i]);
    struct stat st;
    if (stat(path, &st) < 0) {
      if (errno == ENOENT) continue; /* a kind this kernel does not have (time before 5.6) */
      return -errno;
    }
    s_cat(buf, cap, types[i]);
    s_cat(buf, cap, ":");
    s_cat(buf, cap, s_u64(num, sizeof num, (unsigned long long)st.st_ino));
    s_cat(buf, cap, " ");
  }
  return s_len(buf) + 1 < cap ? 0 : -ENAMETOOLONG;
}

/* A new lab's first shell, started by the helper that made the lab, right after its init exec'd:
 * the same steps as a process started later in the lab (spawn_steps), without a second helper.
 * The helper first moves into the cgroups the lab's processes live in (v2: the lab's leaf), so
 * the shell is born there, then opens a pty of the lab's devpts (as the server does for later
 * shells, lab_open_ptmx) and hands its master back. A failure here leaves the lab as it is: the
 * server starts the shell the usual way. */
void shell_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int lab_pidfd,
                 int *master, int *listener) {
  if (!s->pty) return shell_fail(res, "spec", EINVAL, "a lab's first shell needs stdio pty");
  for (int i = 0; i < s->n_shell_cgroups; i++) {
    int rc = cgroup_attach(t, s->shell_cgroups[i], getpid());
    if (rc < 0) return shell_fail(res, "cgroup", rc, s->shell_cgroups[i]);
  }
  s->lab_pid = res->pid; /* the lab's init (the helper's second answer starts from the first) */
  s->lab_pidfd = lab_pidfd;
  char err[180] = "";
  autofd m = lab_open_ptmx(t, s, err, sizeof err);
  if (m < 0) return shell_fail(res, "stdio", m, err);
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "ioctl");
  tr_int(r, m);
  tr_raw(r, "TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC");
  autofd slave = (int)tr_end(r, ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (slave < 0) return shell_fail(res, "stdio", errno, "TIOCGPTPEER");
  /* the lab helper has no stdin or stderr of its own, so the slave may land on 0-2; the shell's
   * dup2 onto the same number would then keep its close-on-exec flag, and the shell would start
   * without it: move it above */
  if (slave < 3) {
    int above = fcntl(slave, F_DUPFD_CLOEXEC, 3);
    if (above < 0) return shell_fail(res, "stdio", errno, "F_DUPFD_CLOEXEC");
    close(slave);
    slave = above;
  }
  /* the buffer outlives the shell's execve (spawn_steps returns after it: CLONE_VFORK) */
  char ns[512];
  if (s->ns_env && ns_env_value(ns, sizeof ns, s->ns_env, s->lab_pid) == 0) {
    if (s->envc >= MAX_ENV) return shell_fail(res, "spec", E2BIG, "too many variables");
    s->envp[s->envc++] = ns;
    s->envp[s->envc] = NULL;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return shell_fail(res, "pipe", errno, "");
  autofd stat_r = p[0], stat_w = p[1];
  int stdio[3] = {slave, slave, slave};
  pid_t pid = spawn_steps(s, t, stat_w, stdio, listener);
  close(steal_fd(&stat_w));
  struct child_msg cm;
  int failed = read_status(stat_r, &cm);
  res->shell_pid = pid > 0 ? pid : 0;
  if (pid < 0 || failed)
    return shell_fail(res, failed ? cm.step : "spawn", failed ? cm.err : -pid, failed ? cm.detail : "");
  res->shell_ok = 1;
  res->shell_master = 1;
  res->listener = *listener >= 0;
  *master = steal_fd(&m);
}
