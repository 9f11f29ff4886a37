/**
 * Checks that must not be fooled (issue 13): for each, a fresh lab for the lesson, the earlier
 * steps solved, then the shortcut a learner could take instead of the step's action; the check
 * must fail. Then the step's own solution must make it pass, in the same lab, so the check is not
 * simply unpassable there. The verifier (lessons.e2e.test.ts) proves the usual before/after.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { LabHandle } from "../labs/types.ts";
import { startServices, type Services } from "../services.ts";
import { verifierConfig } from "../testing/instance.ts";
import { readableProbe } from "../testing/readable-probe.ts";

interface Shortcut {
  lesson: string;
  step: string;
  what: string;
  /** What the learner does instead of the step (bash, run in the lab as lab root). */
  script: string;
  /** For a step that asks for an answer: what the learner types. */
  answer?: string;
  /** The shortcut destroyed what the step needs (the learner has to reset the lab). */
  irreversible?: true;
  /** The check can tell the shortcut from the real thing only on this kernel or later. */
  minKernel?: [number, number];
}

const kernel = (spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.match(/^(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
const tooOld = (sc: Shortcut) => !!sc.minKernel && (kernel[0]! < sc.minKernel[0] || (kernel[0] === sc.minKernel[0] && kernel[1]! < sc.minKernel[1]));

const SHORTCUTS: Shortcut[] = [
  // the "look" steps used to grep the shell history
  { lesson: "containers-are-processes", step: "namespace-links", what: "the command in the shell history, no answer", script: "echo 'ls -l /proc/$$/ns' >> /root/.bash_history" },
  { lesson: "containers-are-processes", step: "namespace-links", what: "another namespace's inode (mnt)", script: "true", answer: "MNT" },
  { lesson: "uts-namespaces", step: "read-the-names", what: "uname -a in the shell history, no answer", script: "uname -a >/dev/null; echo 'uname -a' >> /root/.bash_history" },
  { lesson: "uts-namespaces", step: "read-the-names", what: "the hostname instead of the release", script: "true", answer: "HOSTNAME" },
  { lesson: "setns-and-docker-exec", step: "find-the-box", what: "ls -l /proc/$BOX/ns in the shell history, no answer", script: "echo 'ls -l /proc/$BOX/ns' >> /root/.bash_history" },
  { lesson: "setns-and-docker-exec", step: "find-the-box", what: "the lab's own net namespace inode", script: "true", answer: "LABNET" },
  { lesson: "what-namespaces-do-not-isolate", step: "one-kernel", what: "uname and dmesg in the shell history, no answer", script: "printf '%s\\n' 'uname -r' 'dmesg | tail -n 3' >> /root/.bash_history" },
  { lesson: "what-namespaces-do-not-isolate", step: "one-kernel", what: "the lab's memory limit instead of the host's memory", script: "true", answer: "LABMEM" },
  // 03: typing hostname db1 inside the box
  {
    lesson: "uts-namespaces",
    step: "rename-from-outside",
    what: "hostname db1 typed inside a box",
    script: "setsid -f unshare --uts bash -c 'hostname db1; exec sleep 2001' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "uts-namespaces",
    step: "rename-from-outside",
    what: "a box that still holds CAP_SYS_ADMIN, renamed with nsenter",
    script: "setsid -f unshare --uts sleep 2002 </dev/null >/dev/null 2>&1; sleep 0.5; nsenter -t $(pgrep -f '^sleep 2002') -u hostname db1",
  },
  // 11: touch /tmp/escaped-from-chroot
  { lesson: "container-from-scratch", step: "chroot-escape", what: "touch /tmp/escaped-from-chroot", script: "touch /tmp/escaped-from-chroot" },
  {
    lesson: "container-from-scratch",
    step: "chroot-escape",
    what: "the file written from inside the chroot by a process that has exited",
    script: "mount -t proc proc /root/rootfs/proc; chroot /root/rootfs /bin/bash -c 'echo x > /proc/1/root/tmp/escaped-from-chroot'",
  },
  // 09: unshare -r does the mapping in the right order by itself
  { lesson: "user-namespaces", step: "setgroups-deny", what: "a plain unshare -r", script: "setsid -f unshare -r sleep 2003 </dev/null >/dev/null 2>&1; sleep 0.5" },
  // 05: any nsfs mount
  {
    lesson: "setns-and-docker-exec",
    step: "keep-alive",
    what: "a network namespace pinned by ip netns add, and the box killed",
    irreversible: true,
    script: "ip netns add other; b=$(cat /run/box.pid); kill -KILL $b; for d in /proc/[0-9]*; do [ \"$(readlink $d/ns/uts)\" = \"$(cat /run/box.uts)\" ] && kill -KILL ${d#/proc/}; done; sleep 0.5",
  },
  {
    lesson: "setns-and-docker-exec",
    step: "keep-alive",
    what: "the lab's own UTS namespace pinned, and the box killed",
    irreversible: true,
    script: "touch /run/lab-uts; mount --bind /proc/1/ns/uts /run/lab-uts; b=$(cat /run/box.pid); kill -KILL $b; sleep 0.5",
  },
  // 13: the new lesson's checks, held to the same rule
  {
    lesson: "pid-1-in-practice",
    step: "zombies",
    what: "a zombie under a shell of the lab, not under a box's PID 1",
    script: "setsid -f bash -c 'sleep 0.1 & exec sleep 2004' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "pid-1-in-practice",
    step: "stop-signal",
    what: "the box's parent killed instead of the box (stubborn lives on, adopted)",
    script: "kill -KILL $(ps -o ppid= -p $(cat /run/stubborn.pid)); sleep 0.3",
  },
  {
    lesson: "pid-1-in-practice",
    step: "tiny-init",
    what: "a shell as PID 1 that waits but has no SIGTERM handler",
    script: "setsid -f unshare --fork --pid --mount-proc bash -c 'sleep infinity & wait' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "pid-1-in-practice",
    step: "docker-stop",
    what: "a box under keeper ended with SIGKILL instead of SIGTERM",
    script: "setsid -f bash -c 'unshare --fork --pid --mount-proc /root/tinyinit sleep infinity & exec -a keeper sleep infinity' </dev/null >/dev/null 2>&1; sleep 0.5; k=$(pgrep -f '^keeper' | tail -n 1); kill -KILL $(pgrep -P $(pgrep -P $k)); sleep 0.5",
  },
  {
    lesson: "pid-1-in-practice",
    step: "parent-dies",
    what: "the boxes killed themselves instead of their parents",
    irreversible: true,
    script: "for b in loose-box tied-box; do kill -KILL $(cat /run/$b.pid); done; sleep 0.5",
  },
  // 14
  {
    lesson: "user-namespaces-and-the-rest",
    step: "owner",
    what: "hostname mine in a UTS namespace the lab's root made",
    script: "setsid -f unshare --uts bash -c 'hostname mine; exec sleep 2005' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "user-namespaces-and-the-rest",
    step: "owner",
    what: "a user namespace made by the lab's root, not by uid 1000",
    script: "setsid -f unshare --user --map-root-user --uts bash -c 'hostname mine; exec sleep 2006' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "user-namespaces-and-the-rest",
    step: "join",
    what: "the lab's root joins instead of uid 1000",
    script: "p=$(pgrep -f '^mine-box'); setsid -f nsenter -t $p --user --uts --preserve-credentials sleep 2007 </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "user-namespaces-and-the-rest",
    step: "proc",
    what: "a new proc mounted by the lab's root, in no user namespace of its own",
    script: "setsid -f unshare --mount --pid --fork --mount-proc sleep 2008 </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  {
    lesson: "user-namespaces-and-the-rest",
    step: "limits",
    what: "the limit lowered but not reached",
    script: "p=$(pgrep -f '^mine-box'); setpriv --reuid=1000 --regid=1000 --clear-groups nsenter -t $p --user --preserve-credentials sh -c 'echo 5 > /proc/sys/user/max_uts_namespaces'",
  },
  // 15
  {
    lesson: "networking-a-container",
    step: "bridge",
    what: "web and db joined by one veth pair, no bridge",
    script: "ip netns add web; ip netns add db; ip link add eth0 netns web type veth peer name eth0 netns db; ip -n web addr add 172.17.0.2/16 dev eth0; ip -n db addr add 172.17.0.3/16 dev eth0; ip -n web link set eth0 up; ip -n db link set eth0 up",
    irreversible: true,
  },
  {
    lesson: "networking-a-container",
    step: "default-route",
    what: "a default route through eth0 without a gateway",
    script: "ip -n web route add default dev eth0",
    irreversible: true,
  },
  {
    lesson: "networking-a-container",
    step: "masquerade",
    what: "a route back to the containers in internet instead of NAT",
    script: "ip -n internet route add 172.17.0.0/16 via 203.0.113.2",
    irreversible: true,
  },
  {
    lesson: "networking-a-container",
    step: "publish",
    what: "a server on the host's own port 8080 instead of DNAT",
    script: "setsid -f perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 8080, Listen => 5, ReuseAddr => 1) or die; while ($c = $s->accept) { print $c \"hello from web\\n\"; close $c }' </dev/null >/dev/null 2>&1; setsid -f ip netns exec web perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 80, Listen => 5, ReuseAddr => 1) or die; while ($c = $s->accept) { close $c }' </dev/null >/dev/null 2>&1; sleep 0.5",
    irreversible: true,
  },
  {
    lesson: "networking-a-container",
    step: "socket-stays",
    what: "a listener in web that never moved",
    script: "setsid -f ip netns exec web perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 9001, Listen => 5, ReuseAddr => 1) or die; sleep 1000' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
  // 16
  {
    lesson: "images-and-layers",
    step: "layers",
    what: "a bind mount of one layer instead of an overlay",
    script: "mount --bind /img/app /c1/merged",
  },
  {
    lesson: "images-and-layers",
    step: "copy-up",
    what: "a file written into the upper directory by hand",
    script: "mkdir -p /c1/upper/etc && { cat /img/base/etc/os-release; echo 'NAME=x'; } > /c1/upper/etc/os-release",
    irreversible: true,
    // before 6.6 tmpfs keeps no user.* xattrs, so a copy-up leaves no mark to tell it from this
    minKernel: [6, 6],
  },
  {
    lesson: "images-and-layers",
    step: "volume",
    what: "a container started with unshare's default propagation (private)",
    script: "mount --bind /srv/data /c1/merged/data && mount --make-rslave /c1/merged/data; setsid -f unshare --mount --pid --fork --root=/c1/merged --mount-proc sleep 2009 </dev/null >/dev/null 2>&1; sleep 0.5; mkdir -p /srv/data/cache2 && mount -t tmpfs c2 /srv/data/cache2",
  },
  {
    lesson: "images-and-layers",
    step: "dev-and-proc",
    what: "a container with a /dev of its own but an unmasked /proc",
    script: "mount -t tmpfs dev /c1/merged/dev; for d in null zero; do touch /c1/merged/dev/$d; mount --bind /dev/$d /c1/merged/dev/$d; done; setsid -f unshare --mount --pid --fork --root=/c1/merged bash -c 'mount -t proc proc /proc; exec sleep 2010' </dev/null >/dev/null 2>&1; sleep 0.5",
  },
];

/** Placeholders in answers, filled from the lab. */
const ANSWER_OF: Record<string, string> = {
  MNT: "stat -L -c %i /proc/1/ns/mnt",
  HOSTNAME: "hostname",
  LABNET: "stat -L -c %i /proc/1/ns/net",
  LABMEM: "v=$(cat /etc/nslab/cgroup-version); if [ $v = 1 ]; then m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); else m=$(cat /sys/fs/cgroup/memory.max); fi; echo $((m / 1048576))",
};

async function solveUpTo(services: Services, lab: LabHandle, lesson: string, step: string): Promise<void> {
  for (const s of services.runner.lessons.stepIds(lesson) ?? []) {
    if (s === step) return;
    const r = await services.runner.runSolution(lab, lesson, s);
    assert.ok(r.ok, `the solution of ${lesson}/${s} failed: ${r.output.slice(-300)}`);
  }
  throw new Error(`${lesson} has no step ${step}`);
}

if (process.getuid?.() !== 0) {
  test("shortcuts", () => assert.fail("the shortcut tests create real labs and need root; run npm test as root, as CI does"));
} else {
  let services: Services;
  before(async () => {
    services = await startServices(verifierConfig());
  });
  after(async () => services?.close());

  describe("a shortcut does not pass a check", () => {
    for (const sc of SHORTCUTS) {
      test(`${sc.lesson}/${sc.step}: ${sc.what}`, { skip: tooOld(sc) ? `needs Linux ${sc.minKernel!.join(".")} or later` : false }, async () => {
        const { mgr, runner } = services;
        const { lab } = await mgr.create({ lesson: sc.lesson });
        try {
          await solveUpTo(services, lab, sc.lesson, sc.step);
          const r = await lab.exec(sc.script, { timeoutMs: 30_000 });
          assert.equal(r.code, 0, `the shortcut itself ran: ${r.stderr}`);
          let answer = sc.answer;
          if (answer && ANSWER_OF[answer]) answer = (await lab.exec(ANSWER_OF[answer]!)).stdout.trim();
          for (const lang of ["en", "zh-CN"] as const) {
            const c = await runner.runCheck(lab, sc.lesson, sc.step, { lang, ...(answer !== undefined ? { answer } : {}) });
            assert.equal(c.passed, false, `${lang}: the check passed after the shortcut: "${c.feedback}"`);
          }
          if (sc.irreversible) return;
          // the intended action still works from here
          const sol = await runner.runSolution(lab, sc.lesson, sc.step);
          const c = await runner.runCheck(lab, sc.lesson, sc.step, { ...(sol.answer !== undefined ? { answer: sol.answer } : {}) });
          assert.ok(c.passed, `after the shortcut, the step's own solution does not pass: "${c.feedback}" (${sol.output.slice(-200)})`);
        } finally {
          await mgr.destroy(lab.id);
        }
      });
    }
  });

  test("user-namespaces/setgroups-deny in a rootless lab: the check fails before the step and passes after it", async () => {
    // the probe runs as nobody, from a copy nobody can read (the checkout may be in a 0700 home)
    const root = verifierConfig({ isolated: false }).root;
    const dir = await readableProbe(root, "server/testing/lesson-probe.ts", ["lessons"]);
    let r: SpawnSyncReturns<string>;
    try {
      r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, path.join(dir, "server", "probe.mjs"), "user-namespaces", "setgroups-deny"], {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NSLAB_STATE_DIR: path.join(dir, "state"), NODE_ENV: "test" },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(r.status, 0, `probe failed:\n${r.stdout}\n${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(res.mode, "rootless");
    assert.equal(res.labSetgroups, "deny", "a rootless lab runs with setgroups deny: every nested namespace inherits it");
    assert.equal(res.before.passed, false, `passed before the step in rootless mode: ${res.before.feedback}`);
    assert.equal(res.after.passed, true, `the solution did not pass in rootless mode: ${res.after.feedback}`);
  });
}
