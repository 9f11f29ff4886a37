import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { labSpecText, SPEC_KEYS, spawnSpecText, type SpawnSpec } from "./spec.ts";

const specC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../native/src/spec.c");

/** The keys spec.c accepts and how many values each takes, read from its source. */
function keysOfSpecC(): Record<string, number> {
  const c = fs.readFileSync(specC, "utf8");
  const keys: Record<string, number> = {};
  // `!strcmp(key, "hostname")) { NEED(1); …`
  for (const m of c.matchAll(/strcmp\(key, "([a-z_-]+)"\)\)\s*\{\s*NEED\((\d+)\)/g)) keys[m[1]!] = Number(m[2]);
  // the mount steps' table: `{"tmpfs", OP_TMPFS, 2}`
  for (const m of c.matchAll(/\{"([a-z_-]+)",\s*OP_[A-Z_]+,\s*(\d+)\}/g)) keys[m[1]!] = Number(m[2]);
  return keys;
}

test("SPEC_KEYS mirrors native/src/spec.c key for key, with the same number of values", () => {
  const c = keysOfSpecC();
  assert.ok(Object.keys(c).length >= 20, `found the keys in spec.c: ${Object.keys(c).join(" ")}`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(SPEC_KEYS).sort()),
    Object.fromEntries(Object.entries(c).sort()),
    "a key added (or changed) on one side only: add it to SPEC_KEYS and give it a field in LabSpec or SpawnSpec",
  );
});

test("a spawn spec: one line per key, values tab-separated, backslash, newline and tab escaped", () => {
  const s: SpawnSpec = {
    lab: { pid: 42, pidfd: 9 },
    stdio: "pty",
    size: { rows: 24, cols: 80 },
    setgroups: "deny",
    timens: true,
    cwd: "/root",
    cgroupProcs: ["/sys/fs/cgroup/nslab/x/init/cgroup.procs"],
    argv: ["/bin/bash", "-c", "printf 'a\\tb\\n'\necho c\\d"],
    env: ["HOME=/root"],
  };
  assert.equal(
    spawnSpecText(s),
    [
      "lab\t42\t9",
      "stdio\tpty",
      "setgroups\tdeny",
      "timens\t1",
      "cwd\t/root",
      "cgroup\t/sys/fs/cgroup/nslab/x/init/cgroup.procs",
      "arg\t/bin/bash",
      "arg\t-c",
      "arg\tprintf 'a\\\\tb\\\\n'\\necho c\\\\d",
      "env\tHOME=/root",
      "size\t24\t80",
      "",
    ].join("\n"),
  );
  assert.throws(() => spawnSpecText({ ...s, argv: ["a\0b"] }), /NUL/);
});

test("a lab spec: maps, modes in octal, mount steps in order", () => {
  const text = labSpecText({
    hostname: "lab-abc",
    domainname: "(none)",
    uidMap: { inside: 0, outside: 1_000_000_000, count: 65536 },
    gidMap: { inside: 0, outside: 1_000_000_000, count: 65536 },
    setgroups: "allow",
    timens: false,
    initFd: 7,
    cgroupProcs: [],
    root: { dir: "/run/nslab/root", options: "size=1" },
    mounts: [
      { op: "ro-bind", src: "/usr", path: "/usr" },
      { op: "dir", path: "/tmp", mode: 0o1777 },
      { op: "copy", src: "/run/nslab/etc/passwd", path: "/etc/passwd", mode: 0o644 },
      { op: "symlink", target: "pts/ptmx", path: "/dev/ptmx" },
      { op: "proc", path: "/proc" },
    ],
  });
  assert.deepEqual(text.trim().split("\n"), [
    "hostname\tlab-abc",
    "domainname\t(none)",
    "uid_map\t0 1000000000 65536",
    "gid_map\t0 1000000000 65536",
    "setgroups\tallow",
    "timens\t0",
    "init_fd\t7",
    "root\t/run/nslab/root\tsize=1",
    "ro-bind\t/usr\t/usr",
    "dir\t/tmp\t01777",
    "copy\t/run/nslab/etc/passwd\t/etc/passwd\t0644",
    "symlink\tpts/ptmx\t/dev/ptmx",
    "proc\t/proc",
  ]);
});
