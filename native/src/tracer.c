/* The learner's own namespace calls, for the trace. With tracing on, a terminal's seccomp filter
 * (seccomp.c) answers the namespace-relevant calls with SECCOMP_RET_USER_NOTIF: the kernel suspends
 * the caller and tells whoever holds the filter's listener fd, here one thread of the server's.
 * That thread reads the call's arguments from the caller's memory while it waits, notes the
 * caller's namespaces, and lets the call go on unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE), then
 * writes one fixed-size record per call to a pipe Node reads like a socket (as the exit monitor
 * does). seccomp_unotify(2).
 *
 * Observation only. CONTINUE is not a decision: the memory we read can change between our read and
 * the kernel's (TOCTOU), so nothing here allows or refuses anything; the kernel's own checks and
 * the filter's fixed rules do that. What we read is checked to still belong to the suspended call
 * (SECCOMP_IOCTL_NOTIF_ID_VALID) before it is reported.
 *
 * The kernel reports no result to an observer that lets the call continue. For unshare and setns
 * the caller's namespaces show it: the record waits a few milliseconds in a queue (the caller is
 * not held), and its namespaces are read again once they changed or the waits ran out. For
 * sethostname and setdomainname the kernel's rule decides it (CAP_SYS_ADMIN in the user namespace
 * that owns the caller's UTS namespace: uts_namespaces(7), user_namespaces(7)), so what the rule
 * needs is read while the caller is suspended: `unshare -u hostname box` has exited before anyone
 * could look a moment later. After unshare(CLONE_NEWUSER) the new namespace's maps are read
 * through files opened while the caller is in it (see maps_open).
 *
 * The thread never waits on anything but epoll: a full record pipe drops records (counted), never
 * the caller. A listener whose filter has no task left reports EPOLLHUP and is closed. */
#include "internal.h"
#include "../include/nslab.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_RECV
#error "nslab's tracer needs Linux 5.5 headers (SECCOMP_USER_NOTIF_FLAG_CONTINUE)"
#endif

/* One record on the pipe (native/include/nslab.h documents it for the server). */
struct trace_event {
  int32_t tag;     /* the watcher's tag (the server's number for a terminal) */
  int32_t pid;     /* host pid of the caller */
  int32_t lab_pid; /* its pid in the lab's own pid namespace (0: unknown) */
  int32_t nr;      /* system call number */
  int32_t flags;   /* EV_*: what the reader may infer */
  int32_t uts_rel; /* EV_UTS: where the user namespace owning the caller's UTS namespace is, seen
                      from the caller's own: 0 that one, n its n-th ancestor, -1 neither */
  uint64_t t_ns;   /* CLOCK_MONOTONIC when the call was made */
  uint64_t ns_before[8]; /* the caller's namespaces before the call (inodes; user pid mnt uts ipc net cgroup time) */
  uint64_t ns_after[8];  /* and a moment after it (unshare, setns), while the caller lives */
  char comm[16];
  char sys[24];
  char args[416];
  uint64_t uts_owner; /* EV_UTS: inode of the user namespace that owns the caller's UTS namespace */
  uint64_t cap_eff;   /* EV_CAPS: the caller's effective capabilities (in its user namespace) */
  char uid_map[96];   /* EV_MAPS: unshare(CLONE_NEWUSER): the new namespace's maps as written */
  char gid_map[96];   /* just after the call, in host ids, whole lines ("" if none was) */
};
_Static_assert(sizeof(struct trace_event) == 824, "the server reads 824-byte records (nslab.h)");

enum { EV_NS_BEFORE = 1, EV_NS_AFTER = 2, EV_UTS = 4, EV_CAPS = 8, EV_MAPS = 16 };

/* pid and time: what the caller's children get, which is what unshare and setns change */
static const char *const NS_NAMES[8] = {"user", "pid_for_children", "mnt", "uts", "ipc", "net", "cgroup", "time_for_children"};

static int ep = -1, out_w = -1, out_r = -1, stop_r = -1, stop_w = -1;
static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct seccomp_notif_sizes sizes;
static unsigned long long dropped;

