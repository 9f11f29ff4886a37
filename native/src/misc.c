/* Small calls the server makes on lab processes and fds. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int nslab_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int nslab_set_winsize(int fd, int rows, int cols) {
  if (rows < 1 || cols < 1 || rows > 1000 || cols > 1000) return -EINVAL;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

int nslab_close(int fd) { return close(fd) < 0 ? -errno : 0; }

int nslab_sealed_copy(const char *path) {
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -errno;
  /* Linux 6.3 may refuse executable memfds unless MFD_EXEC is asked for (vm.memfd_noexec) */
  int fd = memfd_create("nslab-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("nslab-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    int e = errno;
    close(in);
    return -e;
  }
  int rc = copy_fd(in, fd);
  close(in);
  if (rc == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    rc = -errno;
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return fd;
}

static int has_syscall(long nr, long a, long b, long c) {
  long rc = syscall(nr, a, b, c, 0, 0);
  return !(rc < 0 && errno == ENOSYS);
}

int nslab_features(char *out, size_t outlen) {
  struct out o;
  out_init(&o, out, outlen);
  int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd >= 0) close(pidfd);
  out_raw(&o, "{\"ok\":true,\"clone3\":");
  out_raw(&o, has_syscall(SYS_clone3, 0, 0, 0) ? "true" : "false"); /* EINVAL when present */
  out_raw(&o, ",\"pidfd\":");
  out_raw(&o, pidfd >= 0 ? "true" : "false");
  out_raw(&o, ",\"timens\":");
  out_raw(&o, time_ns_available() ? "true" : "false");
  out_raw(&o, ",\"openat2\":");
  out_raw(&o, has_syscall(SYS_openat2, -1, 0, 0) ? "true" : "false");
  out_raw(&o, ",\"mountSetattr\":");
  out_raw(&o, has_syscall(442, -1, 0, 0) ? "true" : "false");
  out_raw(&o, ",\"closeRange\":");
  out_raw(&o, has_syscall(SYS_close_range, ~0U, 0, 0) ? "true" : "false");
  out_raw(&o, "}");
  return 0;
}
