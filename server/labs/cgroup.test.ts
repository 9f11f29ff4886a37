import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { detectCgroups } from "./cgroup.ts";

test("detects cgroup v1 controller hierarchies from mountinfo", () => {
  const mi = [
    "30 25 0:26 / /sys/fs/cgroup/pids rw,relatime shared:10 - cgroup cgroup rw,pids",
    "31 25 0:27 / /sys/fs/cgroup/memory rw,relatime shared:11 - cgroup cgroup rw,memory",
    "32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct",
    "34 25 0:30 / /sys/fs/cgroup/freezer rw,relatime shared:14 - cgroup cgroup rw,freezer",
    "33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:13 - cgroup2 cgroup2 rw",
  ].join("\n");
  const L = detectCgroups(mi);
  assert.equal(L.version, 1);
  assert.deepEqual(L.version === 1 && L.mounts, { pids: "/sys/fs/cgroup/pids", memory: "/sys/fs/cgroup/memory", cpu: "/sys/fs/cgroup/cpu,cpuacct", freezer: "/sys/fs/cgroup/freezer" });
});

test("without pids and memory there are no limits, and it says why", () => {
  const L = detectCgroups("33 25 0:29 / /nonexistent/cgroup rw - cgroup2 cgroup2 rw\n");
  assert.equal(L.version, 0);
  assert.match(L.version === 0 ? L.reason : "", /pids and memory/);
});

test("this machine's own layout is recognised", () => {
  const L = detectCgroups(fs.readFileSync("/proc/self/mountinfo", "utf8"));
  assert.notEqual(L.version, 0, "the test host must have a cgroup hierarchy with pids and memory");
});
