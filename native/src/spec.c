/* The lab spec: a line-oriented text the server builds (policy), parsed here once in the parent
 * (mechanism), so that the cloned child only reads ready-made structs. Each line is a key and its
 * arguments separated by tabs; see docs/architecture.md for the keys. */
#include "internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, int line, const char *msg, const char *key) {
  snprintf(err, errlen, "spec line %d: %s%s%s", line, msg, key ? ": " : "", key ? key : "");
  return -EINVAL;
}

static int to_uint(const char *s, unsigned long max, unsigned long *v) {
  char *end;
  errno = 0;
  unsigned long x = strtoul(s, &end, 0);
  if (errno || *end || end == s || x > max) return -EINVAL;
  *v = x;
  return 0;
}

static const struct {
  const char *key;
  enum op_kind kind;
  int nargs;
} op_keys[] = {
    {"tmpfs", OP_TMPFS, 2},   {"ro-bind", OP_RO_BIND, 2}, {"bind", OP_BIND, 2},
    {"dev-bind", OP_DEV_BIND, 2}, {"dir", OP_DIR, 2},     {"symlink", OP_SYMLINK, 2},
    {"copy", OP_COPY, 3},     {"proc", OP_PROC, 1},       {"sysfs", OP_SYSFS, 1},
    {"devpts", OP_DEVPTS, 2}, {"mqueue", OP_MQUEUE, 1},   {"remount-ro", OP_REMOUNT_RO, 1},
};

/* Values may hold newlines (a script for `bash -c`): the server escapes \n, \t and \\ in
 * them, and they are unescaped here, in place. */
