/* Async-signal-safe helpers usable in a freshly cloned child (see internal.h). */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t s_len(const char *s) {
  size_t n = 0;
  while (s && s[n]) n++;
  return n;
}

int s_eq(const char *a, const char *b) {
  if (!a || !b) return a == b;
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

char *s_cpy(char *dst, size_t cap, const char *src) {
  if (!cap) return dst;
  dst[0] = 0;
  return s_cat(dst, cap, src);
}

char *s_cat(char *dst, size_t cap, const char *src) {
  size_t n = s_len(dst);
  while (src && *src && n + 1 < cap) dst[n++] = *src++;
  if (n < cap) dst[n] = 0;
  return dst;
}

char *s_u64(char *dst, size_t cap, unsigned long long v) {
  char tmp[24];
  int i = 0;
  do tmp[i++] = (char)('0' + v % 10), v /= 10;
  while (v && i < 23);
  size_t n = 0;
  while (i > 0 && n + 1 < cap) dst[n++] = tmp[--i];
  if (cap) dst[n] = 0;
  return dst;
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += w, len -= (size_t)w;
  }
  return 0;
}

int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -errno;
  int rc = write_all(fd, data, s_len(data));
  if (close(fd) < 0 && rc == 0) rc = -errno;
  return rc;
}

/* Copies everything readable from `in` to `out` (a small buffer: it may run in a child). */
int copy_fd(int in, int out) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return 0;
    int rc = write_all(out, buf, (size_t)n);
    if (rc < 0) return rc;
  }
}

int mkdir_p(const char *path, unsigned mode) {
  char buf[4096];
  if (s_len(path) >= sizeof buf) return -ENAMETOOLONG;
  s_cpy(buf, sizeof buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) return -errno;
  return 0;
}

/* The server holds other learners' sockets and ptys: nothing may leak into a lab. close_range(2)
 * closes them in a few calls; the fallback walks up to a generous fd limit. Keeps two fds (-1: none),
 * which must be O_CLOEXEC if they are not to outlive the exec. */
static void close_between(int lo, int hi) {
  if (lo > hi) return;
  if (syscall(SYS_close_range, lo, hi, 0) == 0) return;
  for (int fd = lo; fd <= hi && fd < 65536; fd++) close(fd);
}

int close_fds_except(int keep1, int keep2) {
  int a = keep1 < keep2 ? keep1 : keep2, b = keep1 < keep2 ? keep2 : keep1;
  int lo = 3;
  if (a >= lo) close_between(lo, a - 1), lo = a + 1;
  if (b >= lo) close_between(lo, b - 1), lo = b + 1;
  close_between(lo, ~0U >> 1);
  return 0;
}

/* Node ignores SIGPIPE and handles many signals; a shell must start with default dispositions and
 * an empty mask (signal(7): handlers are reset by execve, ignored signals are not). */
void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, NULL); /* glibc's internal signals answer EINVAL; harmless */
  }
}

/* clone3(2) with fork semantics (no CLONE_VM, no new stack): returns twice like fork(). */
long sys_clone3_fork(uint64_t flags, int *pidfd) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  /* with CLONE_PARENT the child signals our parent as we would, and clone3 insists on 0 here */
  args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  return syscall(SYS_clone3, &args, sizeof args);
}

void report_failure(int status_fd, const char *step, int err, const char *detail) {
  struct child_msg m;
  memset(&m, 0, sizeof m);
  m.kind = MSG_ERROR;
  m.err = err < 0 ? -err : err;
  s_cpy(m.step, sizeof m.step, step);
  s_cpy(m.detail, sizeof m.detail, detail ? detail : "");
  (void)write_all(status_fd, &m, sizeof m);
}

_Noreturn void child_die(int status_fd, const char *step, int err, const char *detail) {
  report_failure(status_fd, step, err, detail);
  _exit(127);
}

int read_status(int fd, struct child_msg *err) {
  struct child_msg m;
  int failed = 0;
  for (;;) {
    ssize_t n = read(fd, &m, sizeof m);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if ((size_t)n != sizeof m || m.kind != MSG_ERROR) continue;
    if (!failed) *err = m, failed = 1;
  }
  return failed;
}