/* ---- reading the caller's memory ---- */

/* Up to cap-1 bytes of a NUL-terminated string at addr in pid, page by page (a string may end
 * just before an unmapped page). Returns 0, or -1 if nothing could be read. */
static int read_string(pid_t pid, uint64_t addr, char *buf, size_t cap) {
  size_t got = 0;
  buf[0] = 0;
  if (!addr) return -1;
  while (got + 1 < cap) {
    size_t page_left = 4096 - ((addr + got) & 4095);
    size_t want = cap - 1 - got < page_left ? cap - 1 - got : page_left;
    struct iovec local = {buf + got, want}, remote = {(void *)(uintptr_t)(addr + got), want};
    ssize_t n = syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    void *nul = memchr(buf + got, 0, (size_t)n);
    got += (size_t)n;
    if (nul) return 0;
  }
  buf[got] = 0;
  return got ? 0 : -1;
}

static int read_bytes(pid_t pid, uint64_t addr, void *buf, size_t len) {
  struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
  return syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/* a quoted, escaped copy of s (learners' strings may hold anything) */
static void arg_quoted(struct trace_rec *r, const char *s, int ok) {
  if (!ok) return tr_raw(r, "?");
  char q[200];
  size_t n = 0;
  q[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && n + 6 < sizeof q; p++) {
    if (*p == '"' || *p == '\\') q[n++] = '\\', q[n++] = (char)*p;
    else if (*p < 0x20 || *p == 0x7f) n += (size_t)snprintf(q + n, sizeof q - n, "\\x%02x", *p);
    else q[n++] = (char)*p;
  }
  q[n++] = '"';
  q[n] = 0;
  tr_raw(r, q);
}

static void arg_string(struct trace_rec *r, pid_t pid, uint64_t addr) {
  if (!addr) return tr_raw(r, "NULL");
  char s[160];
  arg_quoted(r, s, read_string(pid, addr, s, sizeof s) == 0);
}

static void arg_int(struct trace_rec *r, long long v) { tr_int(r, v); }

/* "label" followed by flags decoded with a table, inside a struct's braces ("{flags=A|B") */
static void cat_flags(struct trace_rec *r, const char *label, unsigned long long v, int table) {
  struct trace_rec f;
  memset(&f, 0, sizeof f);
  tr_flags(&f, v, table);
  s_cat(r->args, sizeof r->args, label);
  s_cat(r->args, sizeof r->args, f.args);
}

static void arg_dirfd(struct trace_rec *r, int fd) {
  if (fd == AT_FDCWD) tr_raw(r, "AT_FDCWD");
  else arg_int(r, fd);
}

/* what an fd of the caller refers to: "3</proc/1/ns/net>" style, as strace -y does */
static void arg_fd_target(struct trace_rec *r, pid_t pid, int fd) {
  char path[64], target[96];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
  ssize_t n = readlink(path, target, sizeof target - 1);
  char buf[128];
  if (n > 0) {
    target[n] = 0;
    snprintf(buf, sizeof buf, "%d<%s>", fd, target);
  } else {
    snprintf(buf, sizeof buf, "%d", fd);
  }
  tr_raw(r, buf);
}

static void ns_inodes(pid_t pid, uint64_t out[8]) {
  char path[64];
  for (int i = 0; i < 8; i++) {
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, NS_NAMES[i]);
    out[i] = stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
  }
}

/* What sethostname's rule needs (kernel/sys.c: ns_capable(uts_ns->user_ns, CAP_SYS_ADMIN)), read
 * while the caller is suspended in the call: the user namespace owning its UTS namespace
 * (NS_GET_USERNS), where that is from the caller's own user namespace (NS_GET_PARENT, upwards:
 * the tracer is in the initial user namespace, so every parent is visible to it), and the
 * caller's effective capabilities (capget(2) reads any process's). */
