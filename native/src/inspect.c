/* Namespace relations for the explorer: ioctl_ns(2). A namespace file (/proc/PID/ns/TYPE) can be
 * asked for its type, its parent (pid and user namespaces are hierarchical) and the user namespace
 * that owns it. Each answer is a new fd whose inode identifies the namespace. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_name(int t) {
  switch (t) {
  case CLONE_NEWUSER: return "user";
  case CLONE_NEWPID: return "pid";
  case CLONE_NEWNS: return "mnt";
  case CLONE_NEWUTS: return "uts";
  case CLONE_NEWIPC: return "ipc";
  case CLONE_NEWNET: return "net";
  case CLONE_NEWCGROUP: return "cgroup";
#ifdef CLONE_NEWTIME
  case CLONE_NEWTIME: return "time";
#endif
  }
  return "unknown";
}

/* inode of the namespace the ioctl returns, or 0 when there is none we may see (EPERM: beyond
 * our own namespace; EINVAL: the type has no hierarchy) */
static unsigned long long related(int fd, unsigned long req) {
  autofd rel = ioctl(fd, req);
  struct stat st;
  return rel >= 0 && fstat(rel, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

int nslab_ns_info(const char *path, char *out, size_t outlen) {
  autofd fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out_error(out, outlen, "open", errno, path, NULL);
  struct stat st;
  if (fstat(fd, &st) < 0) return out_error(out, outlen, "fstat", errno, path, NULL);
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return out_error(out, outlen, "NS_GET_NSTYPE", errno, path, NULL);
  unsigned long long parent =
      (type == CLONE_NEWPID || type == CLONE_NEWUSER) ? related(fd, NS_GET_PARENT) : 0;
  unsigned long long owner = related(fd, NS_GET_USERNS);
  long long owner_uid = -1;
  if (type == CLONE_NEWUSER) {
    uid_t u;
    if (ioctl(fd, NS_GET_OWNER_UID, &u) == 0) owner_uid = u;
  }
  struct out o;
  out_init(&o, out, outlen);
  out_raw(&o, "{\"ok\":true,\"ino\":");
  out_int(&o, (long long)st.st_ino);
  out_raw(&o, ",\"type\":");
  out_str(&o, type_name(type));
  out_raw(&o, ",\"parent\":");
  if (parent) out_int(&o, (long long)parent);
  else out_raw(&o, "null");
  out_raw(&o, ",\"owner\":");
  if (owner) out_int(&o, (long long)owner);
  else out_raw(&o, "null");
  if (owner_uid >= 0) {
    out_raw(&o, ",\"ownerUid\":");
    out_int(&o, owner_uid);
  }
  out_raw(&o, "}");
  return 0;
}
