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

static void unlockp(pthread_mutex_t **m) { pthread_mutex_unlock(*m); }
/* holds the lock until the end of the scope */
#define LOCKED(m) __attribute__((cleanup(unlockp))) pthread_mutex_t *guard_ = (pthread_mutex_lock(m), (m))

int nslab_monitor_start(void) {
  LOCKED(&lock);
  if (evr >= 0) return evr;
  int p[2], q[2];
  autofd e = epoll_create1(EPOLL_CLOEXEC);
  if (e < 0 || pipe2(p, O_CLOEXEC) < 0) return -errno;
  autofd r = p[0], w = p[1];
  if (pipe2(q, O_CLOEXEC) < 0) return -errno;
  autofd sr = q[0], sw = q[1];
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)sr};
  if (epoll_ctl(e, EPOLL_CTL_ADD, sr, &ev) < 0) return -errno;
  /* published before the thread starts: it reads them */
  ep = e, evr = r, evw = w, stopfd[0] = sr, stopfd[1] = sw;
  int rc = pthread_create(&thread, NULL, run, NULL);
  if (rc) {
    ep = evr = evw = stopfd[0] = stopfd[1] = -1; /* the autofds close them */
    return -rc;
  }
  steal_fd(&e), steal_fd(&r), steal_fd(&w), steal_fd(&sr), steal_fd(&sw);
  return evr;
}

static int watch(int pidfd, int quiet) {
  if (ep < 0) return -ENOTCONN;
  autofd fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return -errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(unsigned)fd | ((uint64_t)quiet << 32)};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
  steal_fd(&fd); /* the monitor thread closes it after the reap */
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
  LOCKED(&lock);
  if (evr < 0) return;
  (void)!write(stopfd[1], "x", 1);
  pthread_join(thread, NULL);
  close(ep), close(evr), close(evw), close(stopfd[0]), close(stopfd[1]);
  ep = evr = evw = stopfd[0] = stopfd[1] = -1;
}