static void uts_facts(pid_t pid, struct trace_event *ev) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/ns/uts", (int)pid);
  autofd uts = open(path, O_RDONLY | O_CLOEXEC);
  autofd owner = uts < 0 ? -1 : ioctl(uts, NS_GET_USERNS);
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int user = open(path, O_RDONLY | O_CLOEXEC);
  if (owner >= 0 && user >= 0 && fstat(owner, &st) == 0) {
    ev->uts_owner = (uint64_t)st.st_ino;
    ev->uts_rel = -1;
    /* user namespaces nest at most 32 deep (user_namespaces(7)) */
    for (int up = 0; up <= 32 && user >= 0; up++) {
      if (fstat(user, &st) == 0 && (uint64_t)st.st_ino == ev->uts_owner) {
        ev->uts_rel = up;
        break;
      }
      int parent = ioctl(user, NS_GET_PARENT); /* EPERM at the initial user namespace */
      close(user);
      user = parent;
    }
    ev->flags |= EV_UTS;
  }
  if (user >= 0) close(user);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, pid};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) == 0) {
    ev->cap_eff = (uint64_t)data[0].effective | (uint64_t)data[1].effective << 32;
    ev->flags |= EV_CAPS;
  }
}

#define CLONE_NS_FLAGS                                                                       \
  (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
   CLONE_NEWNET | CLONE_NEWTIME)

/* Fills the record for one notification. Returns 0 to report it, 1 to let it go unreported (a
 * clone3 without namespace flags: clone3's flags live in memory, so every clone3 is notified). */
