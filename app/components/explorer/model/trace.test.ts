/** The explorer model: trace. No browser, no server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDuration, manPages, mergeTrace, traceResult } from "./trace.ts";

describe("trace", () => {
  test("man pages: clone3 → clone(2), umount2 → umount(2), ioctls by request, explanations beside", () => {
    const first = (sys: string, args = "") => manPages(sys, args)[0];
    assert.equal(first("clone3")!.url, "https://man7.org/linux/man-pages/man2/clone.2.html");
    assert.equal(first("clone3")!.label, "clone(2)");
    assert.equal(first("pivot_root")!.url, "https://man7.org/linux/man-pages/man2/pivot_root.2.html");
    assert.equal(first("mount")!.label, "mount(2)");
    assert.equal(first("umount2")!.label, "umount(2)");
    assert.equal(first("setns")!.label, "setns(2)");
    assert.equal(first("unshare")!.label, "unshare(2)");
    assert.equal(first("sethostname")!.label, "sethostname(2)");
    assert.equal(first("execve")!.label, "execve(2)");
    assert.equal(first("openat2")!.label, "openat2(2)");
    assert.equal(first("ioctl", "0, TIOCSCTTY, 0")!.url, "https://man7.org/linux/man-pages/man2/ioctl_tty.2.html");
    assert.equal(first("ioctl", "5, NS_GET_PARENT")!.label, "ioctl_ns(2)");
    assert.deepEqual(manPages("ioctl", 'SIOCSIFFLAGS, {ifr_name="lo"}').map((l) => l.label), ["ioctl(2)", "netdevice(7)"]);
    assert.equal(first("posix_spawn")!.url, "https://man7.org/linux/man-pages/man3/posix_spawn.3.html");
    assert.deepEqual(manPages("write", '"/proc/42/uid_map", "0 1000 1"').map((l) => l.label), ["write(2)", "user_namespaces(7)"]);
    assert.deepEqual(manPages("write", '"/sys/fs/cgroup/pids/nslab/x/cgroup.procs", "42"').map((l) => l.label), ["write(2)", "cgroups(7)"]);
    assert.deepEqual(manPages("clone3", "CLONE_NEWUSER").map((l) => l.label), ["clone(2)", "namespaces(7)"]);
    assert.deepEqual(manPages("copy"), [], "nslab's own steps have no man page");
    assert.deepEqual(manPages("nonsense_call"), []);
  });

  test("a failed call shows -1 and its errno's name (lib/errno.ts)", () => {
    assert.deepEqual(traceResult({ ret: -1, errno: 1 }), { text: "-1 EPERM", failed: true });
    assert.deepEqual(traceResult({ ret: 4242, errno: 0 }), { text: "4242", failed: false });
  });

  test("durations and merging (a reconnect resends the backlog)", () => {
    assert.equal(formatDuration(500), "<1 µs");
    assert.equal(formatDuration(12_400), "12 µs");
    assert.equal(formatDuration(1_340_000), "1.3 ms");
    assert.equal(formatDuration(42_000_000), "42 ms");
    assert.equal(formatDuration(2_100_000_000), "2.10 s");
    const e = (seq: number) => ({ seq, at: "", scope: "lab", who: "child" as const, sys: "x", args: "", ret: 0, errno: 0, durNs: 0 });
    const have = [e(1), e(2), e(3)];
    assert.deepEqual(mergeTrace(have, [e(2), e(3), e(4)]).map((x) => x.seq), [1, 2, 3, 4]);
    assert.equal(mergeTrace(have, [e(3)]), have, "nothing new: the same array");
    assert.deepEqual(mergeTrace(have, [e(5), e(6)], 4).map((x) => x.seq), [2, 3, 5, 6], "bounded");
  });
});
