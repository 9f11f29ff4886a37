/* Mount namespace: the lab's root filesystem.
 *
 * 1. Make every mount private first. A new mount namespace copies the parent's mounts together
 *    with their propagation; a shared root would carry the lab's mounts back to the host
 *    (mount_namespaces(7), "Shared subtrees").
 * 2. Mount a size-bounded tmpfs as the new root: the lab's only writable storage (scratch).
 * 3. Fill it: read-only binds of the host's system directories, a private /etc, fresh /proc,
 *    /sys, a minimal /dev with the lab's own devpts instance, mqueue.
 * 4. pivot_root(".", ".") and detach the old root (pivot_root(2), NOTES), so no path leads back to
 *    the host's tree.
 * In root mode steps 1-3 happen twice over: the helper, as host root in a mount namespace of its
 * own, builds everything that does not need the lab's namespaces (so the lab receives it locked,
 * mnt_new_host_namespace below); the lab's first process adds proc, sysfs, devpts, mqueue and
 * what lies below them (steps.c lists the order).
 * Paths are joined to the new root by plain string concatenation: only one single-threaded process
 * (the helper, then the lab's first process) exists in the tree while it is built, so nothing can
 * race it with symlinks. */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/* Who does the mount steps now: the helper as host root (WHO_SERVER), or the lab's first process
 * (WHO_CHILD). One process does one side at a time, so a process-wide setting is enough. */
static int side = WHO_CHILD;
void mnt_set_side(int who) { side = who; }

static long traced_mount(struct trace_buf *t, const char *src, const char *dst, const char *type,
                         unsigned long flags, const char *data) {
  struct trace_rec *r = tr_begin(t, side, "mount");
  tr_str(r, src);
  tr_str(r, dst);
  tr_str(r, type);
  tr_flags(r, flags, FT_MOUNT);
  if (data) tr_str(r, data);
  else tr_raw(r, "NULL");
  return tr_end(r, mount(src, dst, type, flags, data));
}

/* The helper's own mount namespace, owned by the host's user namespace, where it builds the lab's
 * root before the lab exists. The lab's mount namespace is then a copy made into a less privileged
 * user namespace, and the kernel locks every mount that comes with it (mount_namespaces(7),
 * "Restrictions on mount namespaces"): the lab cannot make a read-only bind writable, unmount a
 * mount to see what is under it, or remount a superblock the host owns (the root tmpfs and
 * /dev/shm keep their sizes). */
int mnt_new_host_namespace(struct trace_buf *t) {
  struct trace_rec *r = tr_begin(t, side, "unshare");
  tr_raw(r, "CLONE_NEWNS");
  if (tr_end(r, unshare(CLONE_NEWNS)) < 0) return -errno;
  return mnt_make_private(t);
}

/* pivot_root(2) refuses a new root that is a locked mount, and the root tmpfs arrives locked: the
 * lab binds it onto itself, and that bind (with copies of everything below it, locks included) is
 * the lab's own mount. */
int mnt_bind_root(struct trace_buf *t, const char *root) {
  return traced_mount(t, root, root, NULL, MS_BIND | MS_REC, NULL) < 0 ? -errno : 0;
}

int mnt_make_private(struct trace_buf *t) {
  if (traced_mount(t, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -errno;
  return 0;
}

int mnt_root_tmpfs(struct trace_buf *t, const char *root, const char *opts) {
  if (traced_mount(t, "nslab", root, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) return -errno;
  return 0;
}

static int join(char *buf, size_t cap, const char *root, const char *path) {
  if (s_len(root) + s_len(path) + 1 >= cap) return -ENAMETOOLONG;
  s_cpy(buf, cap, root);
  s_cat(buf, cap, path);
  return 0;
}

/* Make the mount point for a bind: a directory for a directory, an empty file for anything else. */
static int make_target(const char *src, const char *dst) {
  struct stat st;
  if (stat(src, &st) < 0) return -errno;
  if (S_ISDIR(st.st_mode)) return mkdir_p(dst, 0755);
  char parent[4096];
  s_cpy(parent, sizeof parent, dst);
  for (size_t i = s_len(parent); i > 0; i--)
    if (parent[i - 1] == '/') {
      parent[i - 1] = 0;
      break;
    }
  int rc = parent[0] ? mkdir_p(parent, 0755) : 0;
  if (rc < 0) return rc;
  autofd fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  return fd < 0 && errno != EEXIST ? -errno : 0;
}

/* Read-only for a whole subtree. mount_setattr(2) changes only the named attributes; the older
 * MS_REMOUNT|MS_BIND must restate the flags the kernel locked when the mount entered the user
 * namespace (nosuid, nodev, noexec, atime), or it fails with EPERM (mount(2), EPERM). */
static int make_readonly(struct trace_buf *t, const char *dst, int recursive) {
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  struct trace_rec *r = tr_begin(t, side, "mount_setattr");
  tr_raw(r, "AT_FDCWD");
  tr_str(r, dst);
  tr_raw(r, recursive ? "AT_RECURSIVE" : "0");
  tr_flags(r, attr.attr_set, FT_MOUNT_ATTR);
  if (tr_end(r, syscall(SYS_mount_setattr, AT_FDCWD, dst, recursive ? AT_RECURSIVE : 0, &attr,
                        sizeof attr)) == 0)
    return 0;
  if (errno != ENOSYS) return -errno;
  struct statvfs sv;
  if (statvfs(dst, &sv) < 0) return -errno;
  unsigned long fl = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) fl |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) fl |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) fl |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) fl |= MS_RELATIME;
  if (traced_mount(t, NULL, dst, NULL, fl, NULL) < 0) return -errno;
  return 0;
}

