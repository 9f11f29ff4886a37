/* Shared declarations of the native core. Everything that runs in a cloned child (between clone()
 * and execve()) must be async-signal-safe: the child is a copy of a multithreaded process, so a
 * lock held by another thread at clone time (malloc's, stdio's) stays locked forever in the child.
 * Child code therefore uses only raw system calls and the small formatters in trace.c. */
#ifndef NSLAB_INTERNAL_H
#define NSLAB_INTERNAL_H
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- cleanup attributes (bubblewrap's utils.h does the same): a variable declared with one of
 * these is released when it leaves scope, on every return path, so error paths need no goto
 * chain. steal_fd() hands an fd on (and disarms its cleanup). close_fdp is async-signal-safe and
 * may run in a cloned child; free_p and the others only in the parent. ---- */
static inline void close_fdp(int *fd) {
  if (*fd >= 0) {
    int e = errno;
    close(*fd);
    errno = e;
  }
}
static inline void free_p(void *p) { free(*(void **)p); }
static inline int steal_fd(int *fd) {
  int f = *fd;
  *fd = -1;
  return f;
}
#define autofd __attribute__((cleanup(close_fdp))) int
#define autofree __attribute__((cleanup(free_p)))

#define MAX_OPS 96
#define MAX_ARGS 32
#define MAX_ENV 48
#define MAX_CGROUPS 32 /* one per cgroup hierarchy the host mounts (v1: a dozen or more) */

/* ---- lab spec: parsed by the parent (which may allocate), read by the child ---- */
enum op_kind {
  OP_TMPFS,      /* tmpfs DST OPTIONS */
  OP_RO_BIND,    /* ro-bind SRC DST: recursive bind, then read-only, nosuid, nodev */
  OP_BIND,       /* bind SRC DST */
  OP_DEV_BIND,   /* dev-bind SRC DST: bind one device node (devices cannot be made in a userns) */
  OP_DIR,        /* dir DST MODE */
  OP_SYMLINK,    /* symlink TARGET DST */
  OP_COPY,       /* copy SRC DST MODE: a private, writable copy of a small host file */
  OP_PROC,       /* proc DST: procfs of the new pid namespace */
  OP_SYSFS,      /* sysfs DST: sysfs of the new net namespace, read-only */
  OP_DEVPTS,     /* devpts DST OPTIONS: a new devpts instance, the lab's own ptys */
  OP_MQUEUE,     /* mqueue DST: POSIX message queues of the new ipc namespace */
  OP_REMOUNT_RO, /* remount-ro DST */
};

struct mount_op {
  enum op_kind kind;
  const char *src, *dst, *data;
  unsigned mode;
  /* 1: done by the lab's first process, inside the lab's namespaces (proc, sysfs, devpts and
   * mqueue must be: they show the mounter's pid, net, ipc namespace; and whatever lies below one
   * of them). 0: done by the helper, as host root, before the lab's namespaces exist, so the
   * kernel locks what the lab gets (steps.c). spec_parse decides. */
  int in_lab;
};

struct spec {
  char *text; /* owned copy of the spec; all pointers below point into it */
  /* lab */
  const char *hostname, *domainname;
  const char *root, *root_opts;
  const char *uid_map, *gid_map;
  long lab_uid, lab_gid; /* the host ids the lab's root maps to (first line of each map), or -1 */
  int setgroups_deny;
  int ns_time;
  int init_fd;
  int host_built; /* the helper built the root as host root (root mode); set by lab_host_steps */
  struct mount_op ops[MAX_OPS];
  int n_ops;
  /* spawn */
  pid_t lab_pid;
  int lab_pidfd;
  int pty; /* 1: pty, 0: pipes */
  int trace_syscalls; /* report the process's namespace calls (seccomp user notification) */
  unsigned short rows, cols;
  const char *cwd;
  const char *argv[MAX_ARGS + 1];
  int argc;
  const char *envp[MAX_ENV + 1];
  int envc;
  /* both */
  const char *cgroup_procs[MAX_CGROUPS];
  int n_cgroups;
  /* a lab whose spec also has `arg` lines starts that process as its first shell, on a pty, in
   * the same helper right after init (spawn.c, shell_local): the cgroup.procs files the helper
   * moves into first (shell_cgroup; v2: the lab's leaf), and the variable that is told the lab's
   * namespaces (ns_env, "type:inode " each, as the lab's bash.bashrc records them) */
  const char *shell_cgroups[MAX_CGROUPS];
  int n_shell_cgroups;
  const char *ns_env;
};

int spec_parse(struct spec *s, const char *text, char *err, size_t errlen);
void spec_free(struct spec *s);
#define autospec __attribute__((cleanup(spec_free))) struct spec

/* ---- trace: every system call the core makes for a lab, in a MAP_SHARED buffer so the child's
 * records survive into the parent ---- */
#define TRACE_MAX 192
enum trace_who { WHO_SERVER = 0, WHO_CHILD = 1, WHO_SHELL = 2 };
struct trace_rec {
  char sys[24];
  char args[360];
  int64_t ret;
  int32_t err;
  int32_t who;
  uint64_t t_ns, dur_ns;
};
struct trace_buf {
  uint32_t n, dropped;
  uint64_t origin_ns;
  struct trace_rec rec[TRACE_MAX];
};
struct trace_buf *trace_new(void);
void trace_free(struct trace_buf *t);
static inline void trace_freep(struct trace_buf **t) { trace_free(*t); }
#define autotrace __attribute__((cleanup(trace_freep))) struct trace_buf *
struct trace_rec *tr_begin(struct trace_buf *t, int who, const char *sys);
void tr_str(struct trace_rec *r, const char *s);
void tr_raw(struct trace_rec *r, const char *s);
void tr_int(struct trace_rec *r, long long v);
void tr_flags(struct trace_rec *r, unsigned long long v, int table);
long tr_end(struct trace_rec *r, long ret); /* returns ret; saves errno */
int tr_write_file(struct trace_buf *t, int who, const char *path, const char *data);
uint64_t now_ns(void);

enum flag_table { FT_CLONE, FT_MOUNT, FT_OPEN, FT_MOUNT_ATTR, FT_UMOUNT };

/* ---- JSON output buffer (parent side only) ---- */
struct out {
  char *buf;
  size_t len, cap;
};
void out_init(struct out *o, char *buf, size_t cap);
void out_raw(struct out *o, const char *s);
void out_str(struct out *o, const char *s); /* quoted, escaped */
void out_int(struct out *o, long long v);
void out_trace(struct out *o, const struct trace_buf *t);
int out_error(char *buf, size_t cap, const char *step, int err, const char *detail,
              const struct trace_buf *t);

/* ---- child error reports, sent over the status pipe ---- */
struct child_msg {
  int32_t kind; /* MSG_ERROR */
  int32_t err;
  char step[36];
  char detail[184];
};
enum { MSG_ERROR = 1 };

/* ---- small async-signal-safe helpers (util.c) ---- */
size_t s_len(const char *s);
int s_eq(const char *a, const char *b);
char *s_cpy(char *dst, size_t cap, const char *src);
char *s_cat(char *dst, size_t cap, const char *src);
char *s_u64(char *dst, size_t cap, unsigned long long v);
int write_all(int fd, const void *buf, size_t len);
int write_file(const char *path, const char *data); /* open, write, close; -errno */
int mkdir_p(const char *path, unsigned mode);
int copy_fd(int in, int out);
int close_fds_except(int keep1, int keep2); /* close every fd >= 3 but these */
void reset_signals(void);
long sys_clone3_fork(uint64_t flags, int *pidfd);
/* Reports a failed step (its name, errno and a detail) on the status pipe. */
void report_failure(int status_fd, const char *step, int err, const char *detail);
/* The same from a child between clone() and execve(), which then exits: it never returns. */
_Noreturn void child_die(int status_fd, const char *step, int err, const char *detail);
/* Reads the status pipe until EOF (lab.c): 1 and the first error report if a child failed. EOF
 * without a report means every child involved exec'd (the pipe is O_CLOEXEC) or exited. */
int read_status(int fd, struct child_msg *err);

/* ---- the lab's seccomp filter (seccomp.c) ---- */
struct sock_filter;
/* builds the program into buf; returns its length or -errno (notify: tracing's USER_NOTIF) */
int seccomp_build(struct sock_filter *buf, size_t cap, int notify);
int seccomp_prepare(int notify);                   /* in the helper, before it clones */
int seccomp_apply(struct trace_buf *t, int who);   /* in the child, before its execve */

/* ---- per-namespace pieces ---- */
/* user.c */
int user_write_maps(struct trace_buf *t, pid_t pid, const char *uid_map, const char *gid_map,
                    int setgroups_deny);
int user_become_root(struct trace_buf *t, int who, int setgroups_deny);
/* uts.c */
int uts_set_names(struct trace_buf *t, const char *hostname, const char *domainname);
/* mnt.c */
void mnt_set_side(int who); /* whose records the mount steps are: WHO_SERVER (helper) or WHO_CHILD */
int mnt_new_host_namespace(struct trace_buf *t);
int mnt_bind_root(struct trace_buf *t, const char *root);
int mnt_make_private(struct trace_buf *t);
int mnt_root_tmpfs(struct trace_buf *t, const char *root, const char *opts);
int mnt_apply_op(struct trace_buf *t, const char *root, const struct mount_op *op);
int mnt_pivot_root(struct trace_buf *t, const char *root);
/* ipc.c */
int ipc_mount_mqueue(struct trace_buf *t, const char *path);
/* net.c */
int net_loopback_up(struct trace_buf *t);
/* cgroup.c */
int cgroup_attach(struct trace_buf *t, const char *procs_file, pid_t pid);
int cgroup_new_namespace(struct trace_buf *t);
/* pid.c */
int pid_exec_init(struct trace_buf *t, int init_fd);
/* time.c */
int time_ns_available(void);
/* steps.c */
int lab_host_steps(struct spec *s, struct trace_buf *t, const char **step, const char **detail);
int lab_parent_steps(struct spec *s, struct trace_buf *t, pid_t pid, int sync_fd);
_Noreturn void lab_child_steps(struct spec *s, struct trace_buf *t, int sync_fd, int status_fd);
pid_t spawn_steps(struct spec *s, struct trace_buf *t, int status_fd, int stdio[3], int *listener);

/* ---- the helper (helper.c): fixed fd layout and its binary answer ---- */
enum {
  HELPER_FD_RESULT = 1, /* helper -> server (a unix socket): struct helper_result (with a seccomp
                         * listener fd attached when tracing), then the trace records */
  HELPER_FD_SPEC = 3,   /* server -> helper: the spec text; its arrival is the go signal */
  HELPER_FD_INIT = 4,   /* lab: the sealed memfd of nslab-init */
  HELPER_FD_PIDFD = 4,  /* spawn: the pidfd of the lab's init */
  HELPER_FD_STDIN = 5,  /* spawn: stdio of the new process */
  HELPER_FD_STDOUT = 6,
  HELPER_FD_STDERR = 7,
};
struct helper_result {
  int32_t ok, pid, err, timens;
  int32_t listener; /* 1: a seccomp listener fd comes with this message (SCM_RIGHTS) */
  char step[36];
  char detail[184];
  /* a lab's first shell (spec with `arg` lines): the lab's answer says one follows
   * (shell_pending); the second answer says how it went (a lab whose shell failed is still a
   * lab), its pty master coming with it (SCM_RIGHTS, before the listener) when shell_master is 1 */
  int32_t shell_pending, shell_ok, shell_pid, shell_err, shell_master;
  char shell_step[36];
  char shell_detail[184];
};
void lab_create_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int *pidfd_out);
void shell_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int lab_pidfd,
                 int *master, int *listener);
/* Opens the pty multiplexer of the lab's own devpts from the host side (spawn.c). */
int lab_open_ptmx(struct trace_buf *t, const struct spec *s, char *err, size_t errlen);
void spawn_local(struct spec *s, struct trace_buf *t, struct helper_result *res, int *listener);
int helper_main(int argc, char **argv);
void monitor_reap_quietly(pid_t pid);
#endif
