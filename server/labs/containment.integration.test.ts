/**
 * The containment claims of docs/architecture.md ("Making a lab", "Entering a lab", "Security
 * model") against a live lab on the real kernel. Each test names the code it proves: removing that
 * line makes the test fail (each done once by mutation; the list is in /work/notes/issue-16.md).
 * The seccomp filter, locked mounts, ptmx hardening and kernel counters are in
 * hardening.integration.test.ts; a server installed under /usr, propagation to a shared host and
 * PR_SET_PDEATHSIG in install.integration.test.ts.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { attackResults, installAttack } from "../testing/attack.ts";
import { createLab, testServer } from "../testing/harness.ts";
import { closeFd } from "../native/core.ts";
import type { Lab } from "./lab.ts";

/** A login shell on a pty of the lab's, as a terminal starts it (terminals/lab-terminals.ts). */
async function shell(lab: Lab): Promise<{ pid: number; close(): void }> {
  const { proc, master } = await lab.spawnPty(["/bin/bash", "-l"], { cols: 80, rows: 24, traceScope: "terminal:test" });
  return {
    pid: proc.pid,
    close() {
      proc.kill("SIGKILL");
      closeFd(master);
    },
  };
}

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_LABS_PER_CLIENT: "30" });
});
after(async () => s.close());

const made = new Map<string, Awaited<ReturnType<typeof createLab>>>();
async function newLab(): Promise<Lab> {
  const c = await createLab(s.url);
  made.set(c.id, c);
  return s.mgr.get(c.id)!;
}

