/* Exit monitor. Labs' inits and terminal shells are children of the server process. libuv reaps
 * only the children it spawned, each by its own pid, so ours would stay zombies unless we reap
 * them; and we must never call waitpid(-1), which would steal libuv's. One thread waits on the
 * pidfds it was handed (a pidfd turns readable when its process exits, pidfd_open(2)), reaps
 * exactly that process with waitid(P_PIDFD) and writes a 16-byte record to a pipe that Node reads
 * like any socket. Node then never blocks, and never needs a callback from a foreign thread. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int ep = -1, evr = -1, evw = -1, stopfd[2] = {-1, -1};
static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct exit_record {
  int32_t pid, code, status, pad;
};

static void *run(void *arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL); /* signals belong to Node's main thread */
  struct epoll_event evs[32];
  for (;;) {
    int n = epoll_wait(ep, evs, 32, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < n; i++) {
      int fd = (int)(evs[i].data.u64 & 0xffffffff);
      int quiet = (evs[i].data.u64 >> 32) != 0;
      if (fd == stopfd[0]) return NULL;
      siginfo_t si;
      memset(&si, 0, sizeof si);
      int rc;
      do rc = waitid(P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
      while (rc < 0 && errno == EINTR);
      if (rc == 0 && si.si_pid == 0) continue; /* spurious: not exited yet */
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
      close(fd);
      if (quiet) continue;
      struct exit_record rec = {si.si_pid, si.si_code, si.si_status, 0};
      if (rc < 0) rec.code = -errno; /* ECHILD: someone else reaped it; still report */
      (void)write_all(evw, &rec, sizeof rec);
    }
  }
  return NULL;
}

int nslab_monitor_start(void) {
  pthread_mutex_lock(&lock);
  int rc = evr;
  if (rc >= 0) goto out;
  int p[2];
  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || pipe2(p, O_CLOEXEC) < 0 ||
      pipe2(stopfd, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  evr = p[0], evw = p[1];
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)stopfd[0]};
  epoll_ctl(ep, EPOLL_CTL_ADD, stopfd[0], &ev);
  if ((rc = -pthread_create(&thread, NULL, run, NULL)) < 0) goto out;
  rc = evr;
out:
  pthread_mutex_unlock(&lock);
  return rc;
}

static int watch(int pidfd, int quiet) {
  if (ep < 0) return -ENOTCONN;
  int fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return -errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)quiet << 32)};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return 0;
}

/* The monitor owns a duplicate of the pidfd, so the caller may close its own whenever it likes. */
int nslab_monitor_watch(int pidfd) { return watch(pidfd, 0); }

/* Reaps a process of ours that nobody needs to hear about (the helper, once it has answered), so
 * the server need not wait for it to finish exiting. Without a monitor: a blocking wait. */
void monitor_reap_quietly(pid_t pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0 && watch(fd, 1) == 0) {
    close(fd);
    return;
  }
  if (fd >= 0) close(fd);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

void nslab_monitor_stop(void) {
  pthread_mutex_lock(&lock);
  if (evr >= 0) {
    (void)!write(stopfd[1], "x", 1);
    pthread_join(thread, NULL);
    close(ep), close(evr), close(evw), close(stopfd[0]), close(stopfd[1]);
    ep = evr = evw = stopfd[0] = stopfd[1] = -1;
  }
  pthread_mutex_unlock(&lock);
}
