import "server-only";

/**
 * The lab spec (native/src/spec.c parses it): what the server asks the C core to build (a lab) or
 * start (a process in a lab), built here from typed objects. On the wire it is lines of a key and
 * its values separated by tabs, with \\, newline and tab escaped in values.
 *
 * SPEC_KEYS is the one list of keys and how many values each takes; it mirrors spec.c key for key
 * (spec.test.ts reads spec.c and compares). A key the C side gains is added there, then given a
 * field in LabSpec or SpawnSpec below.
 */
export const SPEC_KEYS = {
  // the lab (nslab_lab_create)
  hostname: 1,
  domainname: 1,
  uid_map: 1,
  gid_map: 1,
  setgroups: 1,
  timens: 1,
  init_fd: 1,
  cgroup: 1,
  root: 2,
  // a lab's first shell, started with it (with arg, env, cwd, size, stdio and trace_syscalls)
  shell_cgroup: 1,
  ns_env: 1,
  // a process in a lab (nslab_spawn)
  lab: 2,
  stdio: 1,
  size: 2,
  trace_syscalls: 1,
  cwd: 1,
  arg: 1,
  env: 1,
  // the lab's mount steps, in order (native/src/mnt.c)
  tmpfs: 2,
  "ro-bind": 2,
  bind: 2,
  "dev-bind": 2,
  dir: 2,
  symlink: 2,
  copy: 3,
  proc: 1,
  sysfs: 1,
  devpts: 2,
  mqueue: 1,
  "remount-ro": 1,
} as const;
export type SpecKey = keyof typeof SPEC_KEYS;

/** One id map line of uid_map / gid_map (user_namespaces(7)): `count` ids from `inside` onto `outside`. */
export interface IdMap {
  inside: number;
  outside: number;
  count: number;
}

/** One step of building the lab's root, in order. */
export type MountStep =
  | { op: "tmpfs"; path: string; options: string }
  | { op: "ro-bind" | "bind" | "dev-bind"; src: string; path: string }
  | { op: "dir"; path: string; mode: number }
  | { op: "symlink"; target: string; path: string }
  | { op: "copy"; src: string; path: string; mode: number }
  | { op: "proc" | "sysfs" | "mqueue" | "remount-ro"; path: string }
  | { op: "devpts"; path: string; options: string };

/** nslab_lab_create: a new lab (its namespaces, its root, its init). */
export interface LabSpec {
  hostname: string;
  domainname: string;
  uidMap: IdMap;
  gidMap: IdMap;
  /** "deny" before writing gid_map without privilege (CVE-2014-8989) */
  setgroups: "allow" | "deny";
  timens: boolean;
  /** fd of the sealed nslab-init memfd the lab's first process executes */
  initFd: number;
  /** cgroup.procs files the lab's first process is written into before it runs */
  cgroupProcs: string[];
  /** the staging mount point and the options of the tmpfs that becomes the lab's root */
  root: { dir: string; options: string };
  mounts: MountStep[];
  /** a process the same native call starts in the lab on a pty right after its init (its first shell) */
  shell?: FirstShellSpec;
}

/**
 * A lab's first shell, started by the helper that made the lab as soon as its init runs (native
 * src/spawn.c shell_local), as nslab_spawn would start it, without a second helper.
 */
export interface FirstShellSpec {
  size: { rows: number; cols: number };
  traceSyscalls?: boolean;
  cwd: string;
  /** cgroup.procs files the shell is born in, beyond the lab's own first ones (v2: its leaf) */
  cgroupProcs: string[];
  argv: string[];
  env: string[];
  /** the variable that is told the lab's namespaces ("type:inode " each, as bash.bashrc records them) */
  nsEnv?: string;
}

/** nslab_spawn: a process in a running lab. */
export interface SpawnSpec {
  lab: { pid: number; pidfd: number };
  stdio: "pty" | "pipes";
  /** the pty's size (pty only) */
  size?: { rows: number; cols: number };
  /** report the process's namespace calls through a seccomp listener (native/src/tracer.c) */
  traceSyscalls?: boolean;
  setgroups: "allow" | "deny";
  timens: boolean;
  cwd: string;
  cgroupProcs: string[];
  argv: string[];
  env: string[];
}

type Line = [SpecKey, ...(string | number)[]];

function line([key, ...values]: Line): string {
  if (values.length !== SPEC_KEYS[key]) throw new Error(`lab spec: ${key} takes ${SPEC_KEYS[key]} values, got ${values.length}`);
  const text = values.map(String);
  for (const v of text) if (v.includes("\0")) throw new Error(`lab spec value contains a NUL: ${JSON.stringify(v.slice(0, 80))}`);
  return [key, ...text.map((v) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t"))].join("\t");
}

const text = (lines: Line[]): string => lines.map(line).join("\n") + "\n";
const idMap = (m: IdMap): string => `${m.inside} ${m.outside} ${m.count}`;
const octal = (mode: number): string => "0" + mode.toString(8);

function mountLine(m: MountStep): Line {
  switch (m.op) {
    case "tmpfs":
    case "devpts":
      return [m.op, m.path, m.options];
    case "ro-bind":
    case "bind":
    case "dev-bind":
      return [m.op, m.src, m.path];
    case "dir":
      return [m.op, m.path, octal(m.mode)];
    case "symlink":
      return [m.op, m.target, m.path];
    case "copy":
      return [m.op, m.src, m.path, octal(m.mode)];
    case "proc":
    case "sysfs":
    case "mqueue":
    case "remount-ro":
      return [m.op, m.path];
  }
}

export function labSpecText(s: LabSpec): string {
  return text([
    ["hostname", s.hostname],
    ["domainname", s.domainname],
    ["uid_map", idMap(s.uidMap)],
    ["gid_map", idMap(s.gidMap)],
    ["setgroups", s.setgroups],
    ["timens", s.timens ? 1 : 0],
    ["init_fd", s.initFd],
    ...s.cgroupProcs.map((f): Line => ["cgroup", f]),
    ["root", s.root.dir, s.root.options],
    ...s.mounts.map(mountLine),
    ...(s.shell ? firstShellLines(s.shell) : []),
  ]);
}

function firstShellLines(s: FirstShellSpec): Line[] {
  return [
    ["stdio", "pty"],
    ["size", s.size.rows, s.size.cols],
    ["cwd", s.cwd],
    ...s.cgroupProcs.map((f): Line => ["shell_cgroup", f]),
    ...s.argv.map((a): Line => ["arg", a]),
    ...s.env.map((e): Line => ["env", e]),
    ...(s.nsEnv ? [["ns_env", s.nsEnv] as Line] : []),
    ...(s.traceSyscalls ? [["trace_syscalls", 1] as Line] : []),
  ];
}

export function spawnSpecText(s: SpawnSpec): string {
  return text([
    ["lab", s.lab.pid, s.lab.pidfd],
    ["stdio", s.stdio],
    ["setgroups", s.setgroups],
    ["timens", s.timens ? 1 : 0],
    ["cwd", s.cwd],
    ...s.cgroupProcs.map((f): Line => ["cgroup", f]),
    ...s.argv.map((a): Line => ["arg", a]),
    ...s.env.map((e): Line => ["env", e]),
    ...(s.size ? [["size", s.size.rows, s.size.cols] as Line] : []),
    ...(s.traceSyscalls ? [["trace_syscalls", 1] as Line] : []),
  ]);
}
