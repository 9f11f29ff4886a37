/* Calls the server makes on the handles it holds for a lab: a pidfd (signal), a pty master
 * (window size), any fd of ours (close), and the sealed memfd the lab's init is executed from. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
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
  autofd in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -errno;
  /* Linux 6.3 may refuse executable memfds unless MFD_EXEC is asked for (vm.memfd_noexec) */
  autofd fd = memfd_create("nslab-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("nslab-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -errno;
  int rc = copy_fd(in, fd);
  if (rc < 0) return rc;
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return -errno;
  return steal_fd(&fd);
}
