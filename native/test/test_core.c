/* Tests of the native core against the real kernel, run under AddressSanitizer by `make test`
 * (and so by `npm test`). Needs root: it creates real namespaces. */
#define _GNU_SOURCE
#include "../include/nslab.h"
#include "../src/internal.h"
#include <linux/filter.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures, checks;
#define CHECK(cond, ...)                                         \
  do {                                                           \
    checks++;                                                    \
    if (!(cond)) {                                               \
      failures++;                                                \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
      fprintf(stderr, __VA_ARGS__);                              \
      fputc('\n', stderr);                                       \
    }                                                            \
  } while (0)

static long json_int(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(json, pat);
  return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;
}

/* lines in a file (a cgroup.procs: its members), -1 if it cannot be read */
static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int n = 0;
  for (int ch; (ch = fgetc(f)) != EOF;) n += ch == '\n';
  fclose(f);
  return n;
}

static char root_dir[] = "/tmp/nslab-test-root";
/* a cgroup of the test's own (v1 pids hierarchy, or the v2 root), joined and bound like the
 * server does, so the sanitized core runs through every mount operation the server uses */
static char cg_dir[256], cg_bind[64];

static void make_cgroup(void) {
  const char *base = access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/pids"
                                                                            : "/sys/fs/cgroup";
  snprintf(cg_dir, sizeof cg_dir, "%s/nslab-ctest-%d", base, (int)getpid());
  snprintf(cg_bind, sizeof cg_bind, "/sys/fs/cgroup%s", strcmp(base, "/sys/fs/cgroup") ? "/pids" : "");
  if (mkdir(cg_dir, 0755) < 0) cg_dir[0] = 0;
}

static void lab_spec(char *buf, size_t cap, int init_fd) {
  int n = snprintf(buf, cap,
           "hostname\tlab-test\n"
           "uid_map\t0 2000000 65536\n"
           "gid_map\t0 2000000 65536\n"
           "setgroups\tallow\n"
           "timens\t1\n"
           "init_fd\t%d\n"
           "root\t%s\tsize=16m,mode=0755\n"
           "ro-bind\t/usr\t/usr\n"
           "symlink\tusr/bin\t/bin\n"
           "symlink\tusr/sbin\t/sbin\n"
           "symlink\tusr/lib\t/lib\n"
           "symlink\tusr/lib64\t/lib64\n"
           "dir\t/etc\t0755\n"
           "copy\t/etc/passwd\t/etc/passwd\t0644\n"
           "ro-bind\t/etc/ld.so.cache\t/etc/ld.so.cache\n"
           "dir\t/tmp\t01777\n"
           "dir\t/root\t0700\n"
           "proc\t/proc\n"
           "tmpfs\t/dev\tmode=0755,size=64k\n"
           "dev-bind\t/dev/null\t/dev/null\n"
           "dev-bind\t/dev/zero\t/dev/zero\n"
           "devpts\t/dev/pts\tnewinstance,ptmxmode=0666,mode=0620\n"
           "symlink\tpts/ptmx\t/dev/ptmx\n"
           "mqueue\t/dev/mqueue\n"
           "sysfs\t/sys\n"
           "sysfs\t/run/nslab/sysfs\n"
           "dir\t/srv\t0755\n"
           "bind\t/tmp/nslab-test-root\t/srv/scratch\n"
           "remount-ro\t/srv/scratch\n"
           "tmpfs\t/dev/shm\tsize=1m,mode=01777\n",
           init_fd, root_dir);
  if (cg_dir[0])
    snprintf(buf + n, cap - (size_t)n,
             "cgroup\t%s/cgroup.procs\n"
             "tmpfs\t/sys/fs/cgroup\tsize=16k,mode=0755\n"
             "bind\t%s\t%s\n",
             cg_dir, cg_dir, cg_bind);
}

static int read_all(int fd, char *buf, size_t cap, int timeout_ms) {
  size_t n = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) break;
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r <= 0) break;
    n += (size_t)r;
    if (n >= cap - 1) break;
  }
  buf[n] = 0;
  return (int)n;
}

