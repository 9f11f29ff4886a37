/* attack: what a hostile learner runs inside a lab, for the containment tests
 * (server/labs/hardening.integration.test.ts copies it into a lab and reads its output). Each probe
 * prints `name=RESULT`, RESULT being OK, an errno name (EPERM, ...), or `signal N`. Built by
 * `make -C native`, not installed anywhere: it is a test tool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static void report(const char *name, long rc) {
  if (rc >= 0) printf("%s=OK\n", name);
  else printf("%s=%s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
  fflush(stdout);
}

/* runs fn in a child and reports how the child ended (a seccomp kill shows as SIGSYS) */
static void in_child(const char *name, void (*fn)(void)) {
  pid_t p = fork();
  if (p == 0) {
    fn();
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  if (WIFSIGNALED(st)) printf("%s=signal %d\n", name, WTERMSIG(st));
  else printf("%s=exit %d\n", name, WEXITSTATUS(st));
  fflush(stdout);
}

#if defined(__x86_64__)
static void i386_getpid(void) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory"); /* getpid on i386 */
  (void)ret;
}
#endif

static void probe_syscalls(void) {
  report("add_key", syscall(SYS_add_key, "user", "nslab", "x", 1, KEY_SPEC_PROCESS_KEYRING));
  report("request_key", syscall(SYS_request_key, "user", "nslab", NULL, 0));
  report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  struct io_uring_params iop;
  memset(&iop, 0, sizeof iop);
  report("io_uring_setup", syscall(SYS_io_uring_setup, 4, &iop));
  report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.size = sizeof pe;
  pe.type = PERF_TYPE_SOFTWARE;
  pe.config = PERF_COUNT_SW_CPU_CLOCK;
  pe.exclude_kernel = 1;
  report("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
  report("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
  report("personality_query", personality(0xffffffff));
  report("personality_no_aslr", personality(ADDR_NO_RANDOMIZE));
  report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
  report("socket_packet", socket(AF_PACKET, SOCK_RAW, 0));
  report("socket_inet", socket(AF_INET, SOCK_STREAM, 0));
  report("socket_unix", socket(AF_UNIX, SOCK_STREAM, 0));
  report("socket_netlink", socket(AF_NETLINK, SOCK_RAW, 0));
  report("socket_inet6", socket(AF_INET6, SOCK_DGRAM, 0));
  /* the family in the high bits too: only the low 32 bits count, for the kernel and the filter */
  report("socket_vsock_high", syscall(SYS_socket, 0x100000000L | AF_VSOCK, SOCK_STREAM, 0));
  int sv[2];
  report("socketpair_vsock", socketpair(AF_VSOCK, SOCK_STREAM, 0, sv));
  report("unshare_user", unshare(CLONE_NEWUSER));
#if defined(__x86_64__)
  report("x32_getpid", syscall(0x40000000 | SYS_getpid));
  report("tuxcall", syscall(184)); /* a number inside the table, in no rule */
  in_child("i386_getpid", i386_getpid);
#endif
  report("beyond_table", syscall(1000));
}

static void probe_tty(void) {
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (fd < 0) return report("open_tty", -1);
  char c = '#';
  report("tiocsti", ioctl(fd, TIOCSTI, &c));
  /* CVE-2019-10063: the same request with high bits set is still TIOCSTI for the tty layer */
  report("tiocsti_high", syscall(SYS_ioctl, fd, 0x100000000UL | TIOCSTI, &c));
  char sub = 0;
  report("tioclinux", ioctl(fd, 0x541C /* TIOCLINUX */, &sub));
  struct winsize ws;
  report("tiocgwinsz", ioctl(fd, TIOCGWINSZ, &ws));
}

/* The learner's own filter with a listener: refused while nslab's tracing filter (with its own
 * listener) is on the process (seccomp(2): EBUSY); without a listener it is allowed. */
static void probe_listener(void) {
  struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, allow};
  report("seccomp_new_listener", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
  report("seccomp_plain", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

static void probe_ptrace(void) {
  report("ptrace_attach_1", ptrace(PTRACE_ATTACH, 1, 0, 0));
  report("ptrace_seize_1", ptrace(PTRACE_SEIZE, 1, 0, 0));
  report("ptrace_attach_1_high", syscall(SYS_ptrace, PTRACE_ATTACH, 0x100000001L, 0, 0));
  char buf[8] = {0};
  struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
  report("process_vm_writev_1", syscall(SYS_process_vm_writev, 1, &local, 1, &remote, 1, 0));
  /* ptrace itself works inside the lab: attach to a child of our own */
  pid_t p = fork();
  if (p == 0) {
    pause();
    _exit(0);
  }
  report("ptrace_attach_child", ptrace(PTRACE_ATTACH, p, 0, 0));
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
}

/* Finding 10: read-only binds and tmpfs sizes the lab receives must stay as they are. */
static void probe_mounts(void) {
  struct mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
  report("mount_setattr_usr_rw", syscall(SYS_mount_setattr, AT_FDCWD, "/usr", AT_RECURSIVE, &attr, sizeof attr));
  report("remount_usr_rw", mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL));
  report("remount_root_size", mount(NULL, "/", NULL, MS_REMOUNT, "size=4g"));
  report("remount_shm_size", mount(NULL, "/dev/shm", NULL, MS_REMOUNT, "size=4g"));
  report("umount_usr", umount2("/usr", MNT_DETACH));
  /* still the lab's own: a new tmpfs, and making it read-only and back */
  report("mount_tmpfs", mount("t", "/mnt", "tmpfs", 0, "size=1m"));
  report("remount_own_ro", mount(NULL, "/mnt", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
  report("remount_own_rw", mount(NULL, "/mnt", NULL, MS_REMOUNT | MS_BIND, NULL));
  umount2("/mnt", MNT_DETACH);
}

static int put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = write(fd, text, strlen(text)) < 0 ? -1 : 0;
  close(fd);
  return rc;
}

/* Holds as many user namespaces as the kernel gives: each child makes a chain of 32 nested ones
 * (the nesting limit; each level maps its root onto the level above, or the next unshare is
 * refused) and the parent keeps an fd to the deepest, which keeps all 32 alive. */
static void drain_userns(long want) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  long held = 0;
  int err = 0;
  while (held < want) {
    int pfd[2];
    if (pipe(pfd) < 0) {
      err = errno;
      break;
    }
    pid_t p = fork();
    if (p == 0) {
      int depth = 0, e = 0;
      for (; depth < 32; depth++) {
        if (unshare(CLONE_NEWUSER) < 0) {
          e = errno;
          break;
        }
        if (put("/proc/self/setgroups", "deny") < 0 || put("/proc/self/uid_map", "0 0 1") < 0 ||
            put("/proc/self/gid_map", "0 0 1") < 0) {
          e = errno, depth++;
          break;
        }
      }
      int msg[2] = {depth, e};
      (void)!write(pfd[1], msg, sizeof msg);
      pause();
      _exit(0);
    }
    close(pfd[1]);
    int msg[2] = {0, 0};
    (void)!read(pfd[0], msg, sizeof msg);
    close(pfd[0]);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", p);
    int fd = msg[0] ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    if (fd < 0 && msg[0]) {
      err = errno;
      break;
    }
    held += msg[0];
    if (msg[1]) {
      err = msg[1];
      break;
    }
  }
  printf("userns_held=%ld\nuserns_stop=%s\n", held, err ? strerrorname_np(err) : "none");
  fflush(stdout);
}

static void drain_inotify(void) {
  int n = 0, e = 0;
  for (;;) {
    if (inotify_init1(IN_CLOEXEC) < 0) {
      e = errno;
      break;
    }
    if (++n > 100000) break;
  }
  printf("inotify_held=%d\ninotify_stop=%s\n", n, e ? strerrorname_np(e) : "none");
  fflush(stdout);
}

/* Queues data on loopback TCP connections nobody reads, until the kernel stops taking it. */
static void fill_tcp(int conns) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
      getsockname(ls, (struct sockaddr *)&a, &al) < 0)
    return report("tcp_listen", -1);
  static char chunk[65536];
  long long total = 0;
  for (int i = 0; i < conns; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0) break;
    fcntl(c, F_SETFL, O_NONBLOCK);
    for (;;) {
      ssize_t w = send(c, chunk, sizeof chunk, MSG_DONTWAIT);
      if (w <= 0) break;
      total += w;
    }
  }
  printf("tcp_queued=%lld\n", total);
  fflush(stdout);
}

