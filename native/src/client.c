/* The server's side of nslab_lab_create and nslab_spawn: prepares fds, starts nslab-helper with
 * posix_spawn (see helper.c for why), puts it into the lab's cgroup, hands it the spec, reads its
 * answer and opens a pidfd for the process it made. Runs on a thread of Node: it allocates and
 * uses stdio freely, and forks nothing itself. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static char *helper_path;
/* How long the server waits for the helper's answer before it kills it: a stuck helper must not
 * hold a thread-pool thread, and with it the server, forever. Settable for tests. */
static int helper_timeout_ms = 20000;

int nslab_abi_version(void) { return NSLAB_ABI_VERSION; }

int nslab_set_helper_timeout(int ms) {
  if (ms < 1 || ms > 600000) return -EINVAL;
  helper_timeout_ms = ms;
  return 0;
}

int nslab_set_helper(const char *path) {
  if (access(path, X_OK) < 0) return -errno;
  char *p = strdup(path);
  if (!p) return -ENOMEM;
  free(helper_path);
  helper_path = p;
  return 0;
}

/* Waits until fd is readable: 0, or -ETIMEDOUT once the deadline passed. */
static int wait_readable(int fd, uint64_t deadline_ns) {
  for (;;) {
    uint64_t now = now_ns();
    if (now >= deadline_ns) return -ETIMEDOUT;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int)((deadline_ns - now) / 1000000) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return pr == 0 ? -ETIMEDOUT : -errno;
    return 0;
  }
}

/* Reads exactly len bytes, or fails: at EOF, or when the helper has not answered by the deadline. */
static int read_exact(int fd, void *buf, size_t len, uint64_t deadline_ns) {
  char *p = buf;
  while (len) {
    int rc = wait_readable(fd, deadline_ns);
    if (rc < 0) return rc;
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -EPIPE;
    p += n, len -= (size_t)n;
  }
  return 0;
}

/* The helper's fixed-size answer, and the fds that may come with its first bytes (SCM_RIGHTS:
 * only recvmsg sees them, a plain read would drop them): a first shell's pty master, then a
 * seccomp listener, each only where the answer says it comes; any other fd is closed. */
