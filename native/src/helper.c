/* nslab-helper: where a lab's namespaces are made.
 *
 * Why a separate program: a clone() without CLONE_VM copies the caller's page tables, and the
 * caller here is a Node server holding hundreds of megabytes; measured on the development
 * machine, a fork-style clone from a 300 MB process cost 15-20 ms, from a small one 0.2 ms. So
 * the server starts this small program with posix_spawn (CLONE_VM|CLONE_VFORK: nothing copied)
 * and the program does the namespace work from its own tiny address space. The processes it
 * creates use CLONE_PARENT, so they are still the server's children: the server reaps them, and
 * they die with it.
 *
 * Protocol: argv[1] is "lab" or "spawn". fd 3 carries the spec; fd 1 gets a struct
 * helper_result, then the trace: a uint32 count and that many struct trace_rec (internal.h);
 * other fds as in internal.h. A lab whose spec asks for a first shell gets a second answer of the
 * same form after it (the shell's result and its own records: shell_pending in the first). */
#include "internal.h"
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_spec(void) {
  size_t cap = 8192, len = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (len + 1 >= cap) {
      if (cap > (1u << 20)) break; /* a spec is a few KiB; refuse absurd ones */
      char *n = realloc(buf, cap *= 2);
      if (!n) break;
      buf = n;
    }
    ssize_t r = read(HELPER_FD_SPEC, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  buf[len] = 0;
  close(HELPER_FD_SPEC);
  return buf;
}

/* The fixed-size result, with the fds that go with it attached (SCM_RIGHTS, in this order): a
 * lab's first shell's pty master, then a seccomp listener; -1: none. */
static int send_result(const struct helper_result *res, int fd_a, int fd_b) {
  struct iovec iov = {(void *)res, sizeof *res};
  int fds[2], n_fds = 0;
  if (fd_a >= 0) fds[n_fds++] = fd_a;
  if (fd_b >= 0) fds[n_fds++] = fd_b;
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (n_fds) {
    memset(&u, 0, sizeof u);
    msg.msg_control = u.buf;
    msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(HELPER_FD_RESULT, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  /* a stream socket may take part of it; the rest goes without the fds (already sent) */
  return n < (ssize_t)sizeof *res ? write_all(HELPER_FD_RESULT, (const char *)res + n, sizeof *res - (size_t)n) : 0;
}

/* One answer: the result (with its fds), then the trace, a uint32 count and that many records. */
static int send_answer(const struct helper_result *res, int fd_a, int fd_b, const struct trace_buf *t) {
  int rc = send_result(res, fd_a, fd_b);
  uint32_t n = t ? t->n : 0;
  if (rc == 0) rc = write_all(HELPER_FD_RESULT, &n, sizeof n);
  if (rc == 0 && n) rc = write_all(HELPER_FD_RESULT, t->rec, n * sizeof t->rec[0]);
  return rc;
}

int helper_main(int argc, char **argv) {
  struct helper_result res;
  memset(&res, 0, sizeof res);
  autotrace t = trace_new();
  int lab = argc > 1 && s_eq(argv[1], "lab");
  int spawn = argc > 1 && s_eq(argv[1], "spawn");
  autofree char *text = read_spec();
  autospec s = {0};
  char err[180];
  autofd listener = -1, master = -1, lab_pidfd = -1;
  if (!t || !text) {
    res.err = ENOMEM;
    s_cpy(res.step, sizeof res.step, "helper");
  } else if (!lab && !spawn) {
    res.err = EINVAL;
    s_cpy(res.step, sizeof res.step, "helper");
    s_cpy(res.detail, sizeof res.detail, "usage: nslab-helper lab|spawn (run by the server only)");
  } else if (!text[0]) {
    /* no spec at all: a helper started ahead that was let go (nslab_lab_unprepare) */
    return 1;
  } else if (spec_parse(&s, text, err, sizeof err) < 0) {
    res.err = EINVAL;
    s_cpy(res.step, sizeof res.step, "spec");
    s_cpy(res.detail, sizeof res.detail, err);
  } else if (lab && (!s.root || !s.uid_map)) {
    res.err = EINVAL;
    s_cpy(res.step, sizeof res.step, "spec");
    s_cpy(res.detail, sizeof res.detail, "a lab needs root and uid_map");
  } else if (lab) {
    s.init_fd = HELPER_FD_INIT;
    lab_create_local(&s, t, &res, &lab_pidfd);
    /* a first shell follows (the spec asks for one): the lab is answered first, so the server
     * can hand it out while the shell starts */
    res.shell_pending = res.ok && s.argc > 0;
  } else {
    spawn_local(&s, t, &res, &listener);
  }
  int rc = send_answer(&res, -1, res.listener ? listener : -1, t);
  if (rc == 0 && res.shell_pending) {
    /* the lab's first shell, in this helper, now that init runs: a second answer, its own records */
    struct helper_result sh;
    memset(&sh, 0, sizeof sh);
    sh.pid = res.pid; /* the lab's init, which the shell enters */
    t->n = t->dropped = 0;
    shell_local(&s, t, &sh, lab_pidfd, &master, &listener);
    rc = send_answer(&sh, sh.shell_master ? master : -1, sh.listener ? listener : -1, t);
  }
  return rc == 0 && res.ok ? 0 : 1;
}