/* CVE-2019-5736 (runc): a container overwrote the host binary it was started from through
 * /proc/PID/exe. The lab's init runs from a sealed memfd: the link names no host file, a write
 * open is refused while init runs (ETXTBSY), and the seals forbid any write even without it. */
static void probe_exe(void) {
  char link[512];
  ssize_t n = readlink("/proc/1/exe", link, sizeof link - 1);
  if (n < 0) report("exe_link", -1);
  else {
    link[n] = 0;
    printf("exe_link=%s\n", link);
  }
  int fd = open("/proc/1/exe", O_RDONLY | O_CLOEXEC);
  report("exe_open_ro", fd);
  int seals = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);
  if (seals < 0) report("exe_seals", -1);
  else
    printf("exe_seals=%s%s%s%s\n", seals & F_SEAL_SEAL ? "seal," : "", seals & F_SEAL_SHRINK ? "shrink," : "",
           seals & F_SEAL_GROW ? "grow," : "", seals & F_SEAL_WRITE ? "write" : "");
  report("exe_open_wr", open("/proc/1/exe", O_WRONLY | O_CLOEXEC));
  report("exe_open_rw", open("/proc/1/exe", O_RDWR | O_CLOEXEC));
  if (fd >= 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    report("exe_reopen_wr", open(path, O_WRONLY | O_CLOEXEC));
    /* the seals stay, so nobody may loosen them later */
    report("exe_add_seals", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
  }
  fflush(stdout);
}

