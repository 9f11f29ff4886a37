/* The order of things. This file is the whole sequence a lab goes through, in one place, so it can
 * be read (and taught) top to bottom. Each step is one small function in the file named for its
 * namespace. A failing step reports its name and errno through the status pipe and the child
 * exits; the parent then kills and reaps it.
 *
 *   helper (nslab-helper, exec'd by the server) child (single-threaded, new namespaces)
 *   ---------------------------------            ---------------------------------------
 *   new mount namespace of its own; as host
 *   root, builds the root: tmpfs, read-only
 *   binds, /etc, /dev, /dev/shm (lab_host_steps)
 *   clone3(CLONE_NEWUSER|NEWPID|NEWNS|...   -->  blocks on the sync pipe
 *          |CLONE_PARENT) as the lab's own
 *          host uid (lab.c)
 *   write setgroups, uid_map, gid_map
 *   release the sync pipe                   -->  becomes root inside, new cgroup namespace,
 *                                                hostname, binds the (locked) root onto itself,
 *                                                /proc /sys /dev/pts /dev/mqueue and the cgroup
 *                                                binds, pivot_root, lo up, closes every
 *                                                inherited fd, seccomp filter, execs nslab-init
 *   status pipe: EOF means exec succeeded   <--  (the pipe is O_CLOEXEC)
 *
 * Without root (rootless mode) the helper cannot make a mount namespace of its own; the child then
 * builds the whole root itself, and the kernel does not lock it.
 */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <string.h>
#include <unistd.h>

/* A step of the child: on failure, report it and exit (child_die never returns). */
#define STEP(name, detail, expr)                           \
  do {                                                     \
    int rc_ = (expr);                                      \
    if (rc_ < 0) child_die(status_fd, name, rc_, detail);  \
  } while (0)

static int wait_for_parent(int sync_fd) {
  char c;
  ssize_t n;
  do n = read(sync_fd, &c, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1) return 0;
  return n < 0 ? -errno : -ECANCELED; /* EOF: the parent gave up on us */
}

static int null_stdio(void) {
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  for (int i = 0; i < 3; i++)
    if (dup2(fd, i) < 0) return -errno;
  if (fd > 2) close(fd);
  return 0;
}

static void unblock_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---------- the helper's side, before the lab exists (root mode) ----------
 * Everything a lab step does not need the lab's namespaces for is built here, by host root, so
 * the lab receives it locked (mnt.c, mnt_new_host_namespace). Files and directories are created
 * with the lab's root as their owner (setfsuid/setfsgid: the filesystem ids alone; fsuid other
 * than 0 also drops CAP_DAC_OVERRIDE and the other file capabilities, capabilities(7), so host
 * files are read with the lab's rights, not root's). */
static int set_fs_ids(long uid, long gid) {
  syscall(SYS_setfsgid, (gid_t)gid);
  syscall(SYS_setfsuid, (uid_t)uid);
  /* setfsuid() reports no error: ask again (a second call returns the current id) */
  if ((long)(uid_t)syscall(SYS_setfsuid, (uid_t)-1) != uid) return -EPERM;
  return 0;
}

int lab_host_steps(struct spec *s, struct trace_buf *t, const char **step, const char **detail) {
  if (geteuid() != 0 || s->lab_uid < 0 || s->lab_gid < 0) return 0; /* rootless: the child builds */
  mnt_set_side(WHO_SERVER);
  int rc = mnt_new_host_namespace(t);
  *step = "host-mount-namespace", *detail = "";
  if (rc == 0) {
    rc = set_fs_ids(s->lab_uid, s->lab_gid);
    *step = "fs-ids";
  }
  if (rc == 0) {
    rc = mnt_root_tmpfs(t, s->root, s->root_opts);
    *step = "root-tmpfs", *detail = s->root;
  }
  for (int i = 0; i < s->n_ops && rc == 0; i++) {
    if (s->ops[i].in_lab) continue;
    rc = mnt_apply_op(t, s->root, &s->ops[i]);
    *step = "build-root", *detail = s->ops[i].dst;
  }
  set_fs_ids(0, 0);
  mnt_set_side(WHO_CHILD);
  if (rc == 0) s->host_built = 1;
  return rc;
}

