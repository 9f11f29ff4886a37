import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { cgroupMounts, lockStateDir, recover, StateDirBusyError } from "./recovery.ts";

test("every cgroup hierarchy is found, v1 and v2", () => {
  const mi = [
    "24 1 0:22 / /sys rw - sysfs sysfs rw",
    "30 25 0:26 / /sys/fs/cgroup/pids rw,relatime shared:10 - cgroup cgroup rw,pids",
    "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct",
    "33 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:13 - cgroup2 cgroup2 rw,nsdelegate",
    "34 25 0:30 / /sys/fs/cgroup/systemd rw,relatime shared:14 - cgroup cgroup rw,xattr,name=systemd",
  ].join("\n");
  assert.deepEqual(cgroupMounts(mi), ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"]);
});

test("one live server per state directory; a dead one's lock is taken over", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-lock-"));
  try {
    const release = lockStateDir(dir);
    assert.throws(() => lockStateDir(dir), (e: unknown) => e instanceof StateDirBusyError && /another nslab server \(pid \d+\)/.test(e.message));
    release();
    lockStateDir(dir)();
    // a lock left by a process that is gone (kill -9 leaves one)
    const dead = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(path.join(dir, "server.lock"), `${dead} 12345`);
    const again = lockStateDir(dir);
    assert.match(fs.readFileSync(path.join(dir, "server.lock"), "utf8"), new RegExp(`^${process.pid} `));
    again();
    assert.equal(fs.existsSync(path.join(dir, "server.lock")), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the state directory: nslab's own entries go, nothing else is touched", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-state-"));
  try {
    fs.mkdirSync(path.join(dir, "etc", "nslab"), { recursive: true });
    fs.writeFileSync(path.join(dir, "etc", "passwd"), "x");
    fs.mkdirSync(path.join(dir, "root"));
    fs.writeFileSync(path.join(dir, "operator-notes.txt"), "mine");
    const r = await recover({ stateDir: dir, cgroupParent: "nslab-none-such", uids: null, mountinfo: "" });
    assert.deepEqual(r, { cgroups: 0, processes: 0, stateEntries: 2 });
    assert.deepEqual(fs.readdirSync(dir), ["operator-notes.txt"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
