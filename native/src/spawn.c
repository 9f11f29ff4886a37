/* nslab_spawn: the parent's half of starting a process in a running lab, on a pty of the lab's own
 * devpts (terminals) or on pipes (checks, solutions). The child's half is in steps.c. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

void kill_and_reap(int pidfd);
int read_status(int fd, struct child_msg *err, pid_t *reported_pid);

/* Opens the ptmx of the lab's devpts from the host side. The lab's root controls every name in
 * its tree, so the path is resolved with openat2(RESOLVE_IN_ROOT): a symlink planted by the lab
 * resolves inside the lab, never on the host (openat2(2)); O_NONBLOCK keeps a planted FIFO from
 * hanging the server; and the result must be a ptmx (char 5:2) or it is refused. */
static int open_lab_ptmx(struct trace_buf *t, const struct spec *s, char *err, size_t errlen) {
  char path[64], num[16];
  s_cpy(path, sizeof path, "/proc/");
  s_cat(path, sizeof path, s_u64(num, sizeof num, (unsigned)s->lab_pid));
  s_cat(path, sizeof path, "/root");
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
  struct trace_buf *t = trace_new();
  if (!t) {
    spec_free(&s);
    return out_error(out, outlen, "trace", ENOMEM, "", NULL);
  }
  int master = -1, outp[2] = {-1, -1}, errp[2] = {-1, -1}, devnull = -1, slave = -1;
  int syncp[2] = {-1, -1}, statp[2] = {-1, -1}, c1fd = -1, c2fd = -1;
  int stdio[3];
  pid_t c2 = 0;
  const char *step = "stdio";
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
    stdio[0] = stdio[1] = stdio[2] = slave;
  } else {
    if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
        pipe2(errp, O_CLOEXEC) < 0) {
      rc = -errno;
      goto fail;
    }
    stdio[0] = devnull, stdio[1] = outp[1], stdio[2] = errp[1];
  }
  step = "pipe";
  if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) {
    rc = -errno;
    goto fail;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct trace_rec *r = tr_begin(t, WHO_SERVER, "clone3");
  tr_flags(r, CLONE_PIDFD, FT_CLONE);
  long c1 = sys_clone3_fork(0, &c1fd);
  if (c1 == 0) {
    close(syncp[1]);
    close(statp[0]);
    spawn_child_steps(&s, t, syncp[0], statp[1], stdio);
    _exit(127);
  }
  tr_end(r, c1);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(syncp[0]), syncp[0] = -1;
  close(statp[1]), statp[1] = -1;
  step = "clone";
  if (c1 < 0) {
    rc = -clone_errno;
    goto fail;
  }
  /* the child's copies of the pty slave and pipe write ends are its own now */
  if (slave >= 0) close(slave), slave = -1;
  if (devnull >= 0) close(devnull), devnull = -1;
  if (outp[1] >= 0) close(outp[1]), outp[1] = -1;
  if (errp[1] >= 0) close(errp[1]), errp[1] = -1;
  step = "cgroup";
  for (int i = 0; i < s.n_cgroups; i++)
    if ((rc = cgroup_attach(t, s.cgroup_procs[i], (pid_t)c1)) < 0) goto fail_child;
  rc = write_all(syncp[1], "1", 1);
  close(syncp[1]), syncp[1] = -1;
  struct child_msg m;
  int failed = read_status(statp[0], &m, &c2);
  close(statp[0]), statp[0] = -1;
  /* C1 exits right after C2 has exec'd; reap it now, by its pidfd */
  siginfo_t si;
  while (waitid(P_PIDFD, (id_t)c1fd, &si, WEXITED) < 0 && errno == EINTR) {}
  close(c1fd), c1fd = -1;
  if (c2 > 0) {
    /* C2 is our child (CLONE_PARENT) and not yet reaped, so its pid cannot have been reused */
    c2fd = (int)syscall(SYS_pidfd_open, c2, 0);
    if (c2fd >= 0) fcntl(c2fd, F_SETFD, FD_CLOEXEC);
  }
  if (failed || c2 <= 0 || c2fd < 0) {
    if (c2fd >= 0) kill_and_reap(c2fd);
    else if (c2 > 0) waitpid(c2, NULL, 0);
    rc = failed ? -m.err : -ECHILD;
    out_error(out, outlen, failed ? m.step : "spawn", -rc, failed ? m.detail : "", t);
    goto cleanup;
  }
  struct out o;
  out_init(&o, out, outlen);
  out_raw(&o, "{\"ok\":true,\"pid\":");
  out_int(&o, c2);
  out_raw(&o, ",\"pidfd\":");
  out_int(&o, c2fd);
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
  spec_free(&s);
  return 0;

fail_child:
  kill_and_reap(c1fd), c1fd = -1;
fail:
  out_error(out, outlen, step, rc, err, t);
cleanup:
  for (int i = 0; i < 2; i++) {
    if (syncp[i] >= 0) close(syncp[i]);
    if (statp[i] >= 0) close(statp[i]);
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
  }
  if (master >= 0) close(master);
  if (slave >= 0) close(slave);
  if (devnull >= 0) close(devnull);
  if (c1fd >= 0) kill_and_reap(c1fd);
  trace_free(t);
  spec_free(&s);
  return rc < 0 ? rc : -EIO;
}