static int read_result(int fd, struct helper_result *res, int *master, int *listener, uint64_t deadline_ns) {
  int rc = wait_readable(fd, deadline_ns);
  if (rc < 0) return rc;
  union {
    char buf[CMSG_SPACE(2 * sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {res, sizeof *res};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return n < 0 ? -errno : -EPIPE;
  int fds[2] = {-1, -1}, n_fds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
        int f;
        memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
        if (n_fds < 2) fds[n_fds++] = f;
        else close(f);
      }
  rc = (size_t)n < sizeof *res ? read_exact(fd, (char *)res + n, sizeof *res - (size_t)n, deadline_ns) : 0;
  int next = 0;
  if (rc == 0 && res->shell_master && next < n_fds) *master = fds[next++];
  if (rc == 0 && res->listener && next < n_fds) *listener = fds[next++];
  for (; next < n_fds; next++) close(fds[next]);
  return rc;
}

/* One call into the helper, from the server's side: the parsed spec, the fds the helper gets at
 * fixed numbers, its answer and both traces. call_end releases it all (autocall). */
struct call {
  struct spec s;
  int fds[8]; /* fd to place at each helper fd number, -1: none (borrowed, not owned) */
  struct helper_result res;
  int listener; /* a seccomp listener the helper sent (tracing), ours until answered */
  int pending;  /* a lab's first shell follows: the socket its answer comes on (helper runs on) */
  int helper_fd; /* and a pidfd of that helper, to kill it if it never answers */
  struct trace_buf *t, *ht; /* ours, and the helper's records */
  pid_t helper;
  char err[256];
};

static void call_end(struct call *c) {
  close_fdp(&c->listener);
  close_fdp(&c->pending);
  close_fdp(&c->helper_fd);
  trace_free(c->t);
  trace_free(c->ht);
  spec_free(&c->s);
}
#define autocall __attribute__((cleanup(call_end))) struct call

/* An error answer, always a negative errno (a helper that failed with errno 0 still failed). */
static int answer_error(char *out, size_t outlen, const char *step, int err, const char *detail,
                        const struct trace_buf *t) {
  int rc = out_error(out, outlen, step, err, detail, t);
  return rc < 0 ? rc : -EIO;
}

/* The shared prologue: parse the spec, make the traces. 0, or an error answer. */
static int call_begin(struct call *c, const char *text, char *out, size_t outlen) {
  memset(c, 0, sizeof *c);
  c->listener = -1;
  c->pending = -1;
  c->helper_fd = -1;
  for (int i = 0; i < 8; i++) c->fds[i] = -1;
  int rc = spec_parse(&c->s, text, c->err, sizeof c->err);
  if (rc < 0) return answer_error(out, outlen, "spec", rc, c->err, NULL);
  c->t = trace_new();
  c->ht = trace_new();
  if (!c->t || !c->ht) return answer_error(out, outlen, "helper", ENOMEM, "", NULL);
  return 0;
}

static void close_fds8(int (*fds)[8]) {
  for (int i = 0; i < 8; i++) close_fdp(&(*fds)[i]);
}

static void posix_spawnattr_destroyp(posix_spawnattr_t *a) { posix_spawnattr_destroy(a); }
static void posix_spawn_file_actions_destroyp(posix_spawn_file_actions_t *f) {
  posix_spawn_file_actions_destroy(f);
}

/* posix_spawn of the helper (CLONE_VM|CLONE_VFORK: nothing of the server is copied) with c->fds
 * at their numbers and nothing else, default signal dispositions and an empty environment. */
static int start_helper(struct call *c, const char *mode) {
  __attribute__((cleanup(posix_spawn_file_actions_destroyp))) posix_spawn_file_actions_t fa;
  __attribute__((cleanup(posix_spawnattr_destroyp))) posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all); /* Node ignores SIGPIPE; the lab must not inherit that */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  /* Each source is first moved above the target range, so no dup2 overwrites a later source. */
  __attribute__((cleanup(close_fds8))) int hi[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  for (int i = 0; i < 8; i++) {
    if (c->fds[i] < 0) continue;
    if ((hi[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 64)) < 0) return -errno;
    posix_spawn_file_actions_adddup2(&fa, hi[i], i);
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, 8);
  char *argv[] = {"nslab-helper", (char *)mode, NULL};
  char *envp[] = {NULL};
  struct trace_rec *r = tr_begin(c->t, WHO_SERVER, "posix_spawn");
  tr_str(r, "nslab-helper");
  tr_raw(r, mode);
  tr_flags(r, CLONE_VM | CLONE_VFORK, FT_CLONE);
  int e = posix_spawn(&c->helper, helper_path, &fa, &at, argv, envp);
  tr_end(r, e ? -1 : c->helper);
  return -e;
}

/* Starts the helper, attaches it to the lab's cgroups, sends the spec and collects the answer.
 * 0 when the helper answered (c->res says how it went), else -errno with c->err set. */
/* Starts the helper for c (its fds in c->fds, its spec pipe and answer socket returned). */
static int start_with_pipes(struct call *c, const char *mode, int *spec_w_out, int *res_r_out) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -errno;
  autofd spec_r = p[0], spec_w = p[1];
  /* a unix socket, not a pipe: the answer may carry an fd (the seccomp listener, when tracing) */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) return -errno;
  autofd res_r = p[0], res_w = p[1];
  c->fds[HELPER_FD_SPEC] = spec_r;
  c->fds[HELPER_FD_RESULT] = res_w;
  int rc = start_helper(c, mode);
  c->fds[HELPER_FD_SPEC] = c->fds[HELPER_FD_RESULT] = -1;
  if (rc < 0) return rc;
  *spec_w_out = steal_fd(&spec_w);
  *res_r_out = steal_fd(&res_r);
  return 0;
}

