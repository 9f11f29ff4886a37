/**
 * The lab core against the real kernel, through the real API and WebSocket: what a learner can do
 * in a lab, what stays contained, and that labs leave nothing behind. Needs root (CI runs as root).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fs from "node:fs";
import os from "node:os";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";
import { findValue } from "../testing/find-value.ts";
import { isolatedEnv } from "../testing/instance.ts";

if (process.getuid?.() !== 0) throw new Error("lab integration tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_PIDS_MAX: "64", NSLAB_MEMORY_MAX: "96M", NSLAB_SCRATCH_SIZE: "16M", NSLAB_GRACE_MS: "3000" });
});
after(async () => s.close());

async function prompt(t: TermClient) {
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the first prompt");
}

describe("a terminal in a lab", () => {
  test("is a shell in the lab's own namespaces", async () => {
    const lab = await createLab(s.url);
    assert.match(lab.id, /^[0-9a-f]{16}$/);
    assert.equal(lab.mode, "root");
    const t = new TermClient(s.url, lab);
    await prompt(t);
    assert.equal((await t.run("cat /proc/1/comm")).trim(), "nslab-init");
    const ps = (await t.run("ps -e -o pid=,comm=")).trim().split("\n").map((l) => l.trim().split(/\s+/));
    assert.deepEqual(ps.map((p) => p[1]).sort(), ["bash", "nslab-init", "ps"].sort(), "ps -e lists only the lab's processes");
    const nspid = (await t.run("grep NSpid /proc/$$/status")).trim().split(/\s+/).slice(1).map(Number);
    assert.equal(nspid.length, 1, "inside the lab, /proc shows the lab's level only");
    const hostPid = s.terminals.of(s.mgr.get(lab.id)!).get("t1")!.pid;
    const hostNspid = /NSpid:\s+(.*)/.exec(fs.readFileSync(`/proc/${hostPid}/status`, "utf8"))![1]!.trim().split(/\s+/).map(Number);
    assert.equal(hostNspid.length, 2);
    assert.equal(hostNspid[0], hostPid);
    assert.equal(hostNspid[1], nspid[0]);
    assert.notEqual(hostNspid[0], hostNspid[1], "the host pid and the lab pid differ");
    assert.equal((await t.run("hostname")).trim(), lab.hostname);
    assert.notEqual(os.hostname(), lab.hostname);
    const links = (await t.run("ip -o link")).trim().split("\n");
    assert.equal(links.length, 1);
    assert.match(links[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    assert.equal((await t.run("id -u")).trim(), "0");
    const hostUid = Number(/Uid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${hostPid}/status`, "utf8"))![1]);
    assert.ok(hostUid >= s.config.uidBase, `the host sees an unprivileged uid (${hostUid})`);
    assert.match((await t.run("tty")).trim(), /^\/dev\/pts\/\d+$/);
    assert.equal((await t.run("ls /dev/pts | grep -v ptmx | wc -l")).trim(), "1", "no host pty is visible");
    t.close();
  });

  test("can do what the lessons need", async () => {
    const lab = await createLab(s.url);
    const t = new TermClient(s.url, lab);
    await prompt(t);
    const steps: [string, RegExp][] = [
      ["unshare -fp --mount-proc sh -c 'echo pid=$$; ps -e -o pid= | wc -l'", /pid=1\n\s*3\n/],
      ["unshare -u sh -c 'hostname inner; hostname'; hostname", new RegExp(`inner\n${lab.hostname}\n`)],
      [
        "mkdir -p /mnt/a && mount -t tmpfs t /mnt/a && mount --make-shared /mnt/a && unshare -m --propagation unchanged sh -c 'mkdir -p /mnt/a/b && mount -t tmpfs u /mnt/a/b && findmnt -no PROPAGATION /mnt/a && mount --make-private /mnt/a && mount --make-slave /mnt/a; mount --make-unbindable /mnt/a && echo modes-ok'",
        /shared\nmodes-ok\n/,
      ],
      ["setsid -f sleep 300; sleep 0.2; P=$(pgrep -n sleep); nsenter -t $P -a hostname", new RegExp(`${lab.hostname}\n`)],
      [
        "ip netns add a && ip netns add b && ip link add va netns a type veth peer name vb netns b && ip -n a addr add 10.9.0.1/24 dev va && ip -n b addr add 10.9.0.2/24 dev vb && ip -n a link set va up && ip -n b link set vb up && ip netns exec a ping -c1 -W2 10.9.0.2 >/dev/null && echo veth-ok",
        /veth-ok\n/,
      ],
      ["ipcmk -Q >/dev/null && ipcs -q | grep -c 0x", /^1\n/],
    ];
    for (const [cmd, want] of steps) assert.match(await t.run(cmd, 15_000), want, cmd);
    t.close();
  });
});

describe("containment", () => {
  test("host files, host processes and other labs are out of reach", async () => {
    const a = await createLab(s.url);
    const b = await createLab(s.url);
    const labA = s.mgr.get(a.id)!;
    const labB = s.mgr.get(b.id)!;
    const r = await labA.exec(
      [
        "cat /etc/shadow && echo READ-SHADOW",
        "for p in /usr/bin/ls /proc/sys/kernel/hostname /sys/class /usr/nslab-x; do touch $p 2>/dev/null && echo WROTE $p; done",
        `kill -9 ${process.pid} 2>/dev/null && echo KILLED-SERVER`,
        `kill -9 ${labB.initPid} 2>/dev/null && echo KILLED-OTHER`,
        "echo done",
      ].join("\n"),
    );
    assert.equal(r.stdout, "done\n", r.stdout + r.stderr);
    assert.ok(fs.existsSync(`/proc/${labB.initPid}`));
    // the host's shadow file is not even visible; and host files are not writable through any mount
    const mounts = await labA.exec("cat /proc/self/mountinfo");
    assert.doesNotMatch(mounts.stdout, / \/work| \/etc\/shadow/);
    // isolation between the two labs
    await labA.exec("setsid -f sleep 1234; mkdir -p /mnt/x && mount -t tmpfs only-in-a /mnt/x; ipcmk -Q; ip link add dummy-a type dummy");
    const seen = await labB.exec("ps -e -o args=; cat /proc/self/mountinfo; ipcs -q; ip -o link");
    assert.doesNotMatch(seen.stdout, /sleep 1234|only-in-a|dummy-a|0x[0-9a-f]+ +\d+ +root/);
    await s.mgr.destroy(a.id);
    await s.mgr.destroy(b.id);
  });

  test("a fork bomb stops at the pids limit and the lab stays usable", async () => {
    const lab = s.mgr.get((await createLab(s.url)).id)!;
    // dash reports a failed fork at once (bash would retry with back-off)
    const r = await lab.exec("sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done'; pgrep -c sleep", { timeoutMs: 20_000 });
    assert.match(r.stderr, /Cannot fork|Resource temporarily unavailable/);
    assert.ok(Number(r.stdout.trim()) < 64 && Number(r.stdout.trim()) > 20, r.stdout);
    await lab.exec("pkill sleep");
    const after = await lab.exec("echo still-here");
    assert.equal(after.stdout, "still-here\n");
    await s.mgr.destroy(lab.id);
  });

  test("a memory hog is killed inside the lab only", async () => {
    const lab = s.mgr.get((await createLab(s.url)).id)!;
    const r = await lab.exec("head -c 400M /dev/zero | tail > /dev/null; echo status=$?", { timeoutMs: 30_000 });
    assert.match(r.stdout, /status=137/, "tail was SIGKILLed by the OOM killer");
    assert.equal((await lab.exec("echo alive")).stdout, "alive\n");
    await s.mgr.destroy(lab.id);
  });

  test("filling the scratch stops at its bound", async () => {
    const lab = s.mgr.get((await createLab(s.url)).id)!;
    const r = await lab.exec("dd if=/dev/zero of=/root/fill bs=1M count=64 2>&1; du -m /root/fill | cut -f1");
    assert.match(r.stdout, /No space left on device/);
    assert.ok(Number(r.stdout.trim().split("\n").pop()) <= 16);
    await s.mgr.destroy(lab.id);
  });
});

describe("API", () => {
  test("tokens, errors and deletion", async () => {
    const lab = await createLab(s.url);
    assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`)).status, 401);
    const wrong = await api(s.url, "GET", `/api/labs/${lab.id}`, "x".repeat(32));
    const unknown = await api(s.url, "GET", `/api/labs/${"0".repeat(16)}`, lab.token);
    assert.equal(wrong.status, 404);
    assert.deepEqual(wrong.json, unknown.json, "a wrong token and an unknown lab look the same");
    const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
    assert.equal(st.status, 200);
    assert.equal(st.json.state, "running");
    assert.equal((await api(s.url, "POST", "/api/labs", undefined, "{not json")).status, 400);
    assert.equal((await api(s.url, "POST", "/api/labs", undefined, { lesson: "../../etc" })).status, 400);
    assert.equal((await api(s.url, "POST", "/api/labs", undefined, { bogus: 1 })).status, 400);
    const trace = await api(s.url, "GET", `/api/labs/${lab.id}/trace`, lab.token);
    const names = trace.json.map((e: { sys: string }) => e.sys);
    for (const n of ["clone3", "write", "pivot_root", "sethostname", "mount", "execveat"]) assert.ok(names.includes(n), n);
    assert.match(trace.json.find((e: { sys: string }) => e.sys === "clone3").args, /CLONE_NEWUSER\|CLONE_NEWPID\|CLONE_NEWNS/);
    const init = s.mgr.get(lab.id)!.initPid;
    // init names itself (prctl PR_SET_NAME) as its first act after the exec, which the lab's
    // answer does not wait for: until then comm is what execveat(AT_EMPTY_PATH) of the memfd
    // gave it. On a busy host init may not have run yet: ask again for a while.
    type Proc = { hostPid: number; nspid: number[]; comm: string };
    let initInfo: Proc | undefined;
    for (let i = 0; i < 100; i++) {
      const procs = await api(s.url, "GET", `/api/labs/${lab.id}/processes`, lab.token);
      initInfo = (procs.json.processes as Proc[]).find((p) => p.hostPid === init);
      if (initInfo?.comm === "nslab-init") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(initInfo?.nspid, [init, 1], "init: its host pid and PID 1 in the lab");
    assert.equal(initInfo?.comm, "nslab-init");
    const mounts = await api(s.url, "GET", `/api/labs/${lab.id}/mounts?pid=${init}`, lab.token);
    assert.ok(mounts.json.some((m: { mountPoint: string; fsType: string }) => m.mountPoint === "/proc" && m.fsType === "proc"));
    assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}/mounts?pid=1`, lab.token)).status, 404, "not the host's init");
    assert.equal((await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token)).status, 204);
    assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).status, 404);
    assert.equal(fs.existsSync(`/proc/${init}`), false, "the lab's init is gone");
  });
});

describe("the token", () => {
  test("is given to the learner once: after the create response, nothing on the server holds it", async () => {
    const lab = await createLab(s.url);
    const t = new TermClient(s.url, lab);
    await prompt(t);
    assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).status, 200, "the token works");
    const held = s.mgr.get(lab.id)!;
    // the lab itself, the manager (its directory of labs, the pool), the terminals, the classroom
    for (const [name, root] of Object.entries({ lab: held, mgr: s.mgr, terminals: s.terminals, classes: s.classes }))
      assert.equal(findValue(root, lab.token, name), null, `${name} holds the plaintext token`);
    t.close();
    await s.mgr.destroy(lab.id);
  });
});

describe("cleanup", () => {
  test("500 create/destroy cycles leave nothing behind", async () => {
    // a server of its own, so the other tests' labs cannot change the counts
    const own = await testServer(isolatedEnv("cycles"));
    try {
      await cycles(own);
    } finally {
      await own.close();
    }
  });
});

async function cycles(s: Awaited<ReturnType<typeof testServer>>): Promise<void> {
  const count = () => {
    const pids = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n));
    // Only what is ours is counted: other checkouts run their tests on this host at the same time,
    // so host-wide counts move on their own. Ours: the server's descendants (labs, shells and
    // helpers are its children; every lab process is below its lab's init), processes in this
    // instance's uid range, mounts under its state dir (where a lab's mounts would leak to).
    const parent = new Map<number, number>();
    let zombies = 0;
    let labProcesses = 0;
    for (const p of pids) {
      try {
        const st = fs.readFileSync(`/proc/${p}/status`, "utf8");
        parent.set(Number(p), Number(/^PPid:\s+(\d+)/m.exec(st)![1]));
        if (/^State:\s+Z/m.test(st) && Number(/^PPid:\s+(\d+)/m.exec(st)![1]) === process.pid) zombies++;
        const uid = Number(/^Uid:\s+(\d+)/m.exec(st)![1]);
        if (uid >= s.config.uidBase && uid < s.config.uidBase + s.config.maxLabs * 65536) labProcesses++;
      } catch {}
    }
    const cgDirs = s.mgr.cgroups.parentDirs().flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []));
    const ours = (pid: number) => {
      for (let p = parent.get(pid), hops = 0; p && hops < 64; p = parent.get(p), hops++) if (p === process.pid) return true;
      return false;
    };
    const state = s.config.stateDir.replace(/\/$/, "");
    return {
      processes: [...parent.keys()].filter(ours).length,
      zombies,
      labProcesses,
      mounts: fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => {
        const mountPoint = l.split(" ")[4] ?? "";
        return mountPoint === state || mountPoint.startsWith(state + "/");
      }).length,
      fds: fs.readdirSync("/proc/self/fd").length,
      // the next lab's, made when a lab ended (LabManager.spare), are not left behind: one set at most
      cgroups: cgDirs.filter((d) => /^[0-9a-f]{16}$/.test(d) && d !== s.mgr.spareCgroups).length,
    };
  };
  const labsBefore = s.mgr.count;
  const before = count();
  for (let i = 0; i < 500; i++) {
    const { lab } = await s.mgr.create({});
    if (i % 50 === 0) assert.equal((await lab.exec("echo ok")).stdout, "ok\n");
    await s.mgr.destroy(lab.id);
  }
  await new Promise((r) => setTimeout(r, 200));
  const afterCounts = count();
  assert.equal(s.mgr.count, labsBefore);
  assert.equal(afterCounts.zombies, 0, "no zombie children of the server");
  assert.deepEqual({ ...afterCounts, processes: 0, fds: 0 }, { ...before, processes: 0, fds: 0 });
  assert.ok(afterCounts.fds <= before.fds, `fds ${before.fds} -> ${afterCounts.fds}`);
  // ours must not accumulate (a lab being reaped right now may still show)
  assert.ok(afterCounts.processes <= before.processes + 3, `processes ${before.processes} -> ${afterCounts.processes}`);
}
