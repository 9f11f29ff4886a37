/**
 * The doctor's detection on fake /proc and /sys trees: Ubuntu 24.04 (AppArmor's user namespace
 * restriction, with and without nslab's profile), Debian 12 (cgroup v2 with nsdelegate, systemd),
 * v2 without nsdelegate or without the memory controller, a unit without Delegate=yes, v1, and
 * hosts short of memory. Every problem comes with its exact fix.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { checkAppArmor, checkCgroups, checkMemory, hostAt, type Finding, type Host } from "./checks.ts";

const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** A fake host: files under a temp root, and systemctl answering from `units`. */
function fakeHost(files: Record<string, string>, units: Record<string, string> | null = null, calls: string[][] = []): Host {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-doctor-"));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  return hostAt(root, (cmd, args) => {
    calls.push([cmd, ...args]);
    if (cmd !== "systemctl" || units === null) return null;
    const unit = args.at(-1)!;
    return { status: 0, stdout: units[unit] ?? "LoadState=not-found\nDelegate=no\n" };
  });
}

const HELPER = "/opt/nslab/native/build/nslab-helper";
const aa = (h: Host, rootMode = true, repoRoot = "/opt/nslab") => checkAppArmor(h, { helperPath: path.join(repoRoot, "native/build/nslab-helper"), repoRoot, rootMode });
const one = (f: Finding[]) => {
  assert.equal(f.length, 1, JSON.stringify(f));
  return f[0]!;
};