static int decode(const struct seccomp_notif *n, struct trace_event *ev) {
  struct trace_rec r;
  memset(&r, 0, sizeof r);
  pid_t pid = (pid_t)n->pid;
  const __u64 *a = n->data.args;
  const char *sys = "?";
  switch (n->data.nr) {
  case SYS_unshare:
    sys = "unshare";
    tr_flags(&r, a[0], FT_CLONE);
    break;
  case SYS_clone:
    sys = "clone";
    /* the low byte is the exit signal (CSIGNAL) */
    tr_flags(&r, a[0] & ~0xffull, FT_CLONE);
    break;
  case SYS_clone3: {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    size_t size = a[1] < sizeof ca ? (size_t)a[1] : sizeof ca;
    if (size < 8 || read_bytes(pid, a[0], &ca, size) < 0) return 1;
    if (!(ca.flags & CLONE_NS_FLAGS)) return 1;
    sys = "clone3";
    cat_flags(&r, "{flags=", ca.flags, FT_CLONE);
    s_cat(r.args, sizeof r.args, "}");
    break;
  }
  case SYS_setns:
    sys = "setns";
    arg_fd_target(&r, pid, (int)a[0]);
    tr_flags(&r, a[1], FT_CLONE);
    break;
  case SYS_mount:
    sys = "mount";
    arg_string(&r, pid, a[0]);
    arg_string(&r, pid, a[1]);
    arg_string(&r, pid, a[2]);
    tr_flags(&r, a[3], FT_MOUNT);
    /* data is a string for most filesystems; binds and remounts of flags ignore it */
    if (a[4] && a[2] && !(a[3] & (MS_BIND | MS_MOVE))) arg_string(&r, pid, a[4]);
    else tr_raw(&r, a[4] ? "..." : "NULL");
    break;
  case SYS_umount2:
    sys = "umount2";
    arg_string(&r, pid, a[0]);
    tr_flags(&r, a[1], FT_UMOUNT);
    break;
  case SYS_pivot_root:
    sys = "pivot_root";
    arg_string(&r, pid, a[0]);
    arg_string(&r, pid, a[1]);
    break;
  case SYS_sethostname:
  case SYS_setdomainname: {
    sys = n->data.nr == SYS_sethostname ? "sethostname" : "setdomainname";
    char name[72];
    size_t len = a[1] < sizeof name - 1 ? (size_t)a[1] : sizeof name - 1;
    int ok = a[0] && read_bytes(pid, a[0], name, len) == 0;
    name[ok ? len : 0] = 0;
    arg_quoted(&r, name, ok);
    arg_int(&r, (long long)a[1]);
    break;
  }
#ifdef SYS_mount_setattr
  case SYS_mount_setattr: {
    sys = "mount_setattr";
    arg_dirfd(&r, (int)a[0]);
    arg_string(&r, pid, a[1]);
    tr_raw(&r, a[2] & AT_RECURSIVE ? "AT_RECURSIVE" : "0");
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    size_t size = a[4] < sizeof attr ? (size_t)a[4] : sizeof attr;
    if (size >= 16 && read_bytes(pid, a[3], &attr, size) == 0) {
      tr_raw(&r, ""); /* the separator before the struct */
      cat_flags(&r, "{set=", attr.attr_set, FT_MOUNT_ATTR);
      cat_flags(&r, ", clr=", attr.attr_clr, FT_MOUNT_ATTR);
      if (attr.propagation) cat_flags(&r, ", propagation=", attr.propagation, FT_MOUNT);
      s_cat(r.args, sizeof r.args, "}");
    } else {
      tr_raw(&r, "?");
    }
    break;
  }
#endif
#ifdef SYS_open_tree
  case SYS_open_tree:
    sys = "open_tree";
    arg_dirfd(&r, (int)a[0]);
    arg_string(&r, pid, a[1]);
    tr_raw(&r, a[2] & OPEN_TREE_CLONE ? "OPEN_TREE_CLONE" : "0");
    break;
  case SYS_move_mount:
    sys = "move_mount";
    arg_dirfd(&r, (int)a[0]);
    arg_string(&r, pid, a[1]);
    arg_dirfd(&r, (int)a[2]);
    arg_string(&r, pid, a[3]);
    arg_int(&r, (long long)a[4]);
    break;
  case SYS_fsopen:
    sys = "fsopen";
    arg_string(&r, pid, a[0]);
    arg_int(&r, (long long)a[1]);
    break;
  case SYS_fsconfig:
    sys = "fsconfig";
    arg_int(&r, (long long)(int)a[0]);
    arg_int(&r, (long long)a[1]);
    arg_string(&r, pid, a[2]);
    /* FSCONFIG_SET_STRING: the value is a string */
    if (a[1] == 1) arg_string(&r, pid, a[3]);
    else tr_raw(&r, a[3] ? "..." : "NULL");
    break;
  case SYS_fsmount:
    sys = "fsmount";
    arg_int(&r, (long long)(int)a[0]);
    arg_int(&r, (long long)a[1]);
    tr_flags(&r, a[2], FT_MOUNT_ATTR);
    break;
  case SYS_fspick:
    sys = "fspick";
    arg_dirfd(&r, (int)a[0]);
    arg_string(&r, pid, a[1]);
    break;
#endif
  default:
    snprintf(ev->sys, sizeof ev->sys, "syscall_%d", n->data.nr);
    break;
  }
  if (sys[0] != '?') s_cpy(ev->sys, sizeof ev->sys, sys);
  s_cpy(ev->args, sizeof ev->args, r.args);
  return 0;
}

/* the pid in the lab's pid namespace: the second NSpid field (the first is the host's) */
static int32_t read_lab_pid(pid_t pid) {
  char path[48], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strstr(buf, "\nNSpid:");
  long host = 0, lab = 0;
  if (p && sscanf(p + 8, "%ld %ld", &host, &lab) == 2) return (int32_t)lab;
  return 0;
}

static void read_comm(pid_t pid, char out[16]) {
  char path[48];
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, out, 15);
  close(fd);
  if (n > 0 && out[n - 1] == '\n') n--;
  out[n > 0 ? n : 0] = 0;
}

/* Each listener may report so many calls a second (a token bucket); beyond that its calls still
 * go on at once, unreported, so a lab that loops over unshare cannot make the server do more
 * than this much decoding for it. */
#define RATE_PER_S 200
#define BURST 400

struct watched {
  int fd, tag;
  double tokens;
  uint64_t refilled_ns;
  struct watched *next; /* all of them, for nslab_tracer_stop */
};
static struct watched *watching;