/* A lab helper started ahead (nslab_lab_prepare): exec'd and waiting for its spec, so that the next
 * lab need not wait for a process to start (~0.8 ms here). Given the next lab's cgroups (made
 * ahead too: LabManager.spare), it joins them now as well: on cgroup v1 a move into each of a dozen
 * hierarchies takes the global cgroup_threadgroup_rwsem for writing, 0.1-1.4 ms apiece here
 * (kernel/cgroup/cgroup.c, cgroup_attach_lock), which no learner should wait for. A lab takes it
 * only if it is in exactly that lab's cgroups, or in none (then it is attached as a helper this
 * call starts would be). Either way a helper does nothing for a lab before its spec arrives. */
#define READY_RECS (1 + MAX_CGROUPS)
static struct {
  pid_t pid;
  int spec_w, res_r, init_fd;
  char *path;                /* the helper program it runs (nslab_set_helper may change) */
  char *cgroups;             /* the cgroup.procs files it joined, '\n'-separated ("": none) */
  struct trace_rec recs[READY_RECS]; /* its posix_spawn and joins, for the trace of the lab that takes it */
  uint32_t n_recs;
} ready = {0, -1, -1, -1, NULL, NULL, {{{0}, {0}, 0, 0, 0, 0, 0}}, 0};
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;

/* Lets the ready helper go (its spec pipe closes: it exits without doing anything). Locked. */
static void ready_drop(void) {
  if (ready.pid <= 0) return;
  close_fdp(&ready.spec_w);
  close_fdp(&ready.res_r);
  monitor_reap_quietly(ready.pid);
  free(ready.path);
  free(ready.cgroups);
  ready.pid = 0, ready.spec_w = ready.res_r = ready.init_fd = -1, ready.path = ready.cgroups = NULL;
  ready.n_recs = 0;
}

void nslab_lab_unprepare(int init_fd) {
  pthread_mutex_lock(&ready_lock);
  if (ready.init_fd == init_fd) ready_drop();
  pthread_mutex_unlock(&ready_lock);
}

/* Whether the ready helper (locked) runs the current program for this init and joined `cgroups`. */
static int ready_matches(int init_fd, const char *cgroups) {
  return ready.pid > 0 && ready.init_fd == init_fd && ready.path && helper_path && !strcmp(ready.path, helper_path) &&
         ready.cgroups && !strcmp(ready.cgroups, cgroups);
}

int nslab_lab_prepare(int init_fd, const char *cgroups) {
  if (!helper_path) return -ENOENT;
  if (!cgroups) cgroups = "";
  /* absolute paths of cgroup.procs files, at most MAX_CGROUPS of them */
  int n = 0;
  for (const char *l = cgroups; *l; n++) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    if (n >= MAX_CGROUPS || l[0] != '/' || len < 2 || len >= PATH_MAX) return -EINVAL;
    l += len + (e ? 1 : 0);
  }
  pthread_mutex_lock(&ready_lock);
  int have = ready_matches(init_fd, cgroups);
  int other = ready.pid > 0 && ready.init_fd != init_fd && ready.path && !strcmp(ready.path, helper_path);
  pthread_mutex_unlock(&ready_lock);
  if (have) return 0;
  if (other) return -EBUSY; /* another lab manager's (tests run several in one process) */
  autocall c;
  memset(&c, 0, sizeof c);
  c.listener = c.pending = c.helper_fd = -1;
  for (int i = 0; i < 8; i++) c.fds[i] = -1;
  c.t = trace_new();
  if (!c.t) return -ENOMEM;
  c.fds[HELPER_FD_INIT] = init_fd;
  autofd spec_w = -1, res_r = -1;
  int rc = start_with_pipes(&c, "lab", &spec_w, &res_r);
  if (rc < 0) return rc;
  char procs[PATH_MAX];
  for (const char *l = cgroups; *l && rc == 0;) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    memcpy(procs, l, len);
    procs[len] = 0;
    rc = cgroup_attach(c.t, procs, c.helper);
    l += len + (e ? 1 : 0);
  }
  char *path = strdup(helper_path), *joined = strdup(cgroups);
  if (rc < 0 || !path || !joined) {
    /* closing its spec pipe lets it go */
    close_fdp(&spec_w);
    monitor_reap_quietly(c.helper);
    free(path), free(joined);
    return rc < 0 ? rc : -ENOMEM;
  }
  pthread_mutex_lock(&ready_lock);
  if (ready_matches(init_fd, cgroups)) {
    /* another call was quicker: keep that one, let this one go */
    pthread_mutex_unlock(&ready_lock);
    close_fdp(&spec_w);
    monitor_reap_quietly(c.helper);
    free(path), free(joined);
    return 0;
  }
  ready_drop(); /* one at a time: a stale one (another program, other cgroups) goes */
  ready.pid = c.helper, ready.spec_w = steal_fd(&spec_w), ready.res_r = steal_fd(&res_r), ready.init_fd = init_fd;
  ready.path = path, ready.cgroups = joined;
  ready.n_recs = c.t->n < READY_RECS ? c.t->n : READY_RECS;
  memcpy(ready.recs, c.t->rec, ready.n_recs * sizeof ready.recs[0]);
  pthread_mutex_unlock(&ready_lock);
  return 0;
}