async function sh(lab: Lab, script: string): Promise<string> {
  const r = await lab.exec(script, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `${script}\nexit ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface Mount {
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
}

function mountinfo(text: string): Mount[] {
  return text
    .trim()
    .split("\n")
    .map((l) => {
      const [left, right] = l.split(" - ");
      const f = left!.split(" ");
      return { root: f[3]!, mountPoint: f[4]!, options: f[5]!.split(","), fsType: right!.split(" ")[0]! };
    });
}

/** Filesystems a lab makes itself (or the host makes for it, sized): everything else is the host's. */
const LAB_OWN = new Set(["tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"]);
const DEVICES = ["full", "null", "random", "tty", "urandom", "zero"];

describe("the lab's root (rootfs.ts policy, native/src/mnt.c)", () => {
  let lab: Lab;
  before(async () => {
    lab = await newLab();
  });

  test("every host filesystem in the lab is a read-only mount (the flag, not file permissions), and only /usr, the /bin-style dirs and a few /etc files are bound", async () => {
    const mounts = mountinfo(await sh(lab, "cat /proc/1/mountinfo"));
    const host = mounts.filter((m) => !LAB_OWN.has(m.fsType) && m.fsType !== "devtmpfs");
    // rootfs.ts `L.push(line("ro-bind", host, host))` and the /etc ones; mnt.c make_readonly:
    // a plain bind leaves "rw" here
    const usr = host.find((m) => m.mountPoint === "/usr");
    assert.ok(usr, mounts.map((m) => m.mountPoint).join(" "));
    for (const m of host) {
      assert.ok(m.options.includes("ro"), `${m.mountPoint} (${m.fsType}) is mounted ${m.options.join(",")}`);
      assert.match(m.root, /^\/(usr|bin|sbin|lib|lib32|lib64|libx32)(\/|$)|^\/etc\/[^/]+$/, `${m.mountPoint} shows the host's ${m.root}`);
    }
    assert.ok(host.length >= 2, "the /etc files are bound too");
    // device nodes are the only host mounts the lab may write (and only those six)
    const devs = mounts.filter((m) => m.fsType === "devtmpfs").map((m) => m.mountPoint).sort();
    assert.deepEqual(devs, DEVICES.map((d) => `/dev/${d}`));
    // pivot_root + umount2(".", MNT_DETACH) (steps.c): the host's old root is not below the lab's
    const roots = mounts.filter((m) => m.mountPoint === "/");
    assert.deepEqual(roots.map((m) => m.fsType), ["tmpfs"], "one root: the lab's tmpfs");
  });

  test("/dev has the six devices and the lab's own pts, shm and mqueue; no other device can be made", async () => {
    const out = await sh(lab, "ls -A /dev | tr '\\n' ' '; echo; find /dev -xdev -type c -o -type b | sort | tr '\\n' ' '; echo; mknod /dev/sda b 8 0 2>&1; mknod /dev/kmsg c 1 11 2>&1; true");
    const [names, devices, ...errors] = out.trim().split("\n");
    assert.equal(names!.trim(), "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero");
    assert.equal(devices!.trim(), "", "the /dev tmpfs holds no device node of its own (the six are binds)");
    assert.equal(errors.length, 2);
    for (const e of errors) assert.match(e, /Operation not permitted/);
    const chars = (await sh(lab, "stat -c '%n %t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty")).trim().split("\n");
    assert.deepEqual(chars, ["/dev/null 1:3", "/dev/zero 1:5", "/dev/full 1:7", "/dev/random 1:8", "/dev/urandom 1:9", "/dev/tty 5:0"]);
  });

  test("/etc is the lab's own copy: no host secret, only the shared read-only files are the host's", async () => {
    const rows = (await sh(lab, "stat -c '%u %F %n' /etc/* /etc/.[!.]* 2>/dev/null; true")).trim().split("\n");
    const shared = new Set(["/etc/ld.so.cache", "/etc/alternatives", "/etc/inputrc", "/etc/os-release", "/etc/debian_version"]);
    for (const r of rows) {
      const [uid, ...rest] = r.split(" ");
      const name = rest.at(-1)!;
      // the template's copies (rootfs.ts "copy") belong to the lab's root; host files show as nobody
      if (!shared.has(name)) assert.equal(uid, "0", `${r}: a host file in the lab's /etc`);
    }
    assert.ok(rows.some((r) => r.endsWith(" /etc/passwd")));
    const absent = await sh(lab, "for f in shadow gshadow sudoers ssh machine-id hostname subuid; do [ -e /etc/$f ] && echo $f; done; true");
    assert.equal(absent, "", "no host secret or identity");
    assert.equal((await sh(lab, "cut -d: -f1 /etc/passwd | tr '\\n' ' '")).trim(), "root nobody");
  });

  test("the root's files belong to the lab's root (setfsuid while the host builds it); the host sees the lab's uid", async () => {
    // steps.c/lab.c: the helper builds the root with fsuid/fsgid = the lab's root
    const inside = (await sh(lab, "stat -c '%u:%g %n' / /root /tmp /etc /etc/passwd /dev /dev/shm")).trim().split("\n");
    for (const l of inside) assert.match(l, /^0:0 /, l);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${lab.initPid}/status`, "utf8"))![1]);
    assert.equal(fs.statSync(`/proc/${lab.initPid}/root/root`).uid, uid, "from the host: the lab's own host uid");
    assert.ok(uid >= s.config.uidBase);
    assert.equal((await sh(lab, "touch /root/x /tmp/y && echo ok")).trim(), "ok");
  });
});

describe("the lab's namespaces (native/src/lab.c, spawn.c)", () => {
  test("checks and terminal shells enter all eight of init's namespaces, which are none of the host's", async () => {
    const lab = await newLab();
    const kinds = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];
    const ns = (pid: number | "self") => Object.fromEntries(kinds.map((k) => [k, fs.readlinkSync(`/proc/${pid}/ns/${k}`)]));
    const init = ns(lab.initPid);
    const host = ns("self");
    for (const k of kinds) assert.notEqual(init[k], host[k], `init's ${k} namespace is the host's`);
    // a check (lab.exec): the helper's setns(pidfd, USER|MNT|UTS|IPC|NET|CGROUP|PID|TIME)
    const fromCheck = await sh(lab, `for k in ${kinds.join(" ")}; do echo "$k $(readlink /proc/self/ns/$k)"; done`);
    assert.deepEqual(Object.fromEntries(fromCheck.trim().split("\n").map((l) => l.split(" "))), init);
    // a terminal's shell, seen from the host
    const t = await shell(lab);
    try {
      assert.deepEqual(ns(t.pid), init);
    } finally {
      t.close();
    }
  });

  test("the cgroup namespace's root is the lab's own cgroup (unshare(CLONE_NEWCGROUP) in steps.c)", async () => {
    const lab = await newLab();
    if (!s.mgr.cgroups.version) return assert.fail("root mode needs a cgroup hierarchy with pids and memory");
    const inside = (await sh(lab, "cat /proc/self/cgroup")).trim().split("\n");
    const outside = fs.readFileSync(`/proc/${lab.initPid}/cgroup`, "utf8").trim().split("\n");
    // from the host, init is in the lab's cgroup (in each controller nslab uses)...
    const ours = outside.filter((l) => l.includes(`/${s.config.cgroupParent}/${lab.id}`));
    assert.ok(ours.length >= 1, outside.join("\n"));
    // ...and inside, that cgroup is "/" (v2: its leaf /init): nothing of the host's tree shows
    for (const l of inside) assert.match(l, /:\/(init)?$/, l);
    assert.doesNotMatch(inside.join("\n"), new RegExp(s.config.cgroupParent));
  });

  test("the lab's 127.0.0.1 is its own: the server listening on the host's loopback is not reachable", async () => {
    const lab = await newLab();
    const port = new URL(s.url).port;
    // clone3(CLONE_NEWNET) in lab.c: without it, this connect reaches the server
    const r = await lab.exec(`exec 3<>/dev/tcp/127.0.0.1/${port} && echo CONNECTED`, { timeoutMs: 20_000 });
    assert.doesNotMatch(r.stdout, /CONNECTED/);
    assert.match(r.stderr, /Connection refused/);
    assert.equal((await sh(lab, "ip -o link | cut -d: -f2 | tr -d ' '")).trim(), "lo");
  });

  test("two labs get disjoint host uid ranges: lab uid 0..65535 is an unprivileged range of its own", async () => {
    const [a, b] = [await newLab(), await newLab()];
    const map = async (lab: Lab) => {
      const [uid, gid] = (await sh(lab, "cat /proc/self/uid_map /proc/self/gid_map")).trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
      assert.deepEqual(uid, gid, "uids and gids map alike");
      assert.equal(uid![0], 0);
      assert.equal(uid![2], 65536);
      return uid![1]!;
    };
    const [ma, mb] = [await map(a), await map(b)];
    for (const m of [ma, mb]) {
      assert.ok(m >= s.config.uidBase, `${m} is in the instance's range`);
      assert.equal((m - s.config.uidBase) % 65536, 0);
    }
    // ids.ts IdRanges.acquire: a range is never handed out twice
    assert.ok(Math.abs(ma - mb) >= 65536, `lab A maps to ${ma}, lab B to ${mb}`);
  });
});

