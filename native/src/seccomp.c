/* Seccomp: one filter for every process of a lab (init, shells, checks), installed just before
 * each execve and inherited by everything they start (seccomp(2): filters survive fork and exec and
 * can never be removed). Why each rule exists: docs/security.md; the rules: seccomp.policy.
 *
 * The filter is classic BPF generated here, at lab creation, from the policy table that
 * native/Makefile derives from seccomp.policy with this architecture's syscall numbers. No
 * libseccomp: the core is built from source on every user's machine at `npm install`, and a -dev
 * package would be one more requirement for all of them (docs/architecture.md).
 *
 * Shape of the program:
 *   1. the architecture: anything but the one this core was built for is killed (a 32-bit or x32
 *      call would use other numbers; on x86_64, x32 numbers carry bit 30 and get ENOSYS);
 *   2. the syscall number, found by a binary search over ranges of equal rule (a few compares), each
 *      leaf a constant return, except the handful of calls whose arguments matter;
 *   3. numbers above the newest known call get ENOSYS (libc then falls back as on an older kernel),
 *      unknown ones below it EPERM.
 * Leaves for plain calls read nothing but the number, so the kernel's seccomp action cache (Linux
 * 5.11) marks them always-allowed and skips the filter for them altogether; a plain fork+exec runs
 * one flag test (clone's CLONE_PARENT) and is never reported. With tracing on
 * (seccomp_build(notify=1)), the namespace calls return SECCOMP_RET_USER_NOTIF instead of ALLOW,
 * and clone only when its flags hold CLONE_NEW*; nothing else changes. */
#include "internal.h"
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>

#if defined(__x86_64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define AUDIT_ARCH_NATIVE AUDIT_ARCH_PPC64LE
#else
#error "nslab's seccomp filter knows x86_64, aarch64, riscv64 and ppc64le; add this architecture's AUDIT_ARCH here"
#endif

/* Calls newer than the build machine's headers: numbered alike on every architecture above
 * (asm-generic numbering since Linux 5.1; arch/x86/entry/syscalls/syscall_64.tbl agrees). */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#if !defined(__NR_map_shadow_stack) && defined(__x86_64__)
#define __NR_map_shadow_stack 453
#endif
#ifndef __NR_futex_wake
#define __NR_futex_wake 454
#define __NR_futex_wait 455
#define __NR_futex_requeue 456
#endif
#ifndef __NR_statmount
#define __NR_statmount 457
#define __NR_listmount 458
#endif
#ifndef __NR_lsm_get_self_attr
#define __NR_lsm_get_self_attr 459
#define __NR_lsm_set_self_attr 460
#define __NR_lsm_list_modules 461
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#define __NR_getxattrat 464
#define __NR_listxattrat 465
#define __NR_removexattrat 466
#endif
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif
#ifndef __NR_file_getattr
#define __NR_file_getattr 468
#define __NR_file_setattr 469
#endif

#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

enum rule {
  RULE_NONE = 0, /* not in the policy: EPERM */
  RULE_ALLOW,
  RULE_NS,       /* allowed; reported when tracing */
  RULE_CLONE,    /* allowed but not with CLONE_PARENT; reported when tracing and its flags hold CLONE_NEW* */
  RULE_UNSHARE,  /* the same for unshare(2), whose flags may also hold CLONE_NEWTIME */
  RULE_SOCKET,   /* only the families the lessons need */
  RULE_IOCTL,    /* not TIOCSTI, not TIOCLINUX */
  RULE_PTRACE,   /* not attaching to the lab's PID 1 */
  RULE_NOT_PID1, /* first argument (a pid) must not be 1 */
  RULE_PERSONALITY,
  RULE_DENY,     /* EPERM, on purpose (documented) */
  RULE_ENOSYS,   /* beyond the newest known call */
};

static const struct policy_entry {
  int nr;
  enum rule rule;
  const char *name;
} policy[] = {
#include "seccomp-policy.h"
};

/* The CLONE_NEW* flags, the namespace-making part of clone(2)'s flags. */
#define CLONE_NS_MASK                                                                        \
  (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
   CLONE_NEWNET)

/* seccomp_data offsets: the low 32 bits of an argument, whatever the byte order */
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

struct prog {
  struct sock_filter *ins;
  size_t n, cap;
  int notify;
  int overflow;
};

static size_t emit(struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
  if (p->n >= p->cap) {
    p->overflow = 1;
    return p->n;
  }
  p->ins[p->n] = (struct sock_filter){code, jt, jf, k};
  return p->n++;
}
#define RET(p, v) emit(p, BPF_RET | BPF_K, 0, 0, (v))
#define LD(p, off) emit(p, BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(off))
#define JEQ(p, k, jt, jf) emit(p, BPF_JMP | BPF_JEQ | BPF_K, (jt), (jf), (k))
#define JSET(p, k, jt, jf) emit(p, BPF_JMP | BPF_JSET | BPF_K, (jt), (jf), (k))
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

