/* The syscall trace: what the backend did for a lab, shown to learners as "what just happened".
 * Records live in a MAP_SHARED page so that a cloned child's records reach the parent; they are
 * written with async-signal-safe formatting only. */
#include "internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <time.h>

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct trace_buf *trace_new(void) {
  void *p = mmap(NULL, sizeof(struct trace_buf), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED) return NULL;
  struct trace_buf *t = p;
  t->origin_ns = now_ns();
  return t;
}

void trace_free(struct trace_buf *t) {
  if (t) munmap(t, sizeof *t);
}

struct trace_rec *tr_begin(struct trace_buf *t, int who, const char *sys) {
  if (!t) return NULL;
  /* parent and child never write at the same time: the sync pipe orders them */
  if (t->n >= TRACE_MAX) {
    t->dropped++;
    return NULL;
  }
  struct trace_rec *r = &t->rec[t->n++];
  s_cpy(r->sys, sizeof r->sys, sys);
  r->args[0] = 0;
  r->who = who;
  r->ret = 0;
  r->err = 0;
  r->t_ns = now_ns();
  return r;
}

static void sep(struct trace_rec *r) {
  if (r->args[0]) s_cat(r->args, sizeof r->args, ", ");
}

void tr_raw(struct trace_rec *r, const char *s) {
  if (!r) return;
  sep(r);
  s_cat(r->args, sizeof r->args, s ? s : "NULL");
}

void tr_str(struct trace_rec *r, const char *s) {
  if (!r) return;
  sep(r);
  if (!s) {
    s_cat(r->args, sizeof r->args, "NULL");
    return;
  }
  s_cat(r->args, sizeof r->args, "\"");
  s_cat(r->args, sizeof r->args, s);
  s_cat(r->args, sizeof r->args, "\"");
}

void tr_int(struct trace_rec *r, long long v) {
  if (!r) return;
  char num[24];
  sep(r);
  if (v < 0) s_cat(r->args, sizeof r->args, "-"), v = -v;
  s_cat(r->args, sizeof r->args, s_u64(num, sizeof num, (unsigned long long)v));
}

struct flag_name {
  unsigned long long bit;
  const char *name;
};