static void wait_exit(int evfd, int pid) {
  for (int i = 0; i < 200; i++) {
    struct pollfd p = {evfd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int rec[4];
    if (read(evfd, rec, sizeof rec) == sizeof rec && rec[0] == pid) return;
  }
  CHECK(0, "no exit record for pid %d", pid);
}

/* Ends the lab a successful nslab_lab_create answered `answer` for (SIGKILL to its init) and
 * waits for the monitor's exit record. */
static void end_lab(const char *answer, int evfd) {
  int pid = (int)json_int(answer, "pid"), pidfd = (int)json_int(answer, "pidfd");
  nslab_monitor_watch(pidfd);
  CHECK(nslab_signal(pidfd, SIGKILL) == 0, "kill lab");
  wait_exit(evfd, pid);
  close(pidfd);
}

static char out[1 << 16];
static char fdpath_buf[96];

/* A helper that never answers is killed after the timeout, and the call fails with ETIMEDOUT
 * (client.c, run_helper). The stand-in helper writes its pid and sleeps. */
static void test_helper_timeout(const char *real_helper) {
  char dir[] = "/tmp/nslab-stuck-XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0, "mkdtemp");
    return;
  }
  char script[128], pidfile[128];
  snprintf(script, sizeof script, "%s/helper", dir);
  snprintf(pidfile, sizeof pidfile, "%s/pid", dir);
  FILE *f = fopen(script, "w");
  fprintf(f, "#!/bin/sh\necho $$ > %s\nexec sleep 60\n", pidfile);
  fclose(f);
  chmod(script, 0755);
  CHECK(nslab_set_helper(script) == 0, "set stuck helper");
  CHECK(nslab_set_helper_timeout(300) == 0, "set timeout");
  CHECK(nslab_set_helper_timeout(0) == -EINVAL, "a zero timeout is refused");
  char spec[256];
  snprintf(spec, sizeof spec, "root\t%s\tsize=1m\ninit_fd\t0\n", root_dir);
  int rc = nslab_lab_create(spec, out, sizeof out);
  CHECK(rc == -ETIMEDOUT && strstr(out, "the helper did not answer in time"), "timeout: %d %s", rc, out);
  /* killed, and reaped by the monitor: gone from /proc (no zombie left) */
  char buf[32] = "";
  FILE *p = fopen(pidfile, "r");
  if (p) (void)!fgets(buf, sizeof buf, p), fclose(p);
  int pid = atoi(buf);
  CHECK(pid > 0, "the stuck helper ran");
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%d", pid);
  for (int i = 0; i < 200 && pid > 0 && access(proc, F_OK) == 0; i++) usleep(10000);
  CHECK(pid > 0 && access(proc, F_OK) != 0, "the stuck helper %d was killed and reaped", pid);
  unlink(pidfile), unlink(script), rmdir(dir);
  nslab_set_helper_timeout(20000);
  nslab_set_helper(real_helper);
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: test-core path/to/nslab-init path/to/nslab-helper\n"), 2;
  if (geteuid() != 0) return fprintf(stderr, "test-core needs root\n"), 2;
  mkdir(root_dir, 0755);
  make_cgroup();
  CHECK(nslab_set_helper("/nonexistent/helper") == -ENOENT, "a missing helper is refused");
  CHECK(nslab_set_helper(argv[2]) == 0, "set helper");
  int base_fds = count_fds();
  int evfd = nslab_monitor_start();
  CHECK(evfd >= 0, "monitor start: %d", evfd);
  int trfd = nslab_tracer_start();
  CHECK(trfd >= 0, "tracer start: %d", trfd);

  /* bad specs are refused with a reason, not a crash */
  CHECK(nslab_lab_create("bogus\tkey\n", out, sizeof out) == -EINVAL && strstr(out, "unknown key"),
        "unknown key: %s", out);
  /* the path guard in spec.c, by its message: without it these would fail later, elsewhere */
  CHECK(nslab_lab_create("ro-bind\t/usr\tusr\n", out, sizeof out) == -EINVAL &&
            strstr(out, "spec line 1: destination must be absolute, without ..: usr"),
        "relative dst: %s", out);
  CHECK(nslab_lab_create("hostname\tx\nro-bind\t/usr\t/../etc\n", out, sizeof out) == -EINVAL &&
            strstr(out, "spec line 2: destination must be absolute, without ..: /../etc"),
        "dotdot dst: %s", out);
  CHECK(nslab_spawn("dir\t/a/..\t0755\n", out, sizeof out) == -EINVAL &&
            strstr(out, "destination must be absolute, without .."),
        "dotdot dst (spawn): %s", out);
  CHECK(nslab_spawn("arg\t/bin/sh\n", out, sizeof out) == -EINVAL, "spawn without lab");

  /* the seccomp program: builds (no call named twice in the policy), fits BPF_MAXINSNS, and the
   * tracing variant only adds notifications */
  static struct sock_filter prog[4096];
  int plain = seccomp_build(prog, 4096, 0), traced = seccomp_build(prog, 4096, 1);
  CHECK(plain > 20 && plain < 4096, "seccomp program: %d instructions", plain);
  CHECK(traced >= plain && traced < 4096, "traced seccomp program: %d instructions", traced);
  CHECK(seccomp_build(prog, 8, 0) == -E2BIG, "a program that does not fit is refused");

  int init_fd = nslab_sealed_copy(argv[1]);
  CHECK(init_fd >= 0, "sealed copy: %d", init_fd);
  CHECK(write(init_fd, "x", 1) < 0, "sealed memfd must refuse writes");

  char spec[4096];
  /* a lab with its first shell (a lab spec with `arg` lines): started by the same helper right
   * after init, on a pty of the lab's devpts, told the lab's namespaces, and answered apart */
  {
    size_t n0;
    lab_spec(spec, sizeof spec, init_fd);
    n0 = strlen(spec);
    snprintf(spec + n0, sizeof spec - n0,
             "stdio\tpty\nsize\t30\t100\ncwd\t/root\nns_env\tNSLAB_NS\narg\t/bin/sh\narg\t-c\n"
             "arg\techo $$; tty; stty size; echo \"[$NSLAB_NS]\"\nenv\tPATH=/usr/bin:/bin\n");
    int rc = nslab_lab_create(spec, out, sizeof out);
    const char *pend = strstr(out, "\"shellPending\":");
    CHECK(rc == 0 && pend, "lab with its first shell pending: %d %s", rc, out);
    if (rc == 0 && pend) {
      int pid = (int)json_int(out, "pid"), pidfd = (int)json_int(out, "pidfd");
      int sock = (int)json_int(pend, "sock"), helper = (int)json_int(pend, "helper");
      nslab_monitor_watch(pidfd);
      rc = nslab_lab_shell(sock, helper, out, sizeof out);
      CHECK(rc == 0 && strstr(out, "{\"ok\":true") == out, "the first shell: %d %s", rc, out);
      CHECK(strstr(out, "\"who\":\"shell\"") && strstr(out, "\"sys\":\"openat2\""), "the shell's own records: %s", out);
      int cpid = (int)json_int(out, "pid"), cfd = (int)json_int(out, "pidfd"), m = (int)json_int(out, "master");
      if (rc == 0 && cfd >= 0 && m >= 0) {
        nslab_monitor_watch(cfd);
        char buf[512], want[64];
        read_all(m, buf, sizeof buf, 3000);
        CHECK(strstr(buf, "2\r\n/dev/pts/0\r\n30 100\r\n") == buf, "first shell: pid 2, the lab's first pty, sized: [%s]", buf);
        snprintf(want, sizeof want, "/proc/%d/ns/pid", pid);
        struct stat nst;
        snprintf(fdpath_buf, sizeof fdpath_buf, "pid:%llu ", stat(want, &nst) == 0 ? (unsigned long long)nst.st_ino : 0ull);
        CHECK(strstr(buf, fdpath_buf) != NULL && strstr(buf, "[user:") != NULL, "NSLAB_NS names the lab's namespaces (%s): [%s]", fdpath_buf, buf);
        wait_exit(evfd, cpid);
        close(m), close(cfd);
      }
      CHECK(nslab_signal(pidfd, SIGKILL) == 0, "kill lab");
      wait_exit(evfd, pid);
      close(pidfd);
    }
    /* a first shell that cannot start: the lab is made anyway, and the shell's failure says where */
    lab_spec(spec, sizeof spec, init_fd);
    n0 = strlen(spec);
    snprintf(spec + n0, sizeof spec - n0, "stdio\tpty\narg\t/nonexistent\n");
    rc = nslab_lab_create(spec, out, sizeof out);
    pend = strstr(out, "\"shellPending\":");
    CHECK(rc == 0 && pend, "lab with a first shell that will fail: %d %s", rc, out);
    if (rc == 0 && pend) {
      int pid = (int)json_int(out, "pid"), pidfd = (int)json_int(out, "pidfd");
      int sock = (int)json_int(pend, "sock"), helper = (int)json_int(pend, "helper");
      nslab_monitor_watch(pidfd);
      rc = nslab_lab_shell(sock, helper, out, sizeof out);
      CHECK(rc == 0 && strstr(out, "{\"ok\":false,\"step\":\"execve\"") == out, "a failed first shell: %d %s", rc, out);
      CHECK(nslab_signal(pidfd, SIGKILL) == 0, "kill lab");
      wait_exit(evfd, pid);
      close(pidfd);
    }
  }

  /* a lab helper started ahead (nslab_lab_prepare): the next lab takes it, and its trace shows it
   * started (and joined the lab's cgroups) before the lab was asked for; one in other cgroups is
   * let go; one let go (nslab_lab_unprepare) leaves nothing */
  {
    char procs[300] = "";
    if (cg_dir[0]) snprintf(procs, sizeof procs, "%s/cgroup.procs", cg_dir);
    CHECK(nslab_lab_prepare(init_fd, procs) == 0, "prepare a helper");
    CHECK(nslab_lab_prepare(init_fd, procs) == 0, "a second prepare keeps the first");
    CHECK(nslab_lab_prepare(init_fd, "relative/cgroup.procs") == -EINVAL, "a relative cgroup is refused");
    lab_spec(spec, sizeof spec, init_fd);
    int rc = nslab_lab_create(spec, out, sizeof out);
    const char *first = strstr(out, "\"trace\":[{\"sys\":\"posix_spawn\"");
    CHECK(rc == 0 && first && strstr(first, "\"atNs\":-"), "the lab took the helper started ahead: %d %.300s", rc, first ? first : out);
    if (cg_dir[0] && first) {
      /* its one join of the lab's cgroup came with it, made before the lab was asked for */
      const char *join = strstr(first, "cgroup.procs");
      const char *at = join ? strstr(join, "\"atNs\":") : NULL;
      CHECK(join && !strstr(join + 1, "cgroup.procs\\\"") && at && at[7] == '-', "joined ahead, once: %.400s", first);
    }
    if (rc == 0) end_lab(out, evfd);
    lab_spec(spec, sizeof spec, init_fd);
    rc = nslab_lab_create(spec, out, sizeof out);
    first = strstr(out, "\"trace\":[{\"sys\":\"posix_spawn\"");
    CHECK(rc == 0 && first && !strncmp(strstr(first, "\"atNs\":"), "\"atNs\":", 7) && strstr(first, "\"atNs\":-") != strstr(first, "\"atNs\":"), "none ready: the lab starts its own: %.300s", first ? first : out);
    if (rc == 0) end_lab(out, evfd);
    if (cg_dir[0]) {
      /* a helper that joined other cgroups (a spare since put away) is not taken: it is let go,
       * and its cgroup empties */
      char other[300], other_procs[320];
      snprintf(other, sizeof other, "%s-other", cg_dir);
      snprintf(other_procs, sizeof other_procs, "%s/cgroup.procs", other);
      CHECK(mkdir(other, 0755) == 0, "mkdir %s", other);
      CHECK(nslab_lab_prepare(init_fd, other_procs) == 0, "prepare in other cgroups");
      CHECK(count_lines(other_procs) == 1, "the helper joined them");
      lab_spec(spec, sizeof spec, init_fd);
      rc = nslab_lab_create(spec, out, sizeof out);
      first = strstr(out, "\"trace\":[{\"sys\":\"posix_spawn\"");
      CHECK(rc == 0 && first && strstr(first, "\"atNs\":-") != strstr(first, "\"atNs\":"), "another lab's helper is not taken: %.300s", first ? first : out);
      if (rc == 0) end_lab(out, evfd);
      int gone = 0;
      for (int i = 0; i < 200 && !(gone = rmdir(other) == 0); i++) usleep(5000);
      CHECK(gone, "the helper let go left %s: %s", other, strerror(errno));
    }
    CHECK(nslab_lab_prepare(init_fd, NULL) == 0, "prepare again");
    nslab_lab_unprepare(init_fd);
  }

  for (int round = 0; round < 3; round++) {
    lab_spec(spec, sizeof spec, init_fd);
    int rc = nslab_lab_create(spec, out, sizeof out);
    CHECK(rc == 0, "lab create: %d %s", rc, out);
    if (rc) break;
    CHECK(strstr(out, "\"sys\":\"pivot_root\"") != NULL, "trace lacks pivot_root");
    CHECK(strstr(out, "CLONE_NEWUSER") != NULL, "trace lacks decoded clone flags");
    int pid = (int)json_int(out, "pid"), pidfd = (int)json_int(out, "pidfd");
    CHECK(nslab_monitor_watch(pidfd) == 0, "watch");
    /* init names itself once it runs (the sanitized build takes a moment to start): wait for that */
    char fdpath[64], target[256];
    snprintf(fdpath, sizeof fdpath, "/proc/%d/comm", pid);
    for (int i = 0; i < 500; i++) {
      FILE *c = fopen(fdpath, "r");
      target[0] = 0;
      if (c) (void)!fgets(target, sizeof target, c), fclose(c);
      if (strcmp(target, "nslab-init\n") == 0) break;
      usleep(10000);
    }
    CHECK(strcmp(target, "nslab-init\n") == 0, "init runs: comm %s", target);
    /* the lab's init holds nothing of ours: its fds 0-2 are the lab's /dev/null, and no others */
    for (int fd = 0; fd < 3; fd++) {
      snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", pid, fd);
      ssize_t n = readlink(fdpath, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      CHECK(strcmp(target, "/dev/null") == 0, "init fd %d is %s", fd, target);
    }
    for (int fd = 3; fd < 16; fd++) {
      snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", pid, fd);
      CHECK(access(fdpath, F_OK) != 0, "init has no fd %d", fd);
    }

    /* a command on pipes: sees the lab's init as PID 1, the lab's hostname, root inside */
    char sp[1024];
    snprintf(sp, sizeof sp,
             "lab\t%d\t%d\nstdio\tpipes\ntimens\t1\ncwd\t/root\narg\t/bin/sh\narg\t-c\n"
             "arg\tcat /proc/1/comm; hostname; id -u; cat /proc/self/uid_map; set -- /proc/[0-9]*; echo $#; "
             "echo err >&2; ls /sys/class/net; grep -c . %s/cgroup.procs; grep -q ' /srv/scratch ro,' /proc/self/mountinfo && echo scratch-ro; "
             "grep -h '^Seccomp:' /proc/1/status /proc/self/status | tr -d '\\t'\n"
             "env\tPATH=/usr/bin:/bin\n%s%s%s",
             pid, pidfd, cg_dir[0] ? cg_bind : "/proc/self", cg_dir[0] ? "cgroup\t" : "", cg_dir,
             cg_dir[0] ? "/cgroup.procs\n" : "");
    rc = nslab_spawn(sp, out, sizeof out);
    CHECK(rc == 0, "spawn pipes: %d %s", rc, out);
    if (rc == 0) {
      int cpid = (int)json_int(out, "pid"), cfd = (int)json_int(out, "pidfd");
      int so = (int)json_int(out, "stdout"), se = (int)json_int(out, "stderr");
      nslab_monitor_watch(cfd);
      char buf[4096], ebuf[256];
      read_all(so, buf, sizeof buf, 3000);
      read_all(se, ebuf, sizeof ebuf, 3000);
      CHECK(strstr(buf, "nslab-init\nlab-test\n0\n") == buf, "pipes output: [%s]", buf);
      CHECK(strstr(buf, "0    2000000      65536") != NULL, "uid_map: [%s]", buf);
      CHECK(strstr(buf, "\n2\n") != NULL, "lab should hold exactly init and the shell: [%s]", buf);
      CHECK(strcmp(ebuf, "err\n") == 0, "stderr: [%s]", ebuf);
      CHECK(strstr(buf, "\nlo\n") != NULL, "the lab's sysfs shows its own lo: [%s]", buf);
      CHECK(strstr(buf, "scratch-ro\n") != NULL, "bind + remount-ro: [%s]", buf);
      CHECK(strstr(buf, "Seccomp:2\nSeccomp:2\n") != NULL, "init and the command run filtered: [%s]", buf);
      /* init and the shell (and grep) are in the lab's cgroup, seen through the bound directory */
      if (cg_dir[0]) CHECK(strstr(buf, "lo\n3\n") != NULL, "cgroup members: [%s]", buf);
      wait_exit(evfd, cpid);
      close(so), close(se), close(cfd);
      char host[256];
      gethostname(host, sizeof host);
      CHECK(strcmp(host, "lab-test") != 0, "host hostname changed");
    }

    /* a shell on a pty of the lab's own devpts */
    snprintf(sp, sizeof sp,
             "lab\t%d\t%d\nstdio\tpty\nsize\t30\t100\ncwd\t/root\narg\t/bin/sh\narg\t-c\n"
             "arg\ttty; stty size\nenv\tPATH=/usr/bin:/bin\n",
             pid, pidfd);
    rc = nslab_spawn(sp, out, sizeof out);
    CHECK(rc == 0, "spawn pty: %d %s", rc, out);
    if (rc == 0) {
      int cpid = (int)json_int(out, "pid"), cfd = (int)json_int(out, "pidfd");
      int m = (int)json_int(out, "master");
      nslab_monitor_watch(cfd);
      char buf[512];
      read_all(m, buf, sizeof buf, 1000);
      CHECK(strstr(buf, "/dev/pts/0") != NULL, "tty: [%s]", buf);
      CHECK(strstr(buf, "30 100") != NULL, "stty size: [%s]", buf);
      wait_exit(evfd, cpid);
      close(m), close(cfd);
    }

    /* tracing: the command's namespace calls come through the tracer thread, decoded */
    snprintf(sp, sizeof sp,
             "lab\t%d\t%d\nstdio\tpipes\ntrace_syscalls\t1\narg\t/bin/sh\narg\t-c\n"
             "arg\t/bin/true; unshare -u hostname box; unshare -Ur sleep 0.05; echo done\nenv\tPATH=/usr/bin:/bin\n",
             pid, pidfd);
    rc = nslab_spawn(sp, out, sizeof out);
    CHECK(rc == 0 && json_int(out, "listener") >= 0, "spawn traced: %d %s", rc, out);
    if (rc == 0) {
      int cpid = (int)json_int(out, "pid"), cfd = (int)json_int(out, "pidfd");
      int so = (int)json_int(out, "stdout"), se = (int)json_int(out, "stderr");
      int listener = (int)json_int(out, "listener");
      CHECK(nslab_tracer_watch(listener, 42) == 0, "tracer watch");
      close(listener);
      nslab_monitor_watch(cfd);
      char buf[256];
      read_all(so, buf, sizeof buf, 5000);
      CHECK(strcmp(buf, "done\n") == 0, "traced command ran: [%s]", buf);
      /* records: 824 bytes each (nslab.h); the unshare waits a moment for its result */
      char rec[3][824];
      int got = 0;
      for (int i = 0; i < 100 && got < 3; i++) {
        struct pollfd p = {trfd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0 && read(trfd, rec[got], 824) == 824) got++;
      }
      CHECK(got == 3, "three traced calls, got %d", got);
      if (got == 3) {
        int32_t tag, flags, uts_rel;
        uint64_t user_ns, uts_owner, cap_eff;
        memcpy(&tag, rec[0], 4);
        CHECK(tag == 42, "the watcher's tag: %d", tag);
        CHECK(!strcmp(rec[0] + 176, "unshare") && strstr(rec[0] + 200, "CLONE_NEWUTS"), "unshare: %s(%s)", rec[0] + 176, rec[0] + 200);
        CHECK(!strcmp(rec[1] + 176, "sethostname") && !strcmp(rec[1] + 200, "\"box\", 3"), "sethostname: %s(%s)", rec[1] + 176, rec[1] + 200);
        CHECK(!strcmp(rec[1] + 160, "hostname"), "attributed to hostname: %s", rec[1] + 160);
        /* what sethostname's rule needs, read while hostname waited in the call: its UTS
         * namespace (new, from unshare -u) is owned by its own user namespace, and it is root */
        memcpy(&flags, rec[1] + 16, 4), memcpy(&uts_rel, rec[1] + 20, 4);
        memcpy(&user_ns, rec[1] + 32, 8), memcpy(&uts_owner, rec[1] + 616, 8), memcpy(&cap_eff, rec[1] + 624, 8);
        CHECK((flags & 12) == 12, "sethostname: the rule's facts were read: flags %d", flags);
        CHECK(uts_rel == 0 && uts_owner == user_ns && user_ns != 0, "the UTS namespace's owner is the caller's user namespace: rel %d, %llu vs %llu", uts_rel,
              (unsigned long long)uts_owner, (unsigned long long)user_ns);
        CHECK(cap_eff & (1ull << 21), "CAP_SYS_ADMIN in its effective set: %llx", (unsigned long long)cap_eff);
        memcpy(&flags, rec[0] + 16, 4);
        CHECK(!(flags & 12), "unshare: no rule facts (flags %d)", flags);
        /* unshare -Ur: the new user namespace's maps, read through files opened while the caller
         * was in it ("0 <host uid> 1": lab root's host id) */
        memcpy(&flags, rec[2] + 16, 4);
        CHECK(!strcmp(rec[2] + 176, "unshare") && !strcmp(rec[2] + 200, "CLONE_NEWUSER"), "unshare -Ur: %s(%s)", rec[2] + 176, rec[2] + 200);
        CHECK((flags & 16) && rec[2][632 + 95] == 0 && strstr(rec[2] + 632, " 1\n") && strstr(rec[2] + 728, " 1\n"), "unshare -Ur: the maps (flags %d): [%s] [%s]", flags,
              rec[2] + 632, rec[2] + 728);
      }
      wait_exit(evfd, cpid);
      close(so), close(se), close(cfd);
    }

    /* a missing program is an error with a step, not a hang */
    snprintf(sp, sizeof sp, "lab\t%d\t%d\nstdio\tpipes\narg\t/nonexistent\n", pid, pidfd);
    rc = nslab_spawn(sp, out, sizeof out);
    CHECK(rc == -ENOENT && strstr(out, "execve"), "missing program: %d %s", rc, out);

    /* kill -9 1 from inside is ignored by the kernel; the lab stays */
    snprintf(sp, sizeof sp,
             "lab\t%d\t%d\nstdio\tpipes\narg\t/bin/sh\narg\t-c\narg\tkill -9 1; sleep 0.1; echo alive\n",
             pid, pidfd);
    rc = nslab_spawn(sp, out, sizeof out);
    CHECK(rc == 0, "spawn kill: %s", out);
    if (rc == 0) {
      int cpid = (int)json_int(out, "pid"), cfd = (int)json_int(out, "pidfd");
      int so = (int)json_int(out, "stdout"), se = (int)json_int(out, "stderr");
      nslab_monitor_watch(cfd);
      char buf[256];
      read_all(so, buf, sizeof buf, 3000);
      CHECK(strcmp(buf, "alive\n") == 0, "init survived kill -9 1: [%s]", buf);
      wait_exit(evfd, cpid);
      close(so), close(se), close(cfd);
    }

    /* and init still runs after all of it (a sanitizer report would have aborted it) */
    snprintf(fdpath, sizeof fdpath, "/proc/%d/stat", pid);
    FILE *st = fopen(fdpath, "r");
    char state = '?';
    if (st) (void)!fscanf(st, "%*d %*s %c", &state), fclose(st);
    CHECK(state == 'S', "the lab's init is alive and waiting: state %c", state);
    CHECK(nslab_signal(pidfd, SIGKILL) == 0, "kill lab");
    wait_exit(evfd, pid);
    close(pidfd);
  }

  /* namespace relations */
  snprintf(spec, sizeof spec, "/proc/self/ns/pid");
  CHECK(nslab_ns_info(spec, out, sizeof out) == 0 && strstr(out, "\"type\":\"pid\""), "ns_info: %s",
        out);
  CHECK(nslab_features(out, sizeof out) == 0 && strstr(out, "\"pidfd\":true"), "features: %s", out);

  close(init_fd);
  if (cg_dir[0]) CHECK(rmdir(cg_dir) == 0, "the test cgroup is empty and removable: %s", strerror(errno));

  test_helper_timeout(argv[2]);

  nslab_monitor_stop();
  nslab_tracer_stop();
  CHECK(count_fds() == base_fds, "fd leak: %d before, %d after", base_fds, count_fds());
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures != 0;
}
