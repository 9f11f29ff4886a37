/* IPC namespace: System V objects and POSIX message queues are per namespace
 * (ipc_namespaces(7)). System V needs nothing at setup; POSIX queues are seen through an mqueue
 * filesystem, and each mount of it shows the queues of the mounter's IPC namespace, so the lab
 * mounts its own (mq_overview(7)). */
#include "internal.h"
#include <errno.h>
#include <sys/mount.h>

int ipc_mount_mqueue(struct trace_buf *t, const char *path) {
  int rc = mkdir_p(path, 0755);
  if (rc < 0) return rc;
  struct trace_rec *r = tr_begin(t, WHO_CHILD, "mount");
  unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  tr_str(r, "mqueue");
  tr_str(r, path);
  tr_str(r, "mqueue");
  tr_flags(r, fl, FT_MOUNT);
  tr_raw(r, "NULL");
  if (tr_end(r, mount("mqueue", path, "mqueue", fl, NULL)) < 0) return -errno;
  return 0;
}