describe("what a lab process holds (steps.c close_range, handles.c sealed memfd)", () => {
  test("init, a check and a shell hold no file of the host's or the server's: only /dev/null, the lab's pty and pipes", async () => {
    const lab = await newLab();
    const fds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).map((fd) => `${fd} ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
    assert.deepEqual(fds(lab.initPid), ["0 /dev/null", "1 /dev/null"], "init");
    const t = await shell(lab);
    try {
      // while bash reads its bashrc it holds a process substitution's pipe for a moment: what it
      // holds once that is done (waiting at its prompt) is what counts; a pipe it kept stays
      const onlyPty = (l: string[]) => l.every((f) => /^\d+ \/dev\/pts\/\d+$/.test(f));
      let held = fds(t.pid);
      for (let i = 0; i < 600 && !onlyPty(held); i++) {
        await new Promise((r) => setTimeout(r, 50));
        held = fds(t.pid);
      }
      for (const f of held) assert.match(f, /^\d+ \/dev\/pts\/\d+$/, `the shell's fd ${f}`);
    } finally {
      t.close();
    }
    // a check, seen from inside (its own pipes, and the fd of the directory ls reads)
    const own = (await sh(lab, "cd /proc/self/fd && for f in *; do echo \"$f $(readlink $f)\"; done")).trim().split("\n");
    for (const f of own) assert.match(f, /^\d+ (\/dev\/null|pipe:\[\d+\]|\/proc\/\d+\/fd)$/, `the check's fd ${f}`);
  });

  test("/proc/1/exe is a sealed memfd: no host path, not writable, its seals fixed (CVE-2019-5736)", async () => {
    const lab = await newLab();
    await installAttack(lab);
    const r = attackResults(await sh(lab, "/root/attack exe"));
    assert.deepEqual(r, {
      exe_link: "/memfd:nslab-init (deleted)", // manager.ts: sealedCopy(initBinary()), not the file
      exe_open_ro: "OK",
      exe_seals: "seal,shrink,grow,write", // handles.c F_ADD_SEALS
      exe_open_wr: "ETXTBSY",
      exe_open_rw: "ETXTBSY",
      exe_reopen_wr: "ETXTBSY",
      exe_add_seals: "EPERM",
    });
  });

  test("signals from inside do not stop the lab's init: it takes them and carries on, KILL is dropped", async () => {
    const lab = await newLab();
    // nslab-init installs no handler (SigCgt 0): it blocks every signal and takes them with
    // sigwaitinfo(2), ignoring all but SIGCHLD; SIGKILL from inside the namespace the kernel drops
    // (pid_namespaces(7)). Blocked signals sit in ShdPnd until init takes them: wait for that.
    await sh(lab, "for s in KILL TERM INT HUP QUIT USR1; do kill -$s 1; done");
    let status = "";
    for (let i = 0; i < 600; i++) {
      status = await sh(lab, "grep -E '^(SigPnd|ShdPnd|SigCgt):' /proc/1/status | tr -s '\\t ' ' '; cat /proc/1/comm");
      if (status.includes("ShdPnd: 0000000000000000")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(status.trim().split("\n"), ["SigPnd: 0000000000000000", "ShdPnd: 0000000000000000", "SigCgt: 0000000000000000", "nslab-init"]);
    assert.ok(fs.existsSync(`/proc/${lab.initPid}`));
    assert.equal((await sh(lab, "echo still-here")).trim(), "still-here");
  });
});

describe("cpu (cgroup.ts: cpu.cfs_quota_us on v1, cpu.max on v2)", () => {
  test("a busy loop is throttled: the lab's cgroup counts throttled periods", async () => {
    const own = await testServer({ NSLAB_CPU_PERCENT: "5" });
    try {
      const c = await createLab(own.url);
      const lab = own.mgr.get(c.id)!;
      const stat = "cat /sys/fs/cgroup/cpu/cpu.stat 2>/dev/null || cat /sys/fs/cgroup/cpu.stat";
      const throttled = (text: string) => Number(/^nr_throttled (\d+)$/m.exec(text)?.[1] ?? NaN);
      const before = throttled(await sh(lab, stat));
      assert.ok(before >= 0, "the lab's cpu controller reports nr_throttled");
      await sh(lab, "setsid -f sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1");
      // the kernel, not the clock: wait until it reports a throttled period (5 ms of cpu per 100 ms)
      let last = "";
      const deadline = Date.now() + 120_000;
      while (!(throttled(last) >= before + 3)) {
        assert.ok(Date.now() < deadline, `never throttled:\n${last}`);
        last = await sh(lab, `sleep 0.5; ${stat}`);
      }
      assert.match(last, /^throttled_(time|usec) [1-9]\d*$/m);
    } finally {
      await own.close();
    }
  });
});

describe("isolation between two labs", () => {
  test("what lab A makes (a process, a mount, a queue, a link, a hostname) is there in A and nowhere in B", async () => {
    const [a, b] = [await newLab(), await newLab()];
    await sh(
      a,
      "setsid -f sleep 1234 </dev/null >/dev/null 2>&1; mkdir -p /mnt/x && mount -t tmpfs only-in-a /mnt/x; ipcmk -Q >/dev/null; ip link add va-only type veth peer name vb-only; hostname only-a",
    );
    const look = "ps -e -o args=; echo ==; cat /proc/self/mountinfo; echo ==; ipcs -q; echo ==; ip -o link; echo ==; hostname";
    const inA = await sh(a, look);
    // each of A's commands worked: A sees its own changes...
    assert.match(inA, /^sleep 1234$/m);
    assert.match(inA, / \/mnt\/x .* - tmpfs only-in-a /);
    assert.match(inA, /^0x[0-9a-f]+ +\d+ +root /m);
    assert.match(inA, /va-only@vb-only/);
    assert.match(inA, /^only-a$/m);
    // ...and B sees none of them
    const inB = await sh(b, look);
    assert.doesNotMatch(inB, /sleep 1234|only-in-a|va-only|vb-only|only-a/);
    assert.doesNotMatch(inB, /^0x[0-9a-f]+ +\d+ +root /m);
    assert.equal(inB.trim().split("\n").at(-1), b.hostname);
  });
});
