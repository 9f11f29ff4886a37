/* nslab-init: PID 1 of a lab.
 *
 * A PID namespace lives as long as its first process (pid_namespaces(7)), and every orphan in it
 * is re-parented to that process, so PID 1 must outlive the lab and reap. The kernel shields a
 * namespace's init from signals sent from inside the namespace unless it installed a handler, so
 * `kill -9 1` in the lab does nothing; the server ends the lab with SIGKILL through a pidfd, from
 * the parent namespace, which always works. This program installs no handlers: it blocks all
 * signals and waits for SIGCHLD synchronously. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  prctl(PR_SET_NAME, "nslab-init");
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0 && errno != EINTR) pause();
    if (sig != SIGCHLD) continue; /* signals from inside the lab are ignored on purpose */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
}
