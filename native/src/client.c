/* The server's side of nslab_lab_create and nslab_spawn: prepares fds, starts nslab-helper with
 * posix_spawn (see helper.c for why), puts it into the lab's cgroup, hands it the spec, reads its
 * answer and opens a pidfd for the process it made. Runs on a thread of Node: it allocates and
 * uses stdio freely, and forks nothing itself. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static char *helper_path;

int nslab_abi_version(void) { return NSLAB_ABI_VERSION; }

int nslab_set_helper(const char *path) {
  if (access(path, X_OK) < 0) return -errno;
  char *p = strdup(path);
  if (!p) return -ENOMEM;
  free(helper_path);
  helper_path = p;
  return 0;
}

/* Opens the ptmx of the lab's devpts from the host side. The lab's root controls every name in
 * its tree, so the path is resolved with openat2(RESOLVE_IN_ROOT): a symlink planted by the lab
 * resolves inside the lab, never on the host (openat2(2)); O_NONBLOCK keeps a planted FIFO from
 * hanging the server; and the result must be a ptmx (char 5:2) or it is refused. */
static int open_lab_ptmx(struct trace_buf *t, const struct spec *s, char *err, size_t errlen) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)s->lab_pid);
  int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return snprintf(err, errlen, "open %s", path), -errno;
  /* the pid could have been reused: the pidfd says whether our lab's init is still alive */
  if (syscall(SYS_pidfd_send_signal, s->lab_pidfd, 0, NULL, 0) < 0) {
    int e = errno;
    close(root);
    snprintf(err, errlen, "the lab's init has exited");
    return -e;
  }
  struct open_how how = {.flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "openat2");
  tr_str(r, path);
  tr_str(r, "dev/pts/ptmx");
  tr_raw(r, "{O_RDWR|O_NOCTTY|O_CLOEXEC|O_NONBLOCK, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS}");
  int fd = (int)tr_end(r, syscall(SYS_openat2, root, "dev/pts/ptmx", &how, sizeof how));
  int e = errno;
  close(root);
  if (fd < 0) return snprintf(err, errlen, "open the lab's /dev/pts/ptmx"), -e;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2) {
    close(fd);
    snprintf(err, errlen, "the lab's /dev/pts/ptmx is not a pty multiplexer");
    return -EPERM;
  }
  int unlock = 0;
  struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
  if (ioctl(fd, TIOCSPTLCK, &unlock) < 0 || ioctl(fd, TIOCSWINSZ, &ws) < 0) {
    e = errno;
    close(fd);
    snprintf(err, errlen, "unlock or size the pty");
    return -e;
  }
  return fd;
}

/* Reads exactly len bytes, or fails: at EOF, or when the helper has not answered by the deadline
 * (a stuck helper must not hold a thread-pool thread, and with it the server, forever). */
static int read_exact(int fd, void *buf, size_t len, uint64_t deadline_ns) {
  char *p = buf;
  while (len) {
    uint64_t now = now_ns();
    if (now >= deadline_ns) return -ETIMEDOUT;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int)((deadline_ns - now) / 1000000) + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return pr == 0 ? -ETIMEDOUT : -errno;
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -EPIPE;
    p += n, len -= (size_t)n;
  }
  return 0;
}

#define HELPER_TIMEOUT_NS (20ull * 1000000000ull)

struct run {
  const char *mode;  /* "lab" or "spawn" */
  int fds[8];        /* fd to place at each helper fd number, -1: none */
  struct helper_result res;
  struct trace_buf *helper_trace;
  pid_t helper;
};

/* Starts the helper with the fds in place, attaches it to the lab's cgroups, sends the spec and
 * collects the answer. Returns 0 when the helper answered (res says how it went). */