/* ---------- the parent's side of a new lab ----------
 * (The server already put the helper, and so this child, into the lab's cgroup: helper.c.) */
int lab_parent_steps(struct spec *s, struct trace_buf *t, pid_t pid, int sync_fd) {
  int rc = user_write_maps(t, pid, s->uid_map, s->gid_map, s->setgroups_deny);
  if (rc < 0) return rc;
  return write_all(sync_fd, "1", 1);
}

/* ---------- the new lab's side: everything between clone() and execve() ---------- */
_Noreturn void lab_child_steps(struct spec *s, struct trace_buf *t, int sync_fd, int status_fd) {
  reset_signals();
  STEP("wait-for-parent", "", wait_for_parent(sync_fd));
  STEP("become-root", "", user_become_root(t, WHO_CHILD, s->setgroups_deny));
  STEP("cgroup-namespace", "", cgroup_new_namespace(t));
  STEP("hostname", s->hostname, uts_set_names(t, s->hostname, s->domainname));
  STEP("private-propagation", "/", mnt_make_private(t));
  if (s->host_built) STEP("bind-root", s->root, mnt_bind_root(t, s->root));
  else STEP("root-tmpfs", s->root, mnt_root_tmpfs(t, s->root, s->root_opts));
  for (int i = 0; i < s->n_ops; i++)
    if (!s->host_built || s->ops[i].in_lab)
      STEP("build-root", s->ops[i].dst, mnt_apply_op(t, s->root, &s->ops[i]));
  STEP("pivot-root", s->root, mnt_pivot_root(t, s->root));
  STEP("loopback-up", "lo", net_loopback_up(t));
  /* If the server dies, its labs die with it rather than live on unowned. */
  STEP("parent-death-signal", "", prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? -errno : 0);
  /* status_fd (O_CLOEXEC) stays to report an exec failure; init_fd is what we exec */
  STEP("close-fds", "", close_fds_except(status_fd, s->init_fd));
  /* and 0-2 were the helper's (the server's stderr among them): the lab gets the lab's /dev/null */
  STEP("stdio", "/dev/null", null_stdio());
  /* the lab's seccomp filter (seccomp.c), inherited by everything init ever starts */
  STEP("seccomp", "", seccomp_apply(t, WHO_CHILD));
  umask(022);
  unblock_signals();
  child_die(status_fd, "exec-init", pid_exec_init(t, s->init_fd), "");
}

/* ---------- a process entering a running lab (terminal shell or check) ----------
 * Runs in the helper, which is single-threaded, so it may setns() into the lab's user, mount,
 * uts, ipc, net, cgroup and time namespaces (all at once through the lab's pidfd, setns(2) since
 * Linux 5.8), and into its pid namespace, which takes effect only for children. So it starts the
 * real process (C2) with CLONE_VM|CLONE_VFORK, as posix_spawn does, and CLONE_PARENT, so that C2
 * is the server's child (reaped by the server) and PID N inside the lab. */
struct c2_ctx {
  struct spec *s;
  struct trace_buf *t;
  int status_fd;
  int *stdio;
  int listener; /* tracing: the filter's listener fd, in the helper's fd table (out) */
};