static int take_token(struct watched *w) {
  uint64_t now = now_ns();
  w->tokens += (double)(now - w->refilled_ns) * RATE_PER_S / 1e9;
  if (w->tokens > BURST) w->tokens = BURST;
  w->refilled_ns = now;
  if (w->tokens < 1) return 0;
  w->tokens -= 1;
  return 1;
}

/* Records waiting to be written, in order (so one caller's calls stay in order): each until its
 * due time; an unshare or setns is looked at again at each due time until its namespaces changed,
 * its caller is gone, or the last wait passed. */
#define QUEUE 64
static const uint64_t WAITS_NS[] = {50000, 150000, 400000, 1000000, 4000000, 15000000, 60000000};
static struct queued {
  struct trace_event ev;
  uint64_t due;
  int waits; /* how many of WAITS_NS were used; -1: nothing to look at, write when due */
  int new_user; /* unshare(CLONE_NEWUSER): the maps of the new user namespace are wanted */
  int map_fd[2]; /* its uid_map and gid_map, open (-1: not yet) */
} queue[QUEUE];

/* The maps written into a new user namespace (`unshare -r` writes them right after the call and
 * then runs its command, which may exit within a millisecond). /proc/PID/uid_map opened once the
 * caller is in the new namespace holds that namespace (proc_id_map_open takes a reference), so it
 * still reads the maps after the caller is gone. Read from the initial user namespace: host ids. */
static void maps_open(struct queued *q) {
  char path[48];
  for (int i = 0; i < 2; i++) {
    if (q->map_fd[i] >= 0) continue;
    snprintf(path, sizeof path, "/proc/%d/%s", (int)q->ev.pid, i ? "gid_map" : "uid_map");
    q->map_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
  }
}

/* Reads both maps into the record (whole lines only); returns 1 when both are written. */
static int maps_read(struct queued *q) {
  int both = 1;
  for (int i = 0; i < 2; i++) {
    char *out = i ? q->ev.gid_map : q->ev.uid_map;
    char buf[sizeof q->ev.uid_map];
    out[0] = 0;
    ssize_t n = q->map_fd[i] < 0 ? -1 : pread(q->map_fd[i], buf, sizeof buf - 1, 0);
    if (n <= 0) {
      both = 0;
      continue;
    }
    buf[n] = 0;
    char *end = strrchr(buf, '\n');
    if (end) end[1] = 0;
    else buf[0] = 0;
    s_cpy(out, sizeof q->ev.uid_map, buf);
    q->ev.flags |= EV_MAPS;
  }
  return both;
}

static void maps_close(struct queued *q) {
  for (int i = 0; i < 2; i++)
    if (q->map_fd[i] >= 0) close(q->map_fd[i]), q->map_fd[i] = -1;
}
static int q_head, q_len;

static void emit(const struct trace_event *ev) {
  if (write(out_w, ev, sizeof *ev) != (ssize_t)sizeof *ev) dropped++;
}

/* Writes what is due, in order; returns the ns until the head is due, or -1 if the queue is empty. */
static int64_t flush_queue(void) {
  while (q_len) {
    struct queued *q = &queue[q_head];
    uint64_t now = now_ns();
    if (now < q->due) return (int64_t)(q->due - now);
    if (q->waits >= 0) {
      uint64_t after[8];
      ns_inodes(q->ev.pid, after);
      /* pid_for_children reads ENOENT between unshare(CLONE_NEWPID) and the first fork into the
       * new namespace (namespaces(7): "empty until the first process is created"), so a 0 there
       * means "not yet", not a caller that is gone: look again, as for no change yet. */
      int alive = 1, changed = 0, unborn = after[1] == 0;
      for (int i = 0; i < 8; i++) {
        if (i != 1) alive &= after[i] != 0;
        changed |= after[i] != q->ev.ns_before[i];
      }
      int last = q->waits + 1 >= (int)(sizeof WAITS_NS / sizeof WAITS_NS[0]);
      /* in its new user namespace: hold the maps (they are written after the call returns) */
      if (q->new_user && alive && after[0] != q->ev.ns_before[0]) maps_open(q);
      int maps_due = q->new_user && q->map_fd[0] >= 0 && !maps_read(q);
      if (alive && (unborn || !changed) && !last) {
        q->due = now + WAITS_NS[++q->waits];
        continue;
      }
      if (alive) {
        memcpy(q->ev.ns_after, after, sizeof after);
        q->ev.flags |= EV_NS_AFTER;
      }
      if (maps_due && !last) {
        /* the namespaces are known; the maps may come a moment later, even after the caller
         * exits: the open files still read them */
        q->due = now + WAITS_NS[++q->waits];
        q->waits = -2 - q->waits; /* -2 - n: only the maps are awaited, n waits used */
        continue;
      }
    } else if (q->waits <= -2) {
      int used = -2 - q->waits;
      if (!maps_read(q) && used + 1 < (int)(sizeof WAITS_NS / sizeof WAITS_NS[0])) {
        q->due = now + WAITS_NS[used + 1];
        q->waits = -3 - used;
        continue;
      }
    }
    maps_close(q);
    emit(&q->ev);
    q_head = (q_head + 1) % QUEUE, q_len--;
  }
  return -1;
}

