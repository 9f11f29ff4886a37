/* Kernel features the doctor reports (nslab_features). */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

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