static int c2_main(void *arg) {
  struct c2_ctx *c = arg;
  struct spec *s = c->s;
  int status_fd = c->status_fd;
  if (s->trace_syscalls) {
    /* Tracing: the filter goes on first, while this child still shares the helper's fd table
     * (CLONE_FILES), so its listener fd lands where the helper can hand it to the server; then
     * the child takes a table of its own. Nothing it calls from here to execve is reported (no
     * call with CLONE_NEW* flags), so it never waits for a tracer that is not there yet. */
    int fd = seccomp_apply(c->t, WHO_SHELL);
    if (fd < 0) child_die(status_fd, "seccomp", fd, "");
    c->listener = fd > 0 ? fd : -1;
    if (unshare(CLONE_FILES) < 0) child_die(status_fd, "unshare-files", errno, "");
  }
  if (setsid() < 0) child_die(status_fd, "setsid", errno, "");
  if (s->pty) {
    struct trace_rec *r = tr_begin(c->t, WHO_SHELL, "ioctl");
    tr_raw(r, "0, TIOCSCTTY, 0");
    if (tr_end(r, ioctl(c->stdio[0], TIOCSCTTY, 0)) < 0)
      child_die(status_fd, "controlling-tty", errno, "");
  }
  for (int i = 0; i < 3; i++)
    if (dup2(c->stdio[i], i) < 0) child_die(status_fd, "stdio", errno, "");
  /* status_fd stays open (O_CLOEXEC) to report an exec failure; everything else goes */
  close_fds_except(status_fd, -1);
  if (!s->cwd || chdir(s->cwd) < 0) (void)!chdir("/");
  umask(022);
  unblock_signals();
  /* a process that enters with setns does not inherit init's filter: it gets its own copy */
  int rc = s->trace_syscalls ? 0 : seccomp_apply(c->t, WHO_SHELL);
  if (rc < 0) child_die(status_fd, "seccomp", rc, "");
  struct trace_rec *r = tr_begin(c->t, WHO_SHELL, "execve");
  tr_str(r, s->argv[0]);
  tr_raw(r, "argv, envp");
  tr_end(r, 0);
  execve(s->argv[0], (char *const *)s->argv, (char *const *)s->envp);
  if (r) r->ret = -1, r->err = errno;
  child_die(status_fd, "execve", errno, s->argv[0]);
}

/* The helper's own failures (it is not a child that exits): reported the same way, returned. */
static pid_t spawn_fail(int status_fd, const char *step, int err) {
  report_failure(status_fd, step, err, "");
  return -err;
}

pid_t spawn_steps(struct spec *s, struct trace_buf *t, int status_fd, int stdio[3], int *listener) {
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
              CLONE_NEWCGROUP | CLONE_NEWPID;
#ifdef CLONE_NEWTIME
  if (s->ns_time) flags |= CLONE_NEWTIME;
#endif
  struct trace_rec *r = tr_begin(t, WHO_SHELL, "setns");
  tr_raw(r, "pidfd");
  tr_flags(r, (unsigned)flags, FT_CLONE);
  if (tr_end(r, setns(s->lab_pidfd, flags)) < 0) return spawn_fail(status_fd, "setns", errno);
  int rc = user_become_root(t, WHO_SHELL, s->setgroups_deny);
  if (rc < 0) return spawn_fail(status_fd, "become-root", -rc);
  if ((rc = seccomp_prepare(s->trace_syscalls)) < 0) return spawn_fail(status_fd, "seccomp", -rc);
  size_t stack_size = 64 * 1024;
  void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return spawn_fail(status_fd, "stack", errno);
  struct c2_ctx ctx = {s, t, status_fd, stdio, -1};
  int cflags = CLONE_VM | CLONE_VFORK | CLONE_PARENT | (s->trace_syscalls ? CLONE_FILES : 0);
  r = tr_begin(t, WHO_SHELL, "clone");
  tr_flags(r, (unsigned)cflags, FT_CLONE);
  pid_t pid = (pid_t)tr_end(r, clone(c2_main, (char *)stack + stack_size, cflags | SIGCHLD, &ctx));
  int e = errno;
  munmap(stack, stack_size);
  if (pid < 0) return spawn_fail(status_fd, "clone", e);
  *listener = ctx.listener;
  return pid;
}