static void enqueue(const struct trace_event *ev, int look_again, int new_user) {
  if (q_len == QUEUE) {
    /* a burst: write the oldest as it is rather than hold up the caller or lose the newest */
    queue[q_head].due = 0, queue[q_head].waits = -1;
    flush_queue();
  }
  struct queued *q = &queue[(q_head + q_len++) % QUEUE];
  q->ev = *ev;
  q->new_user = new_user;
  q->map_fd[0] = q->map_fd[1] = -1;
  q->waits = look_again ? 0 : -1;
  q->due = now_ns() + (look_again ? WAITS_NS[0] : 0);
}

/* One notification: receive, decode while the caller waits, let it continue, report. */
static void handle(struct watched *w, struct seccomp_notif *req, struct seccomp_notif_resp *resp) {
  int fd = w->fd, tag = w->tag;
  memset(req, 0, sizes.seccomp_notif);
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) return; /* ENOENT: the caller is gone */
  if (!take_token(w)) {
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
    dropped++;
    return;
  }
  struct trace_event ev;
  memset(&ev, 0, sizeof ev);
  ev.tag = tag;
  ev.pid = (int32_t)req->pid;
  ev.nr = req->data.nr;
  ev.t_ns = now_ns();
  int quiet = decode(req, &ev);
  if (!quiet) {
    read_comm((pid_t)req->pid, ev.comm);
    ev.lab_pid = read_lab_pid((pid_t)req->pid);
    ns_inodes((pid_t)req->pid, ev.ns_before);
    ev.flags |= EV_NS_BEFORE;
    if (req->data.nr == SYS_sethostname || req->data.nr == SYS_setdomainname) uts_facts((pid_t)req->pid, &ev);
  }
  /* what we read is the suspended call's only if the notification is still live (the pid was
   * not the caller's any more otherwise: it was killed, and the pid may be another process's) */
  int valid = ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0;
  if (!quiet && valid && ev.ns_before[1] != 0) {
    /* The caller is suspended in a later call, so whatever it unshared or joined before is done
     * and its namespaces are the ones just read: a queued look at it is answered now, before it
     * can exec and exit (`unshare -u hostname box`: hostname used to exit within the first look's
     * wait, and the unshare's result was lost about 1 run in 4). */
    for (int i = 0; i < q_len; i++) {
      struct queued *q = &queue[(q_head + i) % QUEUE];
      if (q->ev.pid != ev.pid || q->waits == -1) continue;
      if (q->waits >= 0) {
        memcpy(q->ev.ns_after, ev.ns_before, sizeof ev.ns_before);
        q->ev.flags |= EV_NS_AFTER;
      }
      /* and whatever maps it wrote since (`unshare -r` writes them before running its command) */
      if (q->new_user && ev.ns_before[0] != q->ev.ns_before[0]) {
        maps_open(q);
        maps_read(q);
      }
      q->waits = -1, q->due = 0;
    }
  }
  memset(resp, 0, sizes.seccomp_notif_resp);
  resp->id = req->id;
  resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
  if (quiet || !valid) return;
  enqueue(&ev, req->data.nr == SYS_unshare || req->data.nr == SYS_setns, req->data.nr == SYS_unshare && (req->data.args[0] & CLONE_NEWUSER));
}

