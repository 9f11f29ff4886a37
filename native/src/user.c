/* User namespace: who the lab's root is on the host.
 *
 * The child is created in a new user namespace with no mappings; until the parent writes
 * /proc/PID/uid_map and gid_map, its ids show as the overflow id (user_namespaces(7)). The parent
 * (root in the parent namespace) maps lab uid 0..N-1 onto a host range of its own, so lab root is
 * an unprivileged host uid. Rootless: one id, and "deny" must go to /proc/PID/setgroups before
 * gid_map may be written, or a user could drop supplementary groups used as a deny list
 * (CVE-2014-8989, user_namespaces(7) "The /proc/[pid]/setgroups file"). */
#include "internal.h"
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_proc(struct trace_buf *t, pid_t pid, const char *file, const char *data) {
  char path[64], num[16];
  s_cpy(path, sizeof path, "/proc/");
  s_cat(path, sizeof path, s_u64(num, sizeof num, (unsigned)pid));
  s_cat(path, sizeof path, "/");
  s_cat(path, sizeof path, file);
  return tr_write_file(t, WHO_SERVER, path, data);
}

int user_write_maps(struct trace_buf *t, pid_t pid, const char *uid_map, const char *gid_map,
                    int setgroups_deny) {
  int rc;
  if (setgroups_deny && (rc = write_proc(t, pid, "setgroups", "deny")) < 0) return rc;
  if (uid_map && (rc = write_proc(t, pid, "uid_map", uid_map)) < 0) return rc;
  if (gid_map && (rc = write_proc(t, pid, "gid_map", gid_map)) < 0) return rc;
  return 0;
}

/* After the maps exist, switch to uid/gid 0 inside: the process keeps its capabilities in its own
 * namespace (it created it, or entered it with setns) and becomes the mapped host id.
 * Raw system calls, not glibc's wrappers: in a process that had threads, glibc's setgroups() and
 * setresuid() signal every other thread to change its ids too and wait for them (nptl setxid);
 * in our single-threaded child those threads do not exist and the wait never ends. */
int user_become_root(struct trace_buf *t, int who, int setgroups_deny) {
  struct trace_rec *r;
  if (!setgroups_deny) {
    r = tr_begin(t, who, "setgroups");
    tr_raw(r, "0, NULL");
    if (tr_end(r, syscall(SYS_setgroups, 0, NULL)) < 0) return -errno;
  }
  r = tr_begin(t, who, "setresgid");
  tr_raw(r, "0, 0, 0");
  if (tr_end(r, syscall(SYS_setresgid, 0, 0, 0)) < 0) return -errno;
  r = tr_begin(t, who, "setresuid");
  tr_raw(r, "0, 0, 0");
  if (tr_end(r, syscall(SYS_setresuid, 0, 0, 0)) < 0) return -errno;
  return 0;
}