static uint32_t ns_action(const struct prog *p) {
  return p->notify ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ALLOW;
}

/* returns `pass` if the low 32 bits of argument `arg` equal one of `vals`, else `fail` */
static void emit_arg_in(struct prog *p, int arg, const uint32_t *vals, int n, uint32_t pass,
                        uint32_t fail) {
  LD(p, OFF_ARG_LO(arg));
  for (int i = 0; i < n; i++) JEQ(p, vals[i], (uint8_t)(n - i), 0);
  RET(p, fail);
  RET(p, pass);
}

/* The leaf for one range of syscall numbers; the number is in the accumulator. */
static void emit_leaf(struct prog *p, enum rule r) {
  switch (r) {
  case RULE_ALLOW: RET(p, SECCOMP_RET_ALLOW); return;
  case RULE_NONE:
  case RULE_DENY: RET(p, ERRNO(EPERM)); return;
  case RULE_ENOSYS: RET(p, ERRNO(ENOSYS)); return;
  case RULE_NS: RET(p, ns_action(p)); return;
  case RULE_CLONE:
    /* clone(2)'s flags are its first argument on these architectures (s390 differs).
     * CLONE_PARENT: the shells and checks the server starts are the server's own children, so a
     * child one of them made with CLONE_PARENT would be the server's too, and the server reaps only
     * the processes it started: each would stay a zombie in the server until it exits, holding a
     * pid of the host's and of the lab's pids.max, and the lab's init could never finish dying
     * (zap_pid_ns_processes waits for every pid of the namespace to be reaped): the lab could not
     * be deleted. No lesson needs it. */
    LD(p, OFF_ARG_LO(0));
    JSET(p, CLONE_PARENT, 0, 1);
    RET(p, ERRNO(EPERM));
    if (!p->notify) {
      RET(p, SECCOMP_RET_ALLOW);
      return;
    }
    JSET(p, CLONE_NS_MASK, 0, 1);
    RET(p, SECCOMP_RET_USER_NOTIF);
    RET(p, SECCOMP_RET_ALLOW);
    return;
  case RULE_UNSHARE:
    if (!p->notify) {
      RET(p, SECCOMP_RET_ALLOW);
      return;
    }
    LD(p, OFF_ARG_LO(0));
    JSET(p, CLONE_NS_MASK | CLONE_NEWTIME, 0, 1);
    RET(p, SECCOMP_RET_USER_NOTIF);
    RET(p, SECCOMP_RET_ALLOW);
    return;
  case RULE_SOCKET: {
    /* socket(2)/socketpair(2) take the family as an int: the low 32 bits are what the kernel
     * uses. unix, inet, inet6 and netlink are what the lessons use (ip, ping, ss, servers on
     * loopback); AF_VSOCK reaches the hypervisor and is not network-namespaced (issue 12,
     * finding 9); AF_PACKET and the rest are not needed. */
    static const uint32_t fam[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
    emit_arg_in(p, 0, fam, 4, SECCOMP_RET_ALLOW, ERRNO(EAFNOSUPPORT));
    return;
  }
  case RULE_IOCTL: {
    /* TIOCSTI pushes bytes into a terminal's input (another process's shell on the same tty);
     * TIOCLINUX can do the same on a virtual console. The request is compared on its low 32 bits
     * only: the tty layer takes it as an unsigned int, so 0x100005412 is TIOCSTI too, which a
     * 64-bit compare would let through (CVE-2019-10063). */
    static const uint32_t req[] = {TIOCSTI, TIOCLINUX};
    emit_arg_in(p, 1, req, 2, ERRNO(EPERM), SECCOMP_RET_ALLOW);
    return;
  }
  case RULE_PTRACE:
    /* ptrace may be used inside the lab (strace in the lessons), but not to attach to the lab's
     * PID 1: a stopped nslab-init reaps nothing, and zombies would pile up. Inside the lab's pid
     * namespace (and any nested one) no other number names that process. The kernel truncates
     * the pid to an int: low 32 bits. */
    LD(p, OFF_ARG_LO(0));
    JEQ(p, PTRACE_ATTACH, 2, 0);
    JEQ(p, PTRACE_SEIZE, 1, 0);
    RET(p, SECCOMP_RET_ALLOW);
    LD(p, OFF_ARG_LO(1));
    JEQ(p, 1, 0, 1);
    RET(p, ERRNO(EPERM));
    RET(p, SECCOMP_RET_ALLOW);
    return;
  case RULE_NOT_PID1: {
    static const uint32_t one[] = {1};
    emit_arg_in(p, 0, one, 1, ERRNO(EPERM), SECCOMP_RET_ALLOW);
    return;
  }
  case RULE_PERSONALITY: {
    /* Docker's values: PER_LINUX, PER_LINUX32, UNAME26 with each, and 0xffffffff (a query) */
    static const uint32_t ok[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
    emit_arg_in(p, 0, ok, 5, SECCOMP_RET_ALLOW, ERRNO(EPERM));
    return;
  }
  }
  RET(p, ERRNO(EPERM));
}

struct range {
  uint32_t lo; /* first number of the range; it ends where the next begins */
  enum rule rule;
};

/* A binary search over ranges[lo..hi] (the number in the accumulator). Jumps are forward only;
 * a conditional jump reaches 255 instructions at most, so the way to the upper half goes through
 * an unconditional jump (32-bit offset). */
static void emit_tree(struct prog *p, const struct range *r, int lo, int hi) {
  if (lo == hi) return emit_leaf(p, r[lo].rule);
  int mid = (lo + hi + 1) / 2;
  emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, r[mid].lo);
  size_t ja = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
  emit_tree(p, r, lo, mid - 1);
  if (!p->overflow) p->ins[ja].k = (uint32_t)(p->n - ja - 1);
  emit_tree(p, r, mid, hi);
}

#define MAX_NR 1024 /* above every number this table uses */

int seccomp_build(struct sock_filter *buf, size_t cap, int notify) {
  static enum rule by_nr[MAX_NR];
  memset(by_nr, 0, sizeof by_nr);
  int top = 0;
  for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++) {
    int nr = policy[i].nr;
    if (nr < 0 || nr >= MAX_NR) return -ERANGE;
    if (by_nr[nr] && by_nr[nr] != policy[i].rule) return -EINVAL; /* named twice in the policy */
    by_nr[nr] = policy[i].rule;
    if (nr > top) top = nr;
  }
  static struct range ranges[MAX_NR + 1];
  int n = 0;
  for (int nr = 0; nr <= top; nr++)
    if (!n || by_nr[nr] != ranges[n - 1].rule) ranges[n++] = (struct range){(uint32_t)nr, by_nr[nr]};
  ranges[n++] = (struct range){(uint32_t)top + 1, RULE_ENOSYS};

  struct prog p = {.ins = buf, .cap = cap, .notify = notify};
  LD(&p, OFF_ARCH);
  JEQ(&p, AUDIT_ARCH_NATIVE, 1, 0);
  RET(&p, SECCOMP_RET_KILL_PROCESS);
  LD(&p, OFF_NR);
#if defined(__x86_64__)
  /* x32 calls: the same architecture value, numbers with bit 30 set */
  JSET(&p, 0x40000000, 0, 1);
  RET(&p, ERRNO(ENOSYS));
#endif
  emit_tree(&p, ranges, 0, n - 1);
  return p.overflow ? -E2BIG : (int)p.n;
}