/* Takes the ready helper for a lab with this init, if there is one that runs the current program:
 * 2 if it already joined this lab's cgroups, 1 if it joined none, 0 if there is none (one in
 * other cgroups is let go: another lab's, or a spare since put away). */
static int take_ready(struct call *c, int *spec_w, int *res_r) {
  char want[MAX_CGROUPS * 256];
  size_t w = 0;
  want[0] = 0;
  for (int i = 0; i < c->s.n_cgroups; i++) {
    size_t len = strlen(c->s.cgroup_procs[i]);
    if (w + len + 2 > sizeof want) return 0; /* longer than any prepare was given: start one */
    if (i) want[w++] = '\n';
    memcpy(want + w, c->s.cgroup_procs[i], len + 1);
    w += len;
  }
  pthread_mutex_lock(&ready_lock);
  int ok = ready.pid > 0 && ready.init_fd == c->s.init_fd && ready.path && helper_path && !strcmp(ready.path, helper_path);
  int joined = ok && ready.cgroups && ready.cgroups[0];
  if (joined && strcmp(ready.cgroups, want)) {
    ready_drop();
    ok = joined = 0;
  }
  if (ok) {
    c->helper = ready.pid;
    *spec_w = steal_fd(&ready.spec_w);
    *res_r = steal_fd(&ready.res_r);
    for (uint32_t i = 0; i < ready.n_recs && c->t->n < TRACE_MAX; i++) c->t->rec[c->t->n++] = ready.recs[i];
    free(ready.path);
    free(ready.cgroups);
    ready.pid = 0, ready.init_fd = -1, ready.path = ready.cgroups = NULL;
    ready.n_recs = 0;
  }
  pthread_mutex_unlock(&ready_lock);
  return ok ? (joined ? 2 : 1) : 0;
}