static int copy_file(struct trace_buf *t, const char *src, const char *dst, unsigned mode) {
  struct trace_rec *r = tr_begin(t, side, "copy");
  tr_str(r, src);
  tr_str(r, dst);
  autofd in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return (int)tr_end(r, -errno);
  autofd out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (out < 0) return (int)tr_end(r, -errno);
  int rc = copy_fd(in, out);
  if (rc < 0) errno = -rc;
  tr_end(r, rc < 0 ? -1 : 0);
  return rc;
}

int mnt_apply_op(struct trace_buf *t, const char *root, const struct mount_op *op) {
  char dst[4096];
  int rc = join(dst, sizeof dst, root, op->dst);
  if (rc < 0) return rc;
  switch (op->kind) {
  case OP_DIR: {
    if ((rc = mkdir_p(dst, op->mode)) < 0) return rc;
    struct trace_rec *r = tr_begin(t, side, "chmod");
    tr_str(r, op->dst);
    tr_int(r, op->mode);
    return tr_end(r, chmod(dst, op->mode)) < 0 ? -errno : 0; /* mkdir's mode met the umask */
  }
  case OP_SYMLINK: {
    struct trace_rec *r = tr_begin(t, side, "symlink");
    tr_str(r, op->src);
    tr_str(r, op->dst);
    return tr_end(r, symlink(op->src, dst)) < 0 && errno != EEXIST ? -errno : 0;
  }
  case OP_COPY: return copy_file(t, op->src, dst, op->mode);
  case OP_TMPFS:
    if ((rc = mkdir_p(dst, 0755)) < 0) return rc;
    return traced_mount(t, "tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, op->data) < 0 ? -errno : 0;
  case OP_RO_BIND:
  case OP_BIND:
  case OP_DEV_BIND:
    if ((rc = make_target(op->src, dst)) < 0) return rc;
    if (traced_mount(t, op->src, dst, NULL, MS_BIND | (op->kind == OP_DEV_BIND ? 0 : MS_REC),
                     NULL) < 0)
      return -errno;
    return op->kind == OP_RO_BIND ? make_readonly(t, dst, 1) : 0;
  case OP_REMOUNT_RO: return make_readonly(t, dst, 0);
  case OP_PROC:
    /* A procfs instance shows the pid namespace of its mounter: the lab's (pid_namespaces(7)). */
    if ((rc = mkdir_p(dst, 0555)) < 0) return rc;
    return traced_mount(t, "proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ? -errno
                                                                                            : 0;
  case OP_SYSFS:
    /* sysfs may be mounted only by the owner of the mounter's network namespace; it shows that
     * namespace's devices (here: lo). Not read-only: the kernel lets a user namespace mount a new
     * sysfs (`ip netns exec` does) only if an existing one is at least as permissive; its files
     * belong to host root, so file permissions already keep the lab's root from writing them. */
    if ((rc = mkdir_p(dst, 0555)) < 0) return rc;
    return traced_mount(t, "sysfs", dst, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        NULL) < 0
               ? -errno
               : 0;
  case OP_DEVPTS:
    /* A new devpts instance: the lab's ptys are numbered from 0 and no host pty is visible
     * (Documentation/filesystems/devpts.rst). */
    if ((rc = mkdir_p(dst, 0755)) < 0) return rc;
    return traced_mount(t, "devpts", dst, "devpts", MS_NOSUID | MS_NOEXEC, op->data) < 0 ? -errno
                                                                                         : 0;
  case OP_MQUEUE: return ipc_mount_mqueue(t, dst);
  }
  return -EINVAL;
}

/* pivot_root(".", "."): the old root ends up mounted on top of the new one; detaching it leaves
 * only the new tree (pivot_root(2), "NOTES"). No directory for the old root is needed. */
int mnt_pivot_root(struct trace_buf *t, const char *root) {
  struct trace_rec *r = tr_begin(t, side, "chdir");
  tr_str(r, root);
  if (tr_end(r, chdir(root)) < 0) return -errno;
  r = tr_begin(t, side, "pivot_root");
  tr_str(r, ".");
  tr_str(r, ".");
  if (tr_end(r, syscall(SYS_pivot_root, ".", ".")) < 0) return -errno;
  r = tr_begin(t, side, "umount2");
  tr_str(r, ".");
  tr_flags(r, MNT_DETACH, FT_UMOUNT);
  if (tr_end(r, umount2(".", MNT_DETACH)) < 0) return -errno;
  if (chdir("/") < 0) return -errno;
  return 0;
}