static int run_helper(struct run *h, const struct spec *s, const char *spec_text,
                      struct trace_buf *t, char *err, size_t errlen) {
  if (!helper_path) return snprintf(err, errlen, "nslab_set_helper was not called"), -ENOENT;
  int specp[2] = {-1, -1}, resp[2] = {-1, -1}, rc = 0;
  if (pipe2(specp, O_CLOEXEC) < 0 || pipe2(resp, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all); /* Node ignores SIGPIPE; the lab must not inherit that */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  /* Each source is first moved above the target range, so no dup2 overwrites a later source. */
  int hi[8];
  for (int i = 0; i < 8; i++) hi[i] = -1;
  h->fds[HELPER_FD_SPEC] = specp[0];
  h->fds[HELPER_FD_RESULT] = resp[1];
  for (int i = 0; i < 8; i++) {
    if (h->fds[i] < 0) continue;
    hi[i] = fcntl(h->fds[i], F_DUPFD_CLOEXEC, 64);
    if (hi[i] < 0) {
      rc = -errno;
      goto spawn_done;
    }
  }
  for (int i = 0; i < 8; i++)
    if (hi[i] >= 0) posix_spawn_file_actions_adddup2(&fa, hi[i], i);
  posix_spawn_file_actions_addclosefrom_np(&fa, 8);
  char *argv[] = {"nslab-helper", (char *)h->mode, NULL};
  char *envp[] = {NULL};
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "posix_spawn");
  tr_str(r, "nslab-helper");
  tr_raw(r, h->mode);
  tr_flags(r, CLONE_VM | CLONE_VFORK, FT_CLONE);
  int e = posix_spawn(&h->helper, helper_path, &fa, &at, argv, envp);
  tr_end(r, e ? -1 : h->helper);
  if (e) rc = -e;
spawn_done:
  for (int i = 0; i < 8; i++)
    if (hi[i] >= 0) close(hi[i]);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(specp[0]), specp[0] = -1;
  close(resp[1]), resp[1] = -1;
  if (rc < 0) {
    snprintf(err, errlen, "starting %s", helper_path);
    goto out;
  }
  /* Into the lab's cgroup before it does anything: what it creates is born there. */
  for (int i = 0; i < s->n_cgroups && rc == 0; i++) {
    rc = cgroup_attach(t, s->cgroup_procs[i], h->helper);
    if (rc < 0) snprintf(err, errlen, "joining %s", s->cgroup_procs[i]);
  }
  if (rc == 0) rc = write_all(specp[1], spec_text, strlen(spec_text));
  close(specp[1]), specp[1] = -1; /* EOF: the helper goes */
  /* the answer: the fixed-size result, then the helper's trace records */
  uint64_t deadline = now_ns() + HELPER_TIMEOUT_NS;
  int rr = read_exact(resp[0], &h->res, sizeof h->res, deadline);
  if (rr < 0) {
    if (rr == -ETIMEDOUT) kill(h->helper, SIGKILL);
    if (rc == 0) {
      rc = rr == -ETIMEDOUT ? -ETIMEDOUT : -EPROTO;
      snprintf(err, errlen, rr == -ETIMEDOUT ? "the helper did not answer in time" : "the helper died without answering");
    }
  } else {
    uint32_t n = 0;
    if (read_exact(resp[0], &n, sizeof n, deadline) == 0 && n <= TRACE_MAX &&
        read_exact(resp[0], h->helper_trace->rec, n * sizeof h->helper_trace->rec[0], deadline) == 0)
      h->helper_trace->n = n;
  }
  /* it exits right after answering; the monitor reaps it, we need not wait */
  monitor_reap_quietly(h->helper);
out:
  for (int i = 0; i < 2; i++) {
    if (specp[i] >= 0) close(specp[i]);
    if (resp[i] >= 0) close(resp[i]);
  }
  return rc;
}