/* A child made beside oneself (CLONE_PARENT) by a process whose parent is the server (a shell or
 * check: the helper starts them with CLONE_PARENT) would be the server's child, never reaped. */
static void *thread_fn(void *arg) { return arg; }
static void probe_clone_parent(void) {
  long r = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  report("clone_parent", r);
  struct clone_args ca = {.flags = CLONE_PARENT, .exit_signal = SIGCHLD};
  r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r == 0) _exit(0);
  report("clone3_parent", r);
  struct clone_args plain = {.exit_signal = SIGCHLD};
  r = syscall(SYS_clone3, &plain, sizeof plain);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  report("clone3_plain", r);
  /* libc falls back to clone when clone3 says ENOSYS: threads and fork still work */
  pthread_t th;
  int e = pthread_create(&th, NULL, thread_fn, NULL);
  if (!e) pthread_join(th, NULL);
  errno = e;
  report("pthread_create", e ? -1 : 0);
  pid_t p = fork();
  if (p == 0) _exit(0);
  if (p > 0) waitpid(p, NULL, 0);
  report("fork", p);
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (!strcmp(what, "syscalls")) probe_syscalls();
  else if (!strcmp(what, "tty")) probe_tty();
  else if (!strcmp(what, "ptrace")) probe_ptrace();
  else if (!strcmp(what, "mounts")) probe_mounts();
  else if (!strcmp(what, "listener")) probe_listener();
  else if (!strcmp(what, "exe")) probe_exe();
  else if (!strcmp(what, "clone-parent")) probe_clone_parent();
  else if (!strcmp(what, "userns")) drain_userns(argc > 2 && atol(argv[2]) > 0 ? atol(argv[2]) : 1L << 30);
  else if (!strcmp(what, "inotify")) drain_inotify();
  else if (!strcmp(what, "tcp")) fill_tcp(argc > 2 && atoi(argv[2]) > 0 ? atoi(argv[2]) : 64);
  else return fprintf(stderr, "usage: attack syscalls|tty|ptrace|mounts|listener|exe|clone-parent|userns [N]|inotify|tcp [conns]\n"), 2;
  if (!strcmp(argv[argc - 1], "hold")) pause(); /* keep what was taken until killed */
  return 0;
}
