/**
 * The lab features that depend on the kernel's version, on whatever kernel this is: 6.18 on the
 * development machine, 6.1 (Debian 12) in the VM suite (test/vm/). A lab's time namespace
 * (clone3 takes CLONE_NEWTIME only since Linux 6.3 and its stable backports; the native core falls
 * back to a lab without one), the time namespace a learner makes and what execve does with it,
 * openat2(RESOLVE_IN_ROOT) for the lab's ptmx and setns() through a pidfd for every process
 * entering a lab. Needs root.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fs from "node:fs";
import { closeFd, features } from "../native/core.ts";
import { testConfig } from "../testing/instance.ts";
import type { Lab } from "./lab.ts";
import { LabManager } from "./manager.ts";

if (process.getuid?.() !== 0) throw new Error("kernel integration tests need root: they create real namespaces");

const NS = ["user", "mnt", "uts", "ipc", "net", "cgroup", "pid", "time"];
const release = fs.readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
let mgr: LabManager;
let lab: Lab;
before(async () => {
  mgr = await LabManager.start(testConfig({ tag: "kernel" }));
  ({ lab } = await mgr.create());
});
after(async () => mgr?.shutdown());

// under emulation (the VM suite) on a busy host a process start can take seconds: scripts get five
// minutes instead of exec's default 10 s, and a timeout says so instead of showing as short output
async function run(l: Lab, script: string) {
  const r = await l.exec(script, { timeoutMs: 300_000 });
  assert.equal(r.timedOut, false, `timed out: ${script}`);
  return r;
}
const ns = (pid: number | "self", kind: string) => fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
const uptime = (s: string) => Number(s.trim().split(/\s+/)[0]);
function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = release.split(".").map((x) => parseInt(x, 10)) as [number, number];
  return a > major || (a === major && b >= minor);
}

describe(`kernel ${release}`, () => {
  test("the native core finds openat2 and time namespaces", () => {
    const f = features();
    assert.equal(f.openat2, true, "openat2 (Linux 5.6)");
    assert.equal(f.timens, fs.existsSync("/proc/self/ns/time"));
  });

  test("a lab gets a time namespace of its own where clone3 takes CLONE_NEWTIME, and goes without one where it does not", async () => {
    const clones = lab.trace().filter((e) => e.scope === "lab" && e.sys === "clone3");
    const last = clones.at(-1)!;
    assert.ok(last.ret > 0, "the lab's clone3 succeeded");
    if (lab.timens) {
      assert.match(last.args, /CLONE_NEWTIME/);
      assert.notEqual(ns(lab.initPid, "time"), ns("self", "time"), "the lab's init is in a time namespace of its own");
    } else {
      // the kernel refused CLONE_NEWTIME in clone3 with EINVAL; the retry went without it
      assert.equal(clones.length, 2, "one refused clone3, then one without CLONE_NEWTIME");
      assert.equal(clones[0]!.errno, 22);
      assert.match(clones[0]!.args, /CLONE_NEWTIME/);
      assert.doesNotMatch(last.args, /CLONE_NEWTIME/);
      assert.equal(ns(lab.initPid, "time"), ns("self", "time"));
    }
    console.log(`# kernel ${release}: lab time namespace ${lab.timens ? "yes" : "no (clone3 refused CLONE_NEWTIME)"}`);
  });

  test("a terminal joins every namespace of the lab through setns() on a pidfd, and opens the lab's ptmx with openat2(RESOLVE_IN_ROOT)", async () => {
    const before = lab.trace().length;
    const term = await lab.spawnPty(["/bin/bash", "-l"], { cols: 80, rows: 24, traceScope: "terminal:t1" });
    const traced = lab.trace().slice(before);
    const setns = traced.find((e) => e.sys === "setns");
    assert.ok(setns, "setns was traced");
    assert.equal(setns.ret, 0);
    assert.match(setns.args, /pidfd.*CLONE_NEWUSER/);
    assert.equal(/CLONE_NEWTIME/.test(setns.args), lab.timens, "the time namespace is joined exactly when the lab has one");
    for (const n of NS) assert.equal(ns(term.proc.pid, n), ns(lab.initPid, n), `the shell's ${n} namespace is the lab's`);
    const open = traced.find((e) => e.sys === "openat2");
    assert.ok(open, "openat2 was traced");
    assert.ok(open.ret >= 0, `openat2 returned ${open.ret} (errno ${open.errno})`);
    assert.match(open.args, /dev\/pts\/ptmx.*RESOLVE_IN_ROOT/);
    term.proc.kill("SIGKILL");
    closeFd(term.master);
    // a check's process enters the same way
    const r = await run(lab, `readlink ${NS.map((n) => `/proc/self/ns/${n}`).join(" ")}`);
    assert.deepEqual(r.stdout.trim().split("\n"), NS.map((n) => ns(lab.initPid, n)));
  });

  test("openat2 stays in the lab: a ptmx the lab replaced with a symlink to a host path opens nothing of the host's", async () => {
    const { lab: own } = await mgr.create();
    // the lab covers its devpts and plants ptmx -> /etc/shadow: RESOLVE_IN_ROOT resolves that in
    // the lab's root, where there is no shadow file
    const r = await run(own, "umount -l /dev/pts && mount -t tmpfs planted /dev/pts && ln -s /etc/shadow /dev/pts/ptmx && echo planted");
    assert.equal(r.stdout, "planted\n", r.stderr);
    await assert.rejects(own.spawnPty(["/bin/bash", "-l"], { cols: 80, rows: 24, traceScope: "terminal:t1" }), (e: Error) => /ENOENT/.test(e.message));
    await mgr.destroy(own.id);
  });

  test("a shell started while its lab is being put away fails as 'lab gone', whichever step the helper was at", async () => {
    // the page opens a terminal just as the lab is deleted (or expires): the helper then fails on
    // whatever it meets first (the cgroup's procs file, /proc/PID/root, setns: ENOENT or ESRCH),
    // and the socket must end with "the lab is not running any more", not a server error
    const seen = new Map<string, number>();
    for (let round = 0; round < 6; round++) {
      const { lab: doomed } = await mgr.create();
      const spawns = Array.from({ length: 6 }, (_, i) =>
        new Promise((r) => setTimeout(r, i)).then(() => doomed.spawnPty(["/bin/bash", "-l"], { cols: 80, rows: 24, traceScope: "terminal:t1" })),
      );
      await new Promise((r) => setTimeout(r, 2));
      const gone = mgr.destroy(doomed.id);
      for (const r of await Promise.allSettled(spawns)) {
        const what = r.status === "fulfilled" ? "started" : (r.reason as Error).constructor.name + ": " + (r.reason as Error).message;
        seen.set(what, (seen.get(what) ?? 0) + 1);
        if (r.status === "fulfilled") {
          r.value.proc.kill("SIGKILL");
          closeFd(r.value.master);
        }
      }
      await gone;
    }
    const other = [...seen.keys()].filter((k) => k !== "started" && !k.startsWith("LabGoneError"));
    assert.deepEqual(other, [], `every failure says the lab is gone: ${JSON.stringify([...seen])}`);
    assert.ok([...seen.keys()].some((k) => k.startsWith("LabGoneError")), `some spawns met the lab going: ${JSON.stringify([...seen])}`);
  });

  test("a time namespace a learner makes: unshare --fork --time shifts CLOCK_BOOTTIME for the child", async () => {
    const r = await run(lab, "cat /proc/uptime; unshare --fork --time --boottime 86400 cat /proc/uptime");
    const [outside, inside] = r.stdout.trim().split("\n").map(uptime);
    assert.ok(inside! - outside! > 86000, r.stdout + r.stderr);
  });

  // Until Linux 6.3, unshare(CLONE_NEWTIME) never moved the caller: only its children were born in
  // the new namespace, and the caller could not even vfork (clone with CLONE_VM) while its own and
  // its children's time namespaces differed. Since 6.3 ("fs/exec: switch timens when a task gets a
  // new mm"), execve moves it into time_for_children. So `unshare --time cmd` without --fork shifts
  // cmd's clocks only on 6.3+; lessons use --fork, which works on both.
  const execSwitches = kernelAtLeast(6, 3);
  test(`execve ${execSwitches ? "moves" : "does not move"} a process that unshared a time namespace into it (Linux ${execSwitches ? "6.3+" : "before 6.3"})`, async () => {
    const r = await run(lab, "cat /proc/uptime; unshare --time --boottime 86400 cat /proc/uptime; unshare --time --boottime 86400 readlink /proc/self/ns/time /proc/self/ns/time_for_children");
    const [outside, inside, nsNow, nsChildren] = r.stdout.trim().split("\n");
    if (execSwitches) {
      assert.ok(uptime(inside!) - uptime(outside!) > 86000, r.stdout + r.stderr);
      assert.equal(nsNow, nsChildren, "after exec the process is in the namespace its children get");
    } else {
      assert.ok(uptime(inside!) - uptime(outside!) < 86000, `the exec'd program kept the lab's clocks: ${r.stdout}`);
      assert.notEqual(nsNow, nsChildren, "after exec the process is still outside the namespace its children get");
      // and, outside it, it cannot vfork: dash's vfork fails with EINVAL
      const v = await run(lab, "unshare --time sh -c '/bin/true' && echo ran");
      assert.match(v.stderr, /Cannot fork/);
    }
  });
});
