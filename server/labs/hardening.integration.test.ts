/**
 * Containment against a hostile learner, on the real kernel: each test plays an attack from
 * inside a real lab and shows it contained. Each names the protection it proves; removing that
 * protection makes the test fail (checked once by mutation, listed in /work/notes).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { NativeError, nsInfo } from "../native/core.ts";
import { attackResults, installAttack } from "../testing/attack.ts";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";
import type { Lab } from "./lab.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
let bystander: Lab;
before(async () => {
  // memory enough for lab A to hold a full quota of user namespaces (charged to its cgroup)
  // NSLAB_CGROUPS_MAX: finding 2's test makes 3,000 child cgroups (on v1 the server would end a lab
  // above the cap: cgroup-guard.integration.test.ts)
  s = await testServer({ NSLAB_MEMORY_MAX: "768M", NSLAB_LABS_PER_CLIENT: "20", NSLAB_CGROUPS_MAX: "4000" });
  bystander = await newLab();
});
after(async () => s.close());

async function armed(): Promise<Lab> {
  const lab = await newLab();
  await installAttack(lab);
  return lab;
}

const results = attackResults;

/** During and after an attack: another lab still runs commands, and the server answers. */
async function othersUnharmed(): Promise<void> {
  const [r, h] = await Promise.all([bystander.exec("echo alive", { timeoutMs: 30_000 }), api(s.url, "GET", "/api/health")]);
  assert.equal(r.stdout, "alive\n", "another lab still runs commands");
  assert.equal(h.status, 200);
  assert.equal(h.json.ok, true);
}

const created = new Map<string, Awaited<ReturnType<typeof createLab>>>();
async function newLab(): Promise<Lab> {
  const c = await createLab(s.url);
  created.set(c.id, c);
  return s.mgr.get(c.id)!;
}

async function sh(lab: Lab, script: string, timeoutMs = 20_000) {
  const r = await lab.exec(script, { timeoutMs });
  return r;
}

async function openFails(lab: Lab): Promise<NativeError> {
  try {
    const t = await s.terminals.of(lab).open(80, 24);
    t.dispose("terminal-closed");
  } catch (e) {
    if (e instanceof NativeError) return e;
    throw e;
  }
  throw new Error("the terminal opened");
}

describe("the server opens the lab's ptmx from the host side (client.c open_lab_ptmx)", () => {
  test("a symlink planted at /dev/pts/ptmx resolves inside the lab, never to the host's /dev/ptmx (RESOLVE_IN_ROOT)", async () => {
    const lab = await newLab();
    // /dev/ptmx on the host is a real pty multiplexer (char 5:2): without RESOLVE_IN_ROOT the
    // server would follow this link out of the lab and hand the shell a host pty
    const r = await sh(lab, "umount -l /dev/pts && ln -s /dev/ptmx /dev/pts/ptmx && readlink /dev/pts/ptmx");
    assert.equal(r.stdout, "/dev/ptmx\n", r.stderr);
    const e = await openFails(lab);
    assert.equal(e.step, "stdio");
    assert.equal(e.detail, "open the lab's /dev/pts/ptmx");
    assert.equal(e.errno, 40 /* ELOOP: /dev/ptmx -> pts/ptmx -> /dev/ptmx, all inside the lab */);
    assert.equal((await sh(lab, "echo still-here")).stdout, "still-here\n");
    await s.mgr.destroy(lab.id);
  });

  test("a FIFO planted there is refused at once, not waited on (O_NONBLOCK, the 5:2 check)", async () => {
    const lab = await newLab();
    const r = await sh(lab, "umount -l /dev/pts && mkfifo /dev/pts/ptmx && stat -c %F /dev/pts/ptmx");
    assert.equal(r.stdout, "fifo\n", r.stderr);
    const e = await openFails(lab);
    assert.equal(e.step, "stdio");
    assert.equal(e.detail, "the lab's /dev/pts/ptmx is not a pty multiplexer");
    assert.equal(e.errno, 1 /* EPERM */);
    // another device the lab can bind there is refused the same way
    await sh(lab, "rm /dev/pts/ptmx && touch /dev/pts/ptmx && mount --bind /dev/null /dev/pts/ptmx");
    assert.equal((await openFails(lab)).detail, "the lab's /dev/pts/ptmx is not a pty multiplexer");
    await s.mgr.destroy(lab.id);
  });
});