static int run_helper(struct call *c, const char *mode, const char *spec_text) {
  if (!helper_path) return snprintf(c->err, sizeof c->err, "nslab_set_helper was not called"), -ENOENT;
  autofd spec_w = -1, res_r = -1;
  int rc = 0, took = strcmp(mode, "lab") ? 0 : take_ready(c, &spec_w, &res_r);
  if (!took) rc = start_with_pipes(c, mode, &spec_w, &res_r);
  if (rc < 0) return snprintf(c->err, sizeof c->err, "starting %s", helper_path), rc;
  /* Into the lab's cgroups before it does anything: what it creates is born there (a helper
   * started ahead may have joined them then). */
  for (int i = 0; i < c->s.n_cgroups && rc == 0 && took != 2; i++) {
    rc = cgroup_attach(c->t, c->s.cgroup_procs[i], c->helper);
    if (rc < 0) snprintf(c->err, sizeof c->err, "joining %s", c->s.cgroup_procs[i]);
  }
  if (rc == 0) rc = write_all(spec_w, spec_text, strlen(spec_text));
  close(steal_fd(&spec_w)); /* EOF: the helper goes (or, after an error, gives up) */
  /* the answer: the fixed-size result, then the helper's trace records */
  uint64_t deadline = now_ns() + (uint64_t)helper_timeout_ms * 1000000ull;
  int unused_master = -1;
  int rr = read_result(res_r, &c->res, &unused_master, &c->listener, deadline);
  close_fdp(&unused_master);
  if (rr < 0) {
    memset(&c->res, 0, sizeof c->res); /* a partial answer names no process */
    if (rr == -ETIMEDOUT) kill(c->helper, SIGKILL);
    if (rc == 0) {
      rc = rr == -ETIMEDOUT ? -ETIMEDOUT : -EPROTO;
      snprintf(c->err, sizeof c->err, "%s", rr == -ETIMEDOUT ? "the helper did not answer in time" : "the helper died without answering");
    }
  } else {
    uint32_t n = 0;
    if (read_exact(res_r, &n, sizeof n, deadline) == 0 && n <= TRACE_MAX &&
        read_exact(res_r, c->ht->rec, n * sizeof c->ht->rec[0], deadline) == 0)
      c->ht->n = n;
  }
  /* a lab's first shell follows: the helper goes on, and its second answer is read later (on
   * the same socket, nslab_lab_shell) */
  if (rr == 0 && rc == 0 && c->res.ok && c->res.shell_pending) {
    c->pending = steal_fd(&res_r);
    /* our unreaped child: its pid cannot have been reused yet */
    c->helper_fd = (int)syscall(SYS_pidfd_open, c->helper, 0);
    if (c->helper_fd >= 0) fcntl(c->helper_fd, F_SETFD, FD_CLOEXEC);
  }
  /* it exits right after answering (or was killed); the monitor reaps it whenever that is (a
   * helper that starts a lab's first shell answers twice and exits after the second) */
  monitor_reap_quietly(c->helper);
  return rc;
}

/* Appends the helper's records to ours. CLOCK_MONOTONIC is shared (the helper is not in a time
 * namespace), so both have the same origin. */
static void merge_trace(struct trace_buf *t, const struct trace_buf *h) {
  for (uint32_t i = 0; i < h->n && i < TRACE_MAX; i++) {
    if (t->n >= TRACE_MAX) {
      t->dropped++;
      continue;
    }
    t->rec[t->n++] = h->rec[i];
  }
  t->dropped += h->dropped;
}