static void *run(void *arg) {
  (void)arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, NULL);
  autofree struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
  autofree struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
  if (!req || !resp) return NULL;
  struct epoll_event evs[32];
  for (;;) {
    /* epoll_pwait2 (Linux 5.11) waits in nanoseconds; epoll_wait rounds up to a millisecond */
    int64_t due = flush_queue();
    struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
    int n = (int)syscall(SYS_epoll_pwait2, ep, evs, 32, due < 0 ? NULL : &ts, NULL, 0);
    if (n < 0 && errno == ENOSYS) n = epoll_wait(ep, evs, 32, due < 0 ? -1 : (int)(due / 1000000) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return NULL;
    for (int i = 0; i < n; i++) {
      struct watched *w = evs[i].data.ptr;
      if (!w) return NULL; /* the stop pipe */
      if (evs[i].events & EPOLLIN) handle(w, req, resp);
      else if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
        /* no task uses the filter any more (Linux 5.8 and later) */
        epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
        close(w->fd);
        w->fd = -1; /* freed by nslab_tracer_stop; a stale epoll event cannot name it again */
      }
    }
  }
}

static void unlockp(pthread_mutex_t **m) { pthread_mutex_unlock(*m); }
#define LOCKED(m) __attribute__((cleanup(unlockp))) pthread_mutex_t *guard_ = (pthread_mutex_lock(m), (m))

int nslab_tracer_start(void) {
  LOCKED(&lock);
  if (out_r >= 0) return out_r;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return -errno;
  int p[2], q[2];
  autofd e = epoll_create1(EPOLL_CLOEXEC);
  if (e < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return -errno;
  autofd r = p[0], w = p[1];
  if (pipe2(q, O_CLOEXEC) < 0) return -errno;
  autofd sr = q[0], sw = q[1];
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(e, EPOLL_CTL_ADD, sr, &ev) < 0) return -errno;
  fcntl(r, F_SETFL, 0); /* Node reads its end like a socket; only our end must never block */
  ep = e, out_r = r, out_w = w, stop_r = sr, stop_w = sw;
  int rc = pthread_create(&thread, NULL, run, NULL);
  if (rc) {
    ep = out_r = out_w = stop_r = stop_w = -1;
    return -rc;
  }
  steal_fd(&e), steal_fd(&r), steal_fd(&w), steal_fd(&sr), steal_fd(&sw);
  return out_r;
}

int nslab_tracer_watch(int listener, int tag) {
  if (ep < 0) return -ENOTCONN;
  struct watched *w = malloc(sizeof *w);
  if (!w) return -ENOMEM;
  w->fd = fcntl(listener, F_DUPFD_CLOEXEC, 3);
  w->tag = tag;
  w->tokens = BURST;
  w->refilled_ns = now_ns();
  if (w->fd < 0) {
    int e = errno;
    free(w);
    return -e;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
  LOCKED(&lock);
  if (epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
    int e = errno;
    close(w->fd);
    free(w);
    return -e;
  }
  w->next = watching;
  watching = w;
  return 0;
}

void nslab_tracer_stop(void) {
  LOCKED(&lock);
  if (out_r < 0) return;
  (void)!write(stop_w, "x", 1);
  pthread_join(thread, NULL);
  /* closing a listener makes its filter's notified calls fail with ENOSYS: the server stops the
   * tracer only after its labs are gone */
  while (watching) {
    struct watched *w = watching;
    watching = w->next;
    if (w->fd >= 0) close(w->fd);
    free(w);
  }
  /* records still queued (the thread is gone): their held maps */
  for (; q_len; q_head = (q_head + 1) % QUEUE, q_len--) maps_close(&queue[q_head]);
  close(ep), close(out_r), close(out_w), close(stop_r), close(stop_w);
  ep = out_r = out_w = stop_r = stop_w = -1;
}