describe("AppArmor (Ubuntu 23.10+)", () => {
  const ubuntu = { "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n", "/sys/kernel/security/apparmor/profiles": "unprivileged_userns (enforce)\nchrome (unconfined)\n" };

  test("Debian 12: no restriction", () => {
    assert.equal(one(aa(fakeHost({}))).level, "ok");
    assert.equal(one(aa(fakeHost({ "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "0\n" }))).level, "ok");
  });

  test("Ubuntu 24.04 without nslab's profile: found, and the fix installs and loads it", () => {
    const f = one(aa(fakeHost(ubuntu)));
    assert.equal(f.level, "warn", "root mode: labs are made, learners' own user namespaces fail");
    assert.match(f.what, /kernel\.apparmor_restrict_unprivileged_userns=1/);
    assert.match(f.detail!, /lesson 9/);
    assert.equal(f.fix, "install -m 644 /opt/nslab/deploy/apparmor/nslab /etc/apparmor.d/nslab\napparmor_parser -r /etc/apparmor.d/nslab");
    assert.equal(one(aa(fakeHost(ubuntu), false)).level, "fail", "rootless mode cannot make labs at all");
  });

  test("installed elsewhere: the fix points the profile at this checkout", () => {
    const f = one(aa(fakeHost(ubuntu), true, "/srv/nslab"));
    assert.equal(f.fix, "sed 's|^@{nslab_root} = .*|@{nslab_root} = /srv/nslab|' /srv/nslab/deploy/apparmor/nslab > /etc/apparmor.d/nslab\napparmor_parser -r /etc/apparmor.d/nslab");
  });

  test("the profile loaded for this helper: fine; loaded for another path: said so", () => {
    const loaded = (attach: string) =>
      fakeHost({
        ...ubuntu,
        "/sys/kernel/security/apparmor/profiles": "nslab-helper (unconfined)\nunprivileged_userns (enforce)\n",
        "/sys/kernel/security/apparmor/policy/profiles/nslab-helper.7/attach": `${attach}\n`,
      });
    assert.equal(one(aa(loaded(HELPER))).level, "ok");
    const wrong = one(aa(loaded("/home/old/nslab/native/build/nslab-helper")));
    assert.equal(wrong.level, "warn");
    assert.match(wrong.detail!, /attaches to \/home\/old\/nslab\/native\/build\/nslab-helper, the helper is \/opt\/nslab\/native\/build\/nslab-helper/);
    assert.match(wrong.fix!, /apparmor_parser -r/);
  });
});

describe("cgroups", () => {
  const V2 = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
  const debian = (mountinfo = V2, controllers = "cpuset cpu io memory hugetlb pids rdma misc\n", self = "0::/user.slice/user-0.slice/session-1.scope\n") => ({
    "/proc/self/mountinfo": mountinfo,
    "/sys/fs/cgroup/cgroup.controllers": controllers,
    "/proc/self/cgroup": self,
  });
  const cg = (h: Host, rootMode = true) => checkCgroups(h, { parent: "nslab", rootMode, unit: "nslab.service" });
  const levels = (f: Finding[]) => f.map((x) => `${x.level} ${x.what}`);

  test("Debian 12 with systemd and nslab.service installed (Delegate=yes): all fine", () => {
    const calls: string[][] = [];
    const f = cg(fakeHost(debian(), { "nslab.service": "LoadState=loaded\nDelegate=yes\n" }, calls));
    assert.deepEqual(levels(f), ["ok cgroup v2", "ok cgroup v2 mounted with nsdelegate", "ok nslab.service has Delegate=yes"]);
    assert.deepEqual(calls, [["systemctl", "show", "--property=LoadState,Delegate", "nslab.service"]]);
  });

  test("without nsdelegate: a warning and the remount", () => {
    const f = cg(fakeHost(debian(V2.replace("nsdelegate,", "")), null));
    const w = f.find((x) => x.level === "warn")!;
    assert.equal(w.what, "cgroup v2 is mounted without nsdelegate");
    assert.match(w.fix!, /^mount -o remount,nsdelegate \/sys\/fs\/cgroup$/m);
  });

  test("without the memory controller: labs would have no memory limit (root mode: a failure)", () => {
    const f = cg(fakeHost(debian(V2, "cpuset cpu io pids\n"), null));
    assert.deepEqual(levels(f), ["fail cgroup v2 without the memory controller"]);
    assert.match(f[0]!.fix!, /cgroup_enable=memory/);
    assert.equal(cg(fakeHost(debian(V2, "cpu pids\n"), null), false)[0]!.level, "warn", "rootless mode has no limits anyway");
  });

  test("a unit without Delegate=yes: found, also from inside the service, with the fix", () => {
    const calls: string[][] = [];
    const f = cg(fakeHost(debian(V2, undefined, "0::/system.slice/labs.service\n"), { "labs.service": "LoadState=loaded\nDelegate=no\n" }, calls));
    assert.deepEqual(calls[0]!.at(-1), "labs.service", "the unit the doctor runs in");
    const bad = f.find((x) => x.level === "fail")!;
    assert.equal(bad.what, "labs.service does not have Delegate=yes");
    assert.equal(bad.fix, "add Delegate=yes to [Service] (deploy/nslab.service has it), then:\nsystemctl daemon-reload && systemctl restart labs.service");
  });

  test("not installed as a service yet: said so, nothing to fix", () => {
    const f = cg(fakeHost(debian(), {}));
    assert.deepEqual(levels(f).at(-1), "ok cgroup delegation: nslab.service is not installed");
  });

  test("v1 (this project's machine) and hybrid hosts use the v1 controllers", () => {
    const v1 = [
      "30 25 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids",
      "31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
      "32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
      "33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate",
    ].join("\n");
    const f = cg(fakeHost({ "/proc/self/mountinfo": v1, "/sys/fs/cgroup/unified/cgroup.controllers": "\n" }, null));
    assert.deepEqual(levels(f), ["ok cgroup v1"]);
    assert.match(f[0]!.detail!, /cpu at \/sys\/fs\/cgroup\/cpu,cpuacct/);
  });

  test("no cgroups at all", () => {
    const f = cg(fakeHost({ "/proc/self/mountinfo": "" }, null));
    assert.equal(f[0]!.level, "fail");
    assert.match(f[0]!.fix!, /mount -t cgroup2 -o nsdelegate/);
  });
});

describe("memory for the configured limits", () => {
  const meminfo = (availMiB: number) => ({ "/proc/meminfo": `MemTotal:       4000000 kB\nMemFree:        100000 kB\nMemAvailable:   ${availMiB * 1024} kB\n` });
  const MiB = 1024 ** 2;
  const mem = (availMiB: number, maxLabs = 120) =>
    checkMemory(fakeHost(meminfo(availMiB)), { maxLabs, memoryBytes: 512 * MiB, reserveBytes: 512 * MiB, idleLabBytes: 8 * MiB });

  test("plenty: fine, and the overcommit is explained", () => {
    const f = mem(20 * 1024);
    assert.deepEqual(f.map((x) => x.level), ["ok", "ok"]);
    assert.match(f[1]!.detail!, /120 labs × 512 MiB = 60\.0 GiB at most, 3\.1× what is free/);
  });

  test("room for fewer idle labs than NSLAB_MAX_LABS: the number that fits", () => {
    const f = mem(1024);
    assert.equal(f[0]!.level, "warn");
    assert.equal(f[0]!.what, "memory for about 64 idle labs, NSLAB_MAX_LABS is 120");
    assert.match(f[0]!.fix!, /^NSLAB_MAX_LABS=64 /);
  });

  test("not even one lab at its limit above the reserve: a failure, with settings that fit", () => {
    const f = mem(700);
    assert.deepEqual(f.map((x) => x.level), ["fail"]);
    assert.match(f[0]!.detail!, /188 MiB above the reserve, a lab may use 512 MiB/);
    assert.match(f[0]!.fix!, /^NSLAB_MEMORY_MAX=94M {3}or {3}NSLAB_MEMORY_RESERVE=188M/);
  });

  test("an old kernel without MemAvailable", () => {
    const f = checkMemory(fakeHost({ "/proc/meminfo": "MemTotal: 1 kB\n" }), { maxLabs: 1, memoryBytes: 1, reserveBytes: 0, idleLabBytes: 1 });
    assert.equal(f[0]!.level, "warn");
  });
});