/* The helper builds the program once, before it clones; the child (a copy of the helper, or with
 * CLONE_VM the helper's own memory) installs it just before its execve. */
static struct sock_filter prepared[4096]; /* BPF_MAXINSNS */
static int prepared_len, prepared_notify;

static int install(struct trace_buf *t, int who);

int seccomp_prepare(int notify) {
  int n = seccomp_build(prepared, sizeof prepared / sizeof prepared[0], notify);
  if (n < 0) return n;
  prepared_len = n, prepared_notify = notify;
  return n;
}

/* Installs the prepared filter on the calling thread (single-threaded: no TSYNC needed). The
 * caller is root in the lab's user namespace, so no_new_privs is not needed (seccomp(2): CAP_SYS_ADMIN
 * in its own namespace suffices), and NoNewPrivs stays 0 for setuid programs the lessons show.
 * Returns the listener fd when tracing, 0 otherwise, or -errno. */
int seccomp_apply(struct trace_buf *t, int who) {
  if (prepared_len <= 0) return -EINVAL;
  int rc = install(t, who);
  if (rc < 0 && prepared_notify && (rc == -EINVAL || rc == -EBUSY)) {
    /* a kernel without listeners (before 5.0), or one already on this task: no tracing, same rules */
    if ((rc = seccomp_prepare(0)) < 0) return rc;
    rc = install(t, who);
  }
  return rc;
}

static int install(struct trace_buf *t, int who) {
  struct sock_fprog fp = {.len = (unsigned short)prepared_len, .filter = prepared};
  unsigned flags = prepared_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  struct trace_rec *r = tr_begin(t, who, "seccomp");
  tr_raw(r, "SECCOMP_SET_MODE_FILTER");
  tr_raw(r, prepared_notify ? "SECCOMP_FILTER_FLAG_NEW_LISTENER" : "0");
  char num[16];
  s_u64(num, sizeof num, (unsigned)prepared_len);
  tr_raw(r, "{len=");
  if (r) s_cat(r->args, sizeof r->args, num), s_cat(r->args, sizeof r->args, " instructions}");
  long rc = tr_end(r, syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp));
  return rc < 0 ? -errno : (int)rc;
}