/* Appends the helper's records to ours, on our clock. */
static void merge_trace(struct trace_buf *t, const struct trace_buf *h) {
  for (uint32_t i = 0; i < h->n && i < TRACE_MAX; i++) {
    if (t->n >= TRACE_MAX) {
      t->dropped++;
      continue;
    }
    t->rec[t->n] = h->rec[i];
    /* CLOCK_MONOTONIC is shared (the helper is not in a time namespace): same origin */
    t->n++;
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

int nslab_lab_create(const char *spec_text, char *out, size_t outlen) {
  struct spec s;
  char err[256] = "";
  int rc = spec_parse(&s, spec_text, err, sizeof err);
  if (rc < 0) {
    spec_free(&s);
    return out_error(out, outlen, "spec", -rc, err, NULL);
  }
  if (!s.root || s.init_fd < 0) {
    spec_free(&s);
    return out_error(out, outlen, "spec", EINVAL, "a lab needs root and init_fd", NULL);
  }
  struct trace_buf *t = trace_new(), *ht = trace_new();
  struct run h = {.mode = "lab", .helper_trace = ht};
  for (int i = 0; i < 8; i++) h.fds[i] = -1;
  h.fds[HELPER_FD_INIT] = s.init_fd;
  if (!t || !ht) rc = -ENOMEM;
  else rc = run_helper(&h, &s, spec_text, t, err, sizeof err);
  if (ht) merge_trace(t, ht);
  if (rc < 0 || !h.res.ok) {
    reap_failed(h.res.pid);
    if (rc < 0) out_error(out, outlen, "helper", rc, err, t);
    else rc = out_error(out, outlen, h.res.step, h.res.err, h.res.detail, t);
    goto done;
  }
  int pidfd = pidfd_for(h.res.pid);
  if (pidfd < 0) {
    reap_failed(h.res.pid);
    rc = out_error(out, outlen, "pidfd_open", pidfd, "", t);
    goto done;
  }
  struct out o;
  out_init(&o, out, outlen);
  out_raw(&o, "{\"ok\":true,\"pid\":");
  out_int(&o, h.res.pid);
  out_raw(&o, ",\"pidfd\":");
  out_int(&o, pidfd);
  out_raw(&o, ",\"timens\":");
  out_raw(&o, h.res.timens ? "true" : "false");
  out_raw(&o, ",\"trace\":");
  out_trace(&o, t);
  out_raw(&o, "}");
  rc = 0;
done:
  trace_free(t);
  trace_free(ht);
  spec_free(&s);
  return rc;
}

int nslab_spawn(const char *spec_text, char *out, size_t outlen) {
  struct spec s;
  char err[256] = "";
  int rc = spec_parse(&s, spec_text, err, sizeof err);
  if (rc < 0) {
    spec_free(&s);
    return out_error(out, outlen, "spec", -rc, err, NULL);
  }
  if (s.lab_pidfd < 0 || s.lab_pid <= 0 || s.argc < 1 || s.argv[0][0] != '/') {
    spec_free(&s);
    return out_error(out, outlen, "spec", EINVAL, "spawn needs lab and an absolute arg", NULL);
  }
  struct trace_buf *t = trace_new(), *ht = trace_new();
  struct run h = {.mode = "spawn", .helper_trace = ht};
  for (int i = 0; i < 8; i++) h.fds[i] = -1;
  int master = -1, slave = -1, devnull = -1, outp[2] = {-1, -1}, errp[2] = {-1, -1};
  const char *step = "stdio";
  if (!t || !ht) {
    rc = -ENOMEM;
    goto fail;
  }
  h.fds[HELPER_FD_PIDFD] = s.lab_pidfd;
  if (s.pty) {
    if ((master = open_lab_ptmx(t, &s, err, sizeof err)) < 0) {
      rc = master;
      goto fail;
    }
    struct trace_rec *r = tr_begin(t, WHO_SERVER, "ioctl");
    tr_int(r, master);
    tr_raw(r, "TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC");
    slave = (int)tr_end(r, ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (slave < 0) {
      rc = -errno;
      snprintf(err, sizeof err, "TIOCGPTPEER");
      goto fail;
    }
    h.fds[HELPER_FD_STDIN] = h.fds[HELPER_FD_STDOUT] = h.fds[HELPER_FD_STDERR] = slave;
  } else {
    if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
        pipe2(errp, O_CLOEXEC) < 0) {
      rc = -errno;
      goto fail;
    }
    h.fds[HELPER_FD_STDIN] = devnull;
    h.fds[HELPER_FD_STDOUT] = outp[1];
    h.fds[HELPER_FD_STDERR] = errp[1];
  }
  step = "helper";
  rc = run_helper(&h, &s, spec_text, t, err, sizeof err);
  merge_trace(t, ht);
  /* the child has its copies now (or never will) */
  if (slave >= 0) close(slave), slave = -1;
  if (devnull >= 0) close(devnull), devnull = -1;
  if (outp[1] >= 0) close(outp[1]), outp[1] = -1;
  if (errp[1] >= 0) close(errp[1]), errp[1] = -1;
  if (rc < 0) goto fail;
  if (!h.res.ok) {
    reap_failed(h.res.pid);
    rc = out_error(out, outlen, h.res.step, h.res.err, h.res.detail, t);
    goto cleanup;
  }
  int pidfd = pidfd_for(h.res.pid);
  if (pidfd < 0) {
    reap_failed(h.res.pid);
    rc = pidfd;
    step = "pidfd_open";
    goto fail;
  }
  struct out o;
  out_init(&o, out, outlen);
  out_raw(&o, "{\"ok\":true,\"pid\":");
  out_int(&o, h.res.pid);
  out_raw(&o, ",\"pidfd\":");
  out_int(&o, pidfd);
  if (s.pty) {
    out_raw(&o, ",\"master\":");
    out_int(&o, master);
  } else {
    out_raw(&o, ",\"stdout\":");
    out_int(&o, outp[0]);
    out_raw(&o, ",\"stderr\":");
    out_int(&o, errp[0]);
  }
  out_raw(&o, ",\"trace\":");
  out_trace(&o, t);
  out_raw(&o, "}");
  trace_free(t);
  trace_free(ht);
  spec_free(&s);
  return 0;
fail:
  out_error(out, outlen, step, rc, err, t);
cleanup:
  if (master >= 0) close(master);
  if (slave >= 0) close(slave);
  if (devnull >= 0) close(devnull);
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
  }
  trace_free(t);
  trace_free(ht);
  spec_free(&s);
  return rc < 0 ? rc : -EIO;
}