static const struct flag_name clone_flags[] = {
    {CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWPID, "CLONE_NEWPID"},
    {CLONE_NEWNS, "CLONE_NEWNS"},     {CLONE_NEWUTS, "CLONE_NEWUTS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"},   {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
#ifdef CLONE_NEWTIME
    {CLONE_NEWTIME, "CLONE_NEWTIME"},
#endif
    {CLONE_PIDFD, "CLONE_PIDFD"},     {CLONE_VM, "CLONE_VM"},
    {CLONE_VFORK, "CLONE_VFORK"},     {CLONE_PARENT, "CLONE_PARENT"},
    {0, 0}};
static const struct flag_name mount_flags[] = {
    {MS_RDONLY, "MS_RDONLY"},   {MS_NOSUID, "MS_NOSUID"},       {MS_NODEV, "MS_NODEV"},
    {MS_NOEXEC, "MS_NOEXEC"},   {MS_REMOUNT, "MS_REMOUNT"},     {MS_BIND, "MS_BIND"},
    {MS_REC, "MS_REC"},         {MS_PRIVATE, "MS_PRIVATE"},     {MS_SLAVE, "MS_SLAVE"},
    {MS_SHARED, "MS_SHARED"},   {MS_UNBINDABLE, "MS_UNBINDABLE"}, {MS_NOATIME, "MS_NOATIME"},
    {MS_RELATIME, "MS_RELATIME"}, {MS_NODIRATIME, "MS_NODIRATIME"}, {0, 0}};
static const struct flag_name open_flags[] = {
    {O_WRONLY, "O_WRONLY"}, {O_RDWR, "O_RDWR"},       {O_CREAT, "O_CREAT"},
    {O_EXCL, "O_EXCL"},     {O_NOCTTY, "O_NOCTTY"},   {O_NONBLOCK, "O_NONBLOCK"},
    {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},     {O_DIRECTORY, "O_DIRECTORY"},
    {O_NOFOLLOW, "O_NOFOLLOW"}, {0, 0}};
static const struct flag_name mount_attr_flags[] = {
    {MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"}, {MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
    {MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"},   {MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"},
    {0, 0}};
static const struct flag_name umount_flags[] = {{MNT_DETACH, "MNT_DETACH"}, {0, 0}};

void tr_flags(struct trace_rec *r, unsigned long long v, int table) {
  if (!r) return;
  const struct flag_name *f = table == FT_CLONE       ? clone_flags
                              : table == FT_MOUNT     ? mount_flags
                              : table == FT_OPEN      ? open_flags
                              : table == FT_MOUNT_ATTR ? mount_attr_flags
                                                      : umount_flags;
  sep(r);
  int any = 0;
  for (; f->name; f++) {
    if ((v & f->bit) != f->bit) continue;
    if (any) s_cat(r->args, sizeof r->args, "|");
    s_cat(r->args, sizeof r->args, f->name);
    v &= ~f->bit;
    any = 1;
  }
  if (v || !any) {
    char num[24];
    if (any) s_cat(r->args, sizeof r->args, "|");
    s_cat(r->args, sizeof r->args, s_u64(num, sizeof num, v));
  }
}

/* write_file(), recorded as one "write" of `data` to `path` */
int tr_write_file(struct trace_buf *t, int who, const char *path, const char *data) {
  struct trace_rec *r = tr_begin(t, who, "write");
  tr_str(r, path);
  tr_str(r, data);
  int rc = write_file(path, data);
  if (rc < 0) errno = -rc;
  tr_end(r, rc < 0 ? -1 : 0);
  return rc;
}

long tr_end(struct trace_rec *r, long ret) {
  int saved = errno;
  if (r) {
    r->dur_ns = now_ns() - r->t_ns;
    r->ret = ret;
    r->err = ret < 0 ? saved : 0;
  }
  errno = saved;
  return ret;
}

/* ---- JSON output (parent only) ---- */
void out_init(struct out *o, char *buf, size_t cap) {
  o->buf = buf, o->cap = cap, o->len = 0;
  if (cap) buf[0] = 0;
}

static void out_ch(struct out *o, char c) {
  if (o->len + 1 < o->cap) o->buf[o->len++] = c, o->buf[o->len] = 0;
}

void out_raw(struct out *o, const char *s) {
  while (s && *s) out_ch(o, *s++);
}

void out_str(struct out *o, const char *s) {
  static const char hex[] = "0123456789abcdef";
  out_ch(o, '"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') out_ch(o, '\\'), out_ch(o, (char)c);
    else if (c < 0x20) {
      out_raw(o, "\\u00");
      out_ch(o, hex[c >> 4]);
      out_ch(o, hex[c & 15]);
    } else out_ch(o, (char)c);
  }
  out_ch(o, '"');
}

void out_int(struct out *o, long long v) {
  char num[24];
  if (v < 0) out_ch(o, '-'), v = -v;
  out_raw(o, s_u64(num, sizeof num, (unsigned long long)v));
}

void out_trace(struct out *o, const struct trace_buf *t) {
  static const char *who[] = {"server", "child", "shell"};
  out_raw(o, "[");
  for (uint32_t i = 0; t && i < t->n; i++) {
    const struct trace_rec *r = &t->rec[i];
    if (i) out_raw(o, ",");
    out_raw(o, "{\"sys\":");
    out_str(o, r->sys);
    out_raw(o, ",\"args\":");
    out_str(o, r->args);
    out_raw(o, ",\"ret\":");
    out_int(o, r->ret);
    out_raw(o, ",\"errno\":");
    out_int(o, r->err);
    out_raw(o, ",\"who\":");
    out_str(o, who[r->who < 3 && r->who >= 0 ? r->who : 0]);
    out_raw(o, ",\"atNs\":");
    out_int(o, (long long)(r->t_ns - t->origin_ns));
    out_raw(o, ",\"durNs\":");
    out_int(o, (long long)r->dur_ns);
    out_raw(o, "}");
  }
  out_raw(o, "]");
  if (t && t->dropped) {
    out_raw(o, ",\"traceDropped\":");
    out_int(o, t->dropped);
  }
}

int out_error(char *buf, size_t cap, const char *step, int err, const char *detail,
              const struct trace_buf *t) {
  struct out o;
  out_init(&o, buf, cap);
  out_raw(&o, "{\"ok\":false,\"step\":");
  out_str(&o, step);
  out_raw(&o, ",\"errno\":");
  out_int(&o, err < 0 ? -err : err);
  out_raw(&o, ",\"detail\":");
  out_str(&o, detail ? detail : "");
  out_raw(&o, ",\"trace\":");
  out_trace(&o, t);
  out_raw(&o, "}");
  return err < 0 ? err : -err;
}