static void unescape(char *v) {
  char *w = v;
  for (char *r = v; *r; r++) {
    if (*r == '\\' && (r[1] == 'n' || r[1] == 't' || r[1] == '\\')) {
      r++;
      *w++ = *r == 'n' ? '\n' : *r == 't' ? '\t' : '\\';
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
}

/* path is dir or below it */
static int under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/') return 1;
  return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

/* Which steps the lab's first process must do itself (see struct mount_op). The helper does the
 * others first, so a host step may not cover something a lab step made earlier in the spec: that
 * order would be reversed. */
static int assign_sides(struct spec *s, char *err, size_t errlen) {
  for (int i = 0; i < s->n_ops; i++) {
    struct mount_op *op = &s->ops[i];
    op->in_lab = op->kind == OP_PROC || op->kind == OP_SYSFS || op->kind == OP_DEVPTS ||
                 op->kind == OP_MQUEUE;
    for (int j = 0; j < i && !op->in_lab; j++)
      if (s->ops[j].in_lab && under(op->dst, s->ops[j].dst)) op->in_lab = 1;
    for (int j = 0; j < i && !op->in_lab; j++)
      if (s->ops[j].in_lab && under(s->ops[j].dst, op->dst) && op->kind != OP_SYMLINK &&
          op->kind != OP_DIR && op->kind != OP_COPY) {
        snprintf(err, errlen, "spec: %s would cover %s, which the lab mounts itself: list it first", op->dst,
                 s->ops[j].dst);
        return -EINVAL;
      }
  }
  return 0;
}

/* the host id a map gives to id 0 ("0 HOST COUNT" on its first line), or -1 */
static long host_id_of_root(const char *map) {
  if (!map) return -1;
  char *end;
  if (strtoul(map, &end, 10) != 0 || end == map) return -1;
  unsigned long host = strtoul(end, &end, 10);
  return host > 0xfffffffful ? -1 : (long)host;
}

int spec_parse(struct spec *s, const char *text, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->init_fd = -1;
  s->lab_pidfd = -1;
  s->rows = 24, s->cols = 80;
  s->text = strdup(text ? text : "");
  if (!s->text) return -ENOMEM;
  int lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(s->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    if (!*line || *line == '#') continue;
    char *a[4] = {0};
    int n = 0;
    char *p = line;
    while (n < 4) {
      a[n++] = p;
      char *tab = strchr(p, '\t');
      if (!tab) break;
      *tab = 0;
      p = tab + 1;
    }
    for (int i = 1; i < n; i++) unescape(a[i]);
    const char *key = a[0];
    int nargs = n - 1;
    unsigned long v;
#define NEED(k) \
  if (nargs != (k)) return fail(err, errlen, lineno, "wrong number of arguments", key)
    if (!strcmp(key, "hostname")) { NEED(1); s->hostname = a[1]; }
    else if (!strcmp(key, "domainname")) { NEED(1); s->domainname = a[1]; }
    else if (!strcmp(key, "root")) { NEED(2); s->root = a[1]; s->root_opts = a[2]; }
    else if (!strcmp(key, "uid_map")) { NEED(1); s->uid_map = a[1]; }
    else if (!strcmp(key, "gid_map")) { NEED(1); s->gid_map = a[1]; }
    else if (!strcmp(key, "setgroups")) {
      NEED(1);
      if (strcmp(a[1], "deny") && strcmp(a[1], "allow"))
        return fail(err, errlen, lineno, "setgroups must be allow or deny", a[1]);
      s->setgroups_deny = !strcmp(a[1], "deny");
    } else if (!strcmp(key, "timens")) { NEED(1); s->ns_time = !strcmp(a[1], "1"); }
    else if (!strcmp(key, "init_fd")) {
      NEED(1);
      if (to_uint(a[1], 1 << 20, &v)) return fail(err, errlen, lineno, "bad fd", a[1]);
      s->init_fd = (int)v;
    } else if (!strcmp(key, "cgroup")) {
      NEED(1);
      if (s->n_cgroups >= MAX_CGROUPS) return fail(err, errlen, lineno, "too many cgroups", 0);
      s->cgroup_procs[s->n_cgroups++] = a[1];
    } else if (!strcmp(key, "shell_cgroup")) {
      NEED(1);
      if (s->n_shell_cgroups >= MAX_CGROUPS) return fail(err, errlen, lineno, "too many cgroups", 0);
      s->shell_cgroups[s->n_shell_cgroups++] = a[1];
    } else if (!strcmp(key, "ns_env")) {
      NEED(1);
      if (!*a[1] || strchr(a[1], '=')) return fail(err, errlen, lineno, "ns_env needs a variable name", a[1]);
      s->ns_env = a[1];
    } else if (!strcmp(key, "lab")) {
      NEED(2);
      if (to_uint(a[1], 1 << 30, &v)) return fail(err, errlen, lineno, "bad pid", a[1]);
      s->lab_pid = (pid_t)v;
      if (to_uint(a[2], 1 << 20, &v)) return fail(err, errlen, lineno, "bad pidfd", a[2]);
      s->lab_pidfd = (int)v;
    } else if (!strcmp(key, "stdio")) {
      NEED(1);
      if (strcmp(a[1], "pty") && strcmp(a[1], "pipes"))
        return fail(err, errlen, lineno, "stdio must be pty or pipes", a[1]);
      s->pty = !strcmp(a[1], "pty");
    } else if (!strcmp(key, "size")) {
      NEED(2);
      unsigned long r, c;
      if (to_uint(a[1], 1000, &r) || to_uint(a[2], 1000, &c) || !r || !c)
        return fail(err, errlen, lineno, "size must be 1..1000 rows and columns", 0);
      s->rows = (unsigned short)r, s->cols = (unsigned short)c;
    } else if (!strcmp(key, "trace_syscalls")) { NEED(1); s->trace_syscalls = !strcmp(a[1], "1"); }
    else if (!strcmp(key, "cwd")) { NEED(1); s->cwd = a[1]; }
    else if (!strcmp(key, "arg")) {
      NEED(1);
      if (s->argc >= MAX_ARGS) return fail(err, errlen, lineno, "too many arguments", 0);
      s->argv[s->argc++] = a[1];
    } else if (!strcmp(key, "env")) {
      NEED(1);
      if (s->envc >= MAX_ENV) return fail(err, errlen, lineno, "too many variables", 0);
      if (!strchr(a[1], '=')) return fail(err, errlen, lineno, "env needs NAME=value", a[1]);
      s->envp[s->envc++] = a[1];
    } else {
      size_t k;
      for (k = 0; k < sizeof op_keys / sizeof op_keys[0]; k++)
        if (!strcmp(key, op_keys[k].key)) break;
      if (k == sizeof op_keys / sizeof op_keys[0])
        return fail(err, errlen, lineno, "unknown key", key);
      NEED(op_keys[k].nargs);
      if (s->n_ops >= MAX_OPS) return fail(err, errlen, lineno, "too many mount steps", 0);
      struct mount_op *op = &s->ops[s->n_ops++];
      op->kind = op_keys[k].kind;
      switch (op->kind) {
      case OP_TMPFS: case OP_DEVPTS: op->dst = a[1]; op->data = a[2]; break;
      case OP_PROC: case OP_SYSFS: case OP_MQUEUE: case OP_REMOUNT_RO: op->dst = a[1]; break;
      case OP_DIR:
        op->dst = a[1];
        if (to_uint(a[2], 07777, &v)) return fail(err, errlen, lineno, "bad mode", a[2]);
        op->mode = (unsigned)v;
        break;
      case OP_COPY:
        op->src = a[1], op->dst = a[2];
        if (to_uint(a[3], 07777, &v)) return fail(err, errlen, lineno, "bad mode", a[3]);
        op->mode = (unsigned)v;
        break;
      default: op->src = a[1], op->dst = a[2]; break;
      }
      if (op->dst[0] != '/' || strstr(op->dst, ".."))
        return fail(err, errlen, lineno, "destination must be absolute, without ..", op->dst);
    }
#undef NEED
  }
  s->argv[s->argc] = NULL;
  s->envp[s->envc] = NULL;
  s->lab_uid = host_id_of_root(s->uid_map);
  s->lab_gid = host_id_of_root(s->gid_map);
  return assign_sides(s, err, errlen);
}

void spec_free(struct spec *s) {
  free(s->text);
  s->text = NULL;
}