describe("the seccomp filter (native/src/seccomp.c, seccomp.policy)", () => {
  test("is on every process of a lab: init, checks, terminal shells, and what they start", async () => {
    const lab = await newLab();
    const r = await sh(lab, "for p in 1 $$; do grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' /proc/$p/status | tr '\\n' ' '; echo; done");
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.trim().replace(/\s+/g, " ")), [
      "NoNewPrivs: 0 Seccomp: 2 Seccomp_filters: 1",
      "NoNewPrivs: 0 Seccomp: 2 Seccomp_filters: 1",
    ]);
    const t = await s.terminals.of(lab).open(80, 24);
    const status = fs.readFileSync(`/proc/${t.pid}/status`, "utf8");
    assert.match(status, /^Seccomp:\s+2$/m, "the terminal's shell");
    assert.match(status, /^Seccomp_filters:\s+1$/m);
    t.dispose("terminal-closed");
    await s.mgr.destroy(lab.id);
  });

  test("refuses keyrings, io_uring, userfaultfd, bpf, perf, file handles, foreign socket families and architectures", async () => {
    const lab = await armed();
    const r = results((await sh(lab, "/root/attack syscalls")).stdout);
    assert.deepEqual(r, {
      // finding 4: keyrings are kernel memory outside the memory cgroup, counted per host uid
      add_key: "EPERM",
      request_key: "EPERM",
      keyctl: "EPERM",
      // finding 12: kernel attack surface
      io_uring_setup: "EPERM",
      userfaultfd: "EPERM",
      perf_event_open: "EPERM",
      bpf: "EPERM",
      open_by_handle_at: "EPERM",
      personality_query: "OK",
      personality_no_aslr: "EPERM",
      // finding 9: only unix, inet, inet6 and netlink (AF_VSOCK is not network-namespaced)
      socket_vsock: "EAFNOSUPPORT",
      socket_packet: "EAFNOSUPPORT",
      socket_inet: "OK",
      socket_unix: "OK",
      socket_netlink: "OK",
      socket_inet6: "OK",
      socket_vsock_high: "EAFNOSUPPORT",
      socketpair_vsock: "EAFNOSUPPORT",
      // what the lessons teach stays allowed
      unshare_user: "OK",
      // other ABIs: x32 numbers get ENOSYS, an i386 call kills the process (SIGSYS), numbers past
      // the newest known call get ENOSYS, unknown ones below it EPERM
      x32_getpid: "ENOSYS",
      tuxcall: "EPERM",
      i386_getpid: "signal 31",
      beyond_table: "ENOSYS",
    });
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
  });

  test("refuses TIOCSTI and TIOCLINUX on the lab's own terminal, also with high bits in the request (CVE-2019-10063)", async () => {
    const lab = await armed();
    const t = new TermClient(s.url, created.get(lab.id)!);
    await t.opened;
    await t.until((c) => /[#$] $/.test(c.output), "the first prompt");
    const r = results(await t.run("/root/attack tty"));
    assert.deepEqual(r, { tiocsti: "EPERM", tiocsti_high: "EPERM", tioclinux: "EPERM", tiocgwinsz: "OK" });
    // nothing was pushed into the shell's input: the next command runs as typed
    assert.equal((await t.run("echo clean")).trim(), "clean");
    t.close();
    await s.mgr.destroy(lab.id);
  });

  test("PTRACE_ATTACH/SEIZE cannot stop the lab's init; ptrace works on the lab's other processes; orphans are still reaped", async () => {
    const lab = await armed();
    const r = results((await sh(lab, "/root/attack ptrace")).stdout);
    assert.deepEqual(r, { ptrace_attach_1: "EPERM", ptrace_seize_1: "EPERM", ptrace_attach_1_high: "EPERM", process_vm_writev_1: "EPERM", ptrace_attach_child: "OK" });
    assert.match((await sh(lab, "strace -p 1 2>&1 | head -1")).stdout, /Operation not permitted/);
    assert.match(fs.readFileSync(`/proc/${lab.initPid}/stat`, "utf8"), /^\d+ \(nslab-init\) S /, "init is not stopped");
    // orphans re-parented to init are reaped: no zombie stays behind
    await sh(lab, "for i in $(seq 30); do sh -c 'sleep 0.05 &' ; done; sleep 0.5");
    let zombies = "";
    for (let i = 0; i < 50; i++) {
      zombies = (await sh(lab, "ps -eo stat= | grep -c '^Z' || true")).stdout.trim();
      if (zombies === "0") break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(zombies, "0");
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
  });

  test("a shell cannot make a child of the server: clone(CLONE_PARENT) EPERM, clone3 ENOSYS (libc falls back); no zombie is left in the server and the lab is deleted", async () => {
    const lab = await armed();
    // exec: the attack's parent is the server, as a terminal shell's is
    const r = results((await sh(lab, "exec /root/attack clone-parent")).stdout);
    assert.deepEqual(r, { clone_parent: "EPERM", clone3_parent: "ENOSYS", clone3_plain: "ENOSYS", pthread_create: "OK", fork: "OK" });
    const zombies = fs
      .readdirSync("/proc/self/task")
      .flatMap((t) => fs.readFileSync(`/proc/self/task/${t}/children`, "latin1").trim().split(/\s+/).filter(Boolean))
      .filter((p) => {
        try {
          return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${p}/status`, "latin1"));
        } catch {
          return false;
        }
      });
    assert.deepEqual(zombies, [], "no child of the server left unreaped");
    await s.mgr.destroy(lab.id);
    await othersUnharmed();
  });
});

describe("locked mounts (native/src/mnt.c: built by host root, copied into the lab's namespaces)", () => {
  test("finding 10: /usr and every bind are read-only as a mount flag, and neither that nor the tmpfs sizes can be undone", async () => {
    const lab = await armed();
    // every bind the server asked for, seen from inside: "ro" in the mount's own flags
    const binds = (await sh(lab, "awk '$4 == \"/\" || $5 ~ /^\\/(usr|etc)/ {print $5, $6}' /proc/self/mountinfo")).stdout.trim().split("\n");
    const usr = binds.find((l) => l.startsWith("/usr "));
    assert.ok(usr, binds.join("\n"));
    for (const l of binds.filter((b) => /^\/(usr|etc\/ld\.so\.cache|etc\/os-release)\b/.test(b))) assert.match(l, / ro,/, l);
    assert.equal((await sh(lab, "findmnt -no OPTIONS /usr | cut -d, -f1")).stdout, "ro\n");
    const r = results((await sh(lab, "/root/attack mounts")).stdout);
    assert.deepEqual(r, {
      mount_setattr_usr_rw: "EPERM",
      remount_usr_rw: "EPERM",
      remount_root_size: "EPERM",
      remount_shm_size: "EPERM",
      umount_usr: "EINVAL",
      mount_tmpfs: "OK",
      remount_own_ro: "OK",
      remount_own_rw: "OK",
    });
    // the same with the tools a learner types
    const t = await sh(lab, "mount -o remount,bind,rw /usr 2>&1; touch /usr/nslab-x 2>&1; df --output=size -B1 / /dev/shm | tail -2");
    assert.match(t.stdout, /permission denied/i);
    assert.match(t.stdout, /Read-only file system/);
    const [root, shm] = t.stdout.trim().split("\n").slice(-2).map(Number);
    assert.equal(root, Number(s.config.limits.scratchBytes), "the root tmpfs keeps its size");
    assert.equal(shm, Number(s.config.limits.shmBytes), "/dev/shm keeps its size");
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
  });
});

describe("per-user kernel counters (finding 3): each lab's user namespace is created as its own host uid", () => {
  test("inotify instances, POSIX message queue bytes and user namespaces drained in one lab leave another lab, a new lab and the host untouched", async () => {
    const a = await armed();
    const b = await armed();
    // the owner of a lab's user namespace is the lab's own host uid, not root
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${a.initPid}/status`, "utf8"))![1]);
    assert.ok(hostUid >= s.config.uidBase);
    assert.equal(nsInfo(`/proc/${a.initPid}/ns/user`)!.ownerUid, hostUid);
    // inotify: held until the lab is destroyed
    await sh(a, "setsid -f sh -c '/root/attack inotify hold > /root/inotify.out' </dev/null >/dev/null 2>&1");
    const ino = results(await waitFor(a, "grep inotify_stop /root/inotify.out >/dev/null && cat /root/inotify.out"));
    assert.equal(ino.inotify_stop, "EMFILE");
    // POSIX message queues: each default queue charges 80 KiB of RLIMIT_MSGQUEUE
    const mq = await sh(a, "i=0; while touch /dev/mqueue/q$i 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && break; done; echo $i");
    const queues = Number(mq.stdout.trim());
    assert.ok(queues > 0 && queues < 100, `lab A made ${queues} queues before its budget ran out`);
    // user namespaces: until the kernel says no
    await sh(a, "setsid -f sh -c '/root/attack userns 0 hold > /root/userns.out' </dev/null >/dev/null 2>&1");
    const us = results(await waitFor(a, "grep userns_stop /root/userns.out >/dev/null && cat /root/userns.out", 120_000));
    assert.equal(us.userns_stop, "ENOSPC", JSON.stringify(us));
    assert.equal((await sh(a, "unshare -U true 2>&1 || echo refused")).stdout.trim().split("\n").pop(), "refused", "lab A has used up its own");
    // lab B has all of its own
    const inoB = results((await sh(b, "/root/attack inotify")).stdout);
    assert.equal(Number(inoB.inotify_held), Number(ino.inotify_held), "lab B gets as many inotify instances as lab A had");
    const mqB = await sh(b, "i=0; while touch /dev/mqueue/q$i 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && break; done; echo $i");
    assert.equal(Number(mqB.stdout.trim()), queues, "lab B gets the same message queue budget");
    assert.equal((await sh(b, "unshare -U true && echo ok")).stdout, "ok\n");
    // a new lab is created, and works (lesson 07's mqueue step, lesson 09's unshare -U)
    const c = await newLab();
    assert.equal((await sh(c, "unshare -Ur true && touch /dev/mqueue/lesson07 && echo ok")).stdout, "ok\n");
    // and the host's root still has its own inotify instances (the server's fs.watch)
    const w = fs.watch("/tmp");
    w.close();
    await othersUnharmed();
    for (const l of [a, b, c]) await s.mgr.destroy(l.id);
  });
});

async function waitFor(lab: Lab, script: string, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await lab.exec(script);
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${script}\n${r.stdout}${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe("mounts per namespace (finding 1: server/labs/host.ts lowers fs.mount-max)", () => {
  test("a storm of recursive binds stops at the host's fs.mount-max; the server and other labs do not notice", async () => {
    // as on a fresh host (the kernel's default); the server lowers it when it starts
    fs.writeFileSync("/proc/sys/fs/mount-max", "100000");
    const own = await testServer({ NSLAB_MOUNT_MAX: "10000" });
    try {
      const max = Number(fs.readFileSync("/proc/sys/fs/mount-max", "utf8"));
      assert.equal(max, 10_000, "the server lowered fs.mount-max");
      const lab = own.mgr.get((await createLab(own.url)).id)!;
      // each round binds the whole tree below /tmp/a into itself again: the count doubles
      const r = await lab.exec(
        "mkdir -p /tmp/a && mount -t tmpfs t /tmp/a && mkdir /tmp/a/b && i=0; while [ $i -lt 20 ] && mount --rbind /tmp/a /tmp/a/b 2>/tmp/err; do i=$((i+1)); done; echo rounds=$i; cat /tmp/err; grep -c . /proc/self/mountinfo",
        { timeoutMs: 60_000 },
      );
      const [rounds, ...rest] = r.stdout.trim().split("\n");
      const count = Number(rest.pop());
      assert.ok(Number(rounds!.split("=")[1]) < 20, r.stdout);
      assert.match(rest.join("\n"), /mount table full|No space left on device/i, "the kernel refused the mount that would pass the cap");
      assert.ok(count <= max && count > max / 4, `the namespace holds ${count} mounts, the cap is ${max}`);
      await othersUnharmed();
      const h = await api(own.url, "GET", "/api/health");
      assert.equal(h.status, 200);
      await own.mgr.destroy(lab.id);
    } finally {
      await own.close();
    }
  });
});

describe("cgroups (server/labs/cgroup.ts)", () => {
  test("finding 11: every cgroup hierarchy the lab mounts shows the lab's own subtree, not the host's tree", async (t) => {
    if (s.mgr.cgroups.version !== 1) return t.skip("cgroup v1 hosts: on v2 one hierarchy holds everything (the VM suite covers v2)");
    const lab = await newLab();
    // each hierarchy, as the lab sees it: "ID:controllers:/" lines of /proc/self/cgroup
    const lines = (await sh(lab, "cat /proc/self/cgroup")).stdout.trim().split("\n");
    assert.ok(lines.length >= 3, lines.join("\n"));
    for (const l of lines) assert.match(l, /^\d+:[^:]*:\/$/, `the lab is at the root of its cgroup namespace in every hierarchy: ${l}`);
    const script = lines
      .map((l, i) => {
        const ctl = l.split(":")[1]!;
        const how = ctl === "" ? "-t cgroup2" : `-t cgroup -o ${ctl.startsWith("name=") ? `none,${ctl}` : ctl}`;
        return `mkdir -p /tmp/h${i} && mount ${how} x /tmp/h${i} && echo "${ctl || "cgroup2"} $(find /tmp/h${i} -mindepth 1 -maxdepth 1 -type d | wc -l) $(sort -u /tmp/h${i}/cgroup.procs | wc -l)"`;
      })
      .join("\n");
    const out = (await sh(lab, `${script}\necho procs $(ls /proc | grep -c '^[0-9]')`)).stdout.trim().split("\n");
    const procsInLab = Number(out.pop()!.split(" ")[1]);
    assert.equal(out.length, lines.length, "every hierarchy mounted");
    for (const row of out) {
      const [name, dirs, procs] = row.split(" ");
      // no host cgroups (no nslab parents, no user.slice...), and only the lab's own processes
      assert.equal(dirs, "0", `${name}: no directory beside the lab's`);
      assert.ok(Number(procs) >= 1 && Number(procs) <= procsInLab, `${name}: ${procs} processes, the lab has ${procsInLab}`);
    }
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
  });

  test("finding 2: a lab's processes are found from its process tree, not its cgroups: thousands of child cgroups cost the listing nothing, and the lab is deleted", async () => {
    const lab = await newLab();
    const P = s.mgr.cgroups.version === 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
    const enable = s.mgr.cgroups.version === 2 ? "echo +pids > /sys/fs/cgroup/cgroup.subtree_control || exit 1" : "";
    const r = await sh(
      lab,
      [
        enable,
        // as many as the lab may (v2 stops at NSLAB_CGROUPS_MAX), in one mkdir
        `cd ${P} && mkdir -p a/b/c n && (mkdir $(seq -f x%g 1 3000) 2>/dev/null; true)`,
        // one process deep in the tree, one in a nested pid namespace, one beside them
        `sh -c 'echo $$ > ${P}/a/b/c/cgroup.procs && exec setsid -f sleep 1000' </dev/null >/dev/null 2>&1`,
        `sh -c 'echo $$ > ${P}/n/cgroup.procs && exec setsid -f unshare -fp sleep 1001' </dev/null >/dev/null 2>&1`,
        "setsid -f sleep 1002 </dev/null >/dev/null 2>&1",
        "sleep 0.5; ls -d */ | wc -l",
      ].join("\n"),
      120_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Number(r.stdout.trim()) >= (s.mgr.cgroups.version === 2 ? 3 : 3000), `child cgroups: ${r.stdout}`);
    // every file read or directory listed while the server lists the lab's processes
    const touched: string[] = [];
    const spied = [
      [fs, "readdirSync"],
      [fs, "readFileSync"],
      [fs.promises, "readdir"],
      [fs.promises, "readFile"],
    ] as const;
    const saved = spied.map(([o, k]) => (o as Record<string, unknown>)[k]);
    spied.forEach(([o, k], i) => {
      (o as Record<string, unknown>)[k] = (f: unknown, ...rest: unknown[]) => (touched.push(String(f)), (saved[i] as (...a: unknown[]) => unknown)(f, ...rest));
    });
    let listed: number[];
    let listedSync: number[] | null;
    try {
      listed = await lab.hostPids();
      listedSync = lab.hostPidsSync();
    } finally {
      spied.forEach(([o, k], i) => ((o as Record<string, unknown>)[k] = saved[i]));
    }
    assert.deepEqual(touched.filter((f) => f.includes("cgroup")), [], "no cgroup file read");
    // ...and it is the same list the cgroup tree holds: init, the sleeps, unshare and its child
    const inCgroups = (await s.mgr.cgroups.pids(lab.cgroup!)).sort((a, b) => a - b);
    assert.deepEqual(listed, inCgroups);
    assert.deepEqual(listedSync, inCgroups);
    const comms = listed.map((p) => fs.readFileSync(`/proc/${p}/comm`, "utf8").trim()).sort();
    // the lab's first shell (a page's lab starts one with it: LabTerminals.prestart) is the lab's too
    assert.deepEqual(comms, ["bash", "nslab-init", "sleep", "sleep", "sleep", "unshare"]);
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
    for (const d of lab.cgroup!.dirs) assert.equal(fs.existsSync(d), false, `${d} removed`);
  });

  test("finding 5 (v1): TCP buffers of a lab stop at its memory.kmem.tcp limit", async (t) => {
    if (s.mgr.cgroups.version !== 1) return t.skip("cgroup v1 only: v2 charges socket buffers to memory.max");
    const lab = await armed();
    const limit = s.config.limits.tcpBytes;
    const r = attackResults((await sh(lab, "/root/attack tcp 256", 60_000)).stdout);
    const queued = Number(r.tcp_queued);
    const L = s.mgr.cgroups.layout;
    const dir = `${L.version === 1 ? L.mounts.memory : ""}/${s.config.cgroupParent}/${lab.id}`;
    const peak = Number(fs.readFileSync(`${dir}/memory.kmem.tcp.max_usage_in_bytes`, "utf8"));
    // Above the limit the kernel still lets each socket queue its minimum (tcp_wmem[0]) and forces
    // some receive-side charges (__GFP_NOFAIL), so usage ends somewhat above it: measured 79 MiB
    // at the peak and 82 MiB queued for a 64 MiB limit; without the limit, 957 MiB were queued.
    assert.ok(peak > 0 && peak <= limit * 1.5, `TCP memory peaked at ${peak}, the limit is ${limit}`);
    assert.ok(queued <= limit + 256 * 128 * 1024, `${queued} bytes queued, the limit is ${limit}`);
    await othersUnharmed();
    await s.mgr.destroy(lab.id);
  });
});