/* After a failure, the process the helper made (our child by CLONE_PARENT) was killed: reap it. */
static void reap_failed(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

static int pidfd_for(pid_t pid) {
  /* our own unreaped child: its pid cannot have been reused */
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* The shared epilogue, part 1: runs the helper; on success gives the process it made a pidfd and
 * starts the answer ({"ok":true,"pid":N,"pidfd":N). Returns the pidfd, or -errno after writing
 * an error answer. */
static int call_run(struct call *c, const char *mode, const char *spec_text, struct out *o,
                    char *out, size_t outlen) {
  int rc = run_helper(c, mode, spec_text);
  merge_trace(c->t, c->ht);
  if (rc < 0) return answer_error(out, outlen, "helper", rc, c->err, c->t);
  if (!c->res.ok) {
    reap_failed(c->res.pid);
    return answer_error(out, outlen, c->res.step, c->res.err, c->res.detail, c->t);
  }
  int pidfd = pidfd_for(c->res.pid);
  if (pidfd < 0) {
    reap_failed(c->res.pid);
    return answer_error(out, outlen, "pidfd_open", pidfd, "", c->t);
  }
  out_init(o, out, outlen);
  out_raw(o, "{\"ok\":true,\"pid\":");
  out_int(o, c->res.pid);
  out_raw(o, ",\"pidfd\":");
  out_int(o, pidfd);
  return pidfd;
}

/* Part 2: the trace ends the answer. */
static int call_done(struct call *c, struct out *o) {
  out_raw(o, ",\"trace\":");
  out_trace(o, c->t);
  out_raw(o, "}");
  return 0;
}

/* A lab's first shell: the helper's second answer on `sock` (its result, the pty master and
 * listener with it, then its records). A shell that failed, or whose pidfd cannot be had, is
 * reaped here; the helper is left to the monitor. */
static void shell_read(int sock, int helper_fd, struct helper_result *res, int *master, int *listener,
                       struct trace_buf *t) {
  uint64_t deadline = now_ns() + (uint64_t)helper_timeout_ms * 1000000ull;
  int rr = read_result(sock, res, master, listener, deadline);
  if (rr < 0) {
    memset(res, 0, sizeof *res);
    if (rr == -ETIMEDOUT && helper_fd >= 0) syscall(SYS_pidfd_send_signal, helper_fd, SIGKILL, NULL, 0);
    res->shell_err = rr == -ETIMEDOUT ? ETIMEDOUT : EPROTO;
    s_cpy(res->shell_step, sizeof res->shell_step, "helper");
    s_cpy(res->shell_detail, sizeof res->shell_detail,
          rr == -ETIMEDOUT ? "the helper did not answer in time" : "the helper died without answering");
  } else if (t) {
    uint32_t n = 0;
    if (read_exact(sock, &n, sizeof n, deadline) == 0 && n <= TRACE_MAX &&
        read_exact(sock, t->rec, n * sizeof t->rec[0], deadline) == 0)
      t->n = n;
  }
  if (res->shell_ok && *master < 0) {
    res->shell_ok = 0;
    res->shell_err = EPROTO;
    s_cpy(res->shell_step, sizeof res->shell_step, "helper");
    s_cpy(res->shell_detail, sizeof res->shell_detail, "no pty master came with the answer");
  }
  if (!res->shell_ok) reap_failed(res->shell_pid);
}

int nslab_lab_shell(int sock, int helper_fd, char *out, size_t outlen) {
  autofd s = sock, h = helper_fd, master = -1, listener = -1;
  autotrace t = trace_new();
  struct helper_result res;
  memset(&res, 0, sizeof res);
  if (sock < 0) return answer_error(out, outlen, "spec", EINVAL, "no first shell pending", NULL);
  shell_read(s, h, &res, &master, &listener, t);
  int pidfd = -1;
  if (res.shell_ok && (pidfd = pidfd_for(res.shell_pid)) < 0) {
    reap_failed(res.shell_pid);
    res.shell_ok = 0;
    res.shell_err = -pidfd;
    s_cpy(res.shell_step, sizeof res.shell_step, "pidfd_open");
    res.shell_detail[0] = 0;
  }
  struct out o;
  out_init(&o, out, outlen);
  if (!res.shell_ok) {
    res.shell_step[sizeof res.shell_step - 1] = 0;
    res.shell_detail[sizeof res.shell_detail - 1] = 0;
    out_raw(&o, "{\"ok\":false,\"step\":");
    out_str(&o, res.shell_step);
    out_raw(&o, ",\"errno\":");
    out_int(&o, res.shell_err ? res.shell_err : EIO);
    out_raw(&o, ",\"detail\":");
    out_str(&o, res.shell_detail);
  } else {
    out_raw(&o, "{\"ok\":true,\"pid\":");
    out_int(&o, res.shell_pid);
    out_raw(&o, ",\"pidfd\":");
    out_int(&o, pidfd);
    out_raw(&o, ",\"master\":");
    out_int(&o, steal_fd(&master));
    if (listener >= 0) {
      out_raw(&o, ",\"listener\":");
      out_int(&o, steal_fd(&listener));
    }
  }
  out_raw(&o, ",\"trace\":");
  out_trace(&o, t);
  out_raw(&o, "}");
  return 0;
}

/* A first shell nobody will take (its lab failed after all): read its answer, end it. */
static void shell_discard(struct call *c) {
  if (c->pending < 0) return;
  autofd sock = steal_fd(&c->pending), master = -1, listener = -1;
  struct helper_result res;
  memset(&res, 0, sizeof res);
  shell_read(sock, c->helper_fd, &res, &master, &listener, NULL);
  if (res.shell_ok) reap_failed(res.shell_pid);
}

int nslab_lab_create(const char *spec_text, char *out, size_t outlen) {
  autocall c;
  int rc = call_begin(&c, spec_text, out, outlen);
  if (rc < 0) return rc;
  if (!c.s.root || c.s.init_fd < 0)
    return answer_error(out, outlen, "spec", EINVAL, "a lab needs root and init_fd", NULL);
  c.fds[HELPER_FD_INIT] = c.s.init_fd;
  struct out o;
  if ((rc = call_run(&c, "lab", spec_text, &o, out, outlen)) < 0) {
    shell_discard(&c);
    return rc;
  }
  out_raw(&o, ",\"timens\":");
  out_raw(&o, c.res.timens ? "true" : "false");
  if (c.pending >= 0) {
    /* its first shell is being started: the caller collects it with nslab_lab_shell */
    out_raw(&o, ",\"shellPending\":{\"sock\":");
    out_int(&o, steal_fd(&c.pending));
    out_raw(&o, ",\"helper\":");
    out_int(&o, steal_fd(&c.helper_fd));
    out_raw(&o, "}");
  }
  return call_done(&c, &o);
}

int nslab_spawn(const char *spec_text, char *out, size_t outlen) {
  autocall c;
  int rc = call_begin(&c, spec_text, out, outlen);
  if (rc < 0) return rc;
  if (c.s.lab_pidfd < 0 || c.s.lab_pid <= 0 || c.s.argc < 1 || c.s.argv[0][0] != '/')
    return answer_error(out, outlen, "spec", EINVAL, "spawn needs lab and an absolute arg", NULL);
  /* ours: what the answer hands to the server (master, or the read ends of the pipes) */
  autofd master = -1, out_r = -1, err_r = -1;
  /* the child's: closed once the helper has its copies */
  autofd slave = -1, devnull = -1, out_w = -1, err_w = -1;
  c.fds[HELPER_FD_PIDFD] = c.s.lab_pidfd;
  if (c.s.pty) {
    if ((master = lab_open_ptmx(c.t, &c.s, c.err, sizeof c.err)) < 0)
      return answer_error(out, outlen, "stdio", master, c.err, c.t);
    struct trace_rec *r = tr_begin(c.t, WHO_SERVER, "ioctl");
    tr_int(r, master);
    tr_raw(r, "TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC");
    slave = (int)tr_end(r, ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (slave < 0) return answer_error(out, outlen, "stdio", -errno, "TIOCGPTPEER", c.t);
    c.fds[HELPER_FD_STDIN] = c.fds[HELPER_FD_STDOUT] = c.fds[HELPER_FD_STDERR] = slave;
  } else {
    int p[2];
    if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
      return answer_error(out, outlen, "stdio", -errno, "/dev/null", c.t);
    if (pipe2(p, O_CLOEXEC) < 0) return answer_error(out, outlen, "stdio", -errno, "pipe", c.t);
    out_r = p[0], out_w = p[1];
    if (pipe2(p, O_CLOEXEC) < 0) return answer_error(out, outlen, "stdio", -errno, "pipe", c.t);
    err_r = p[0], err_w = p[1];
    c.fds[HELPER_FD_STDIN] = devnull;
    c.fds[HELPER_FD_STDOUT] = out_w;
    c.fds[HELPER_FD_STDERR] = err_w;
  }
  struct out o;
  rc = call_run(&c, "spawn", spec_text, &o, out, outlen);
  if (rc < 0) return rc;
  if (c.listener >= 0) {
    out_raw(&o, ",\"listener\":");
    out_int(&o, steal_fd(&c.listener));
  }
  if (c.s.pty) {
    out_raw(&o, ",\"master\":");
    out_int(&o, steal_fd(&master));
  } else {
    out_raw(&o, ",\"stdout\":");
    out_int(&o, steal_fd(&out_r));
    out_raw(&o, ",\"stderr\":");
    out_int(&o, steal_fd(&err_r));
  }
  return call_done(&c, &o);
}
