/**
 * The learner's own namespace calls in the trace (seccomp user notification answered with
 * CONTINUE, native/src/tracer.c): what a terminal's commands asked the kernel, decoded and
 * attributed to the process, apart from nslab's own calls; nothing for calls without namespace
 * flags; observation only (the kernel still refuses what it refuses).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import type { TraceEntry } from "../../lib/protocol.ts";
import { attackResults, installAttack } from "../testing/attack.ts";
import { createLab, testServer, TermClient } from "../testing/harness.ts";
import type { Lab } from "./lab.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_TRACE_SYSCALLS: "1" });
});
after(async () => s.close());

const learner = (lab: Lab) => lab.trace().filter((e) => e.who === "learner");

async function until(what: string, pred: () => TraceEntry | undefined, ms = 20_000): Promise<TraceEntry> {
  const deadline = Date.now() + ms;
  for (;;) {
    const e = pred();
    if (e) return e;
    if (Date.now() > deadline) throw new Error(`no trace entry: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** the server's own seccomp listener fds (the tracer's duplicates) */
const listeners = () =>
  fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === "anon_inode:seccomp notify";
    } catch {
      return false;
    }
  }).length;

test("a terminal's namespace calls are the learner's entries: decoded, attributed, with results where the namespaces show them", async () => {
  const c = await createLab(s.url);
  const lab = s.mgr.get(c.id)!;
  const t = new TermClient(s.url, c);
  await t.opened;
  await t.until((x) => /[#$] $/.test(x.output), "the first prompt");
  assert.equal((await t.run("unshare -u hostname box; hostname")).trim(), lab.hostname, "the shell kept its hostname");
  const u = await until("unshare(CLONE_NEWUTS)", () => learner(lab).find((e) => e.sys === "unshare" && e.args === "CLONE_NEWUTS"));
  const h = await until('sethostname("box")', () => learner(lab).find((e) => e.sys === "sethostname" && e.args === '"box", 3'));
  assert.equal(u.comm, "unshare");
  assert.equal(h.comm, "hostname");
  assert.ok(u.pid! > 1 && h.pid === u.pid, "the one process the command started (unshare executed hostname)");
  assert.equal(u.scope, "terminal:t1");
  assert.match(u.result!, /^ok: new uts:\[\d+\]$/, "inferred from the process's namespaces");
  assert.ok(u.seq < h.seq);
  // hostname has exited long before anyone could look: its result comes from what the tracer
  // read while it was suspended in the call (its UTS namespace's owner, its capabilities)
  assert.equal(h.result, `ok: root in the user namespace that owns ${/uts:\[\d+\]/.exec(u.result!)![0]}`, "by the kernel's rule, in the new UTS namespace");
  // setdomainname: the same rule (x86_64 syscall 171), the caller gone at once too
  await t.run(`unshare -u perl -e 'my $n = "dom"; syscall(171, $n, 3)'`);
  const d = await until('setdomainname("dom")', () => learner(lab).find((e) => e.sys === "setdomainname" && e.args === '"dom", 3'));
  assert.match(d.result!, /^ok: root in the user namespace that owns uts:\[\d+\]$/);
  // the mount family, with the strings read from the caller's memory
  await t.run("unshare -m sh -c 'mount -t tmpfs -o size=1m demo /mnt'");
  await until("mount(demo)", () => learner(lab).find((e) => e.sys === "mount" && e.args === '"demo", "/mnt", "tmpfs", 0, "size=1m"'));
  t.close();
  await s.mgr.destroy(c.id);
});

test("calls without namespace flags are not reported (a fork+exec loop never meets the tracer), nor are checks", async () => {
  const c = await createLab(s.url);
  const lab = s.mgr.get(c.id)!;
  const t = new TermClient(s.url, c);
  await t.opened;
  await t.until((x) => /[#$] $/.test(x.output), "the first prompt");
  await t.run("for i in $(seq 50); do /bin/true; done; sh -c 'sleep 0 & wait'; unshare -m true");
  await until("the closing unshare -m", () => learner(lab).find((e) => e.sys === "unshare" && e.args === "CLONE_NEWNS"));
  const calls = learner(lab).map((e) => `${e.sys}(${e.args})`);
  assert.deepEqual(calls, ["unshare(CLONE_NEWNS)", 'mount("none", "/", NULL, MS_REC|MS_PRIVATE, NULL)'], "only the unshare and the mount it makes");
  await lab.exec("unshare -u true; unshare -m true");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(learner(lab).length, 2, "a check (lab.exec) is nslab's, not traced");
  t.close();
  await s.mgr.destroy(c.id);
});

test("observation only: the kernel still refuses what it refuses, the learner cannot take the listener, and it goes with the processes", async () => {
  const before = listeners();
  const c = await createLab(s.url);
  const lab = s.mgr.get(c.id)!;
  await installAttack(lab);
  const t = new TermClient(s.url, c);
  await t.opened;
  await t.until((x) => /[#$] $/.test(x.output), "the first prompt");
  assert.ok(listeners() > before, "the tracer holds this terminal's listener");
  // a new user namespace owns nothing of the lab's UTS namespace: sethostname fails, traced or not
  assert.match(await t.run("unshare -U hostname nope 2>&1"), /Operation not permitted|must be root/);
  const refused = await until('sethostname("nope") (refused by the kernel)', () => learner(lab).find((e) => e.sys === "sethostname" && e.args === '"nope", 4'));
  assert.match(refused.result!, /^failed: uts:\[\d+\] belongs to the parent of its user namespace \(EPERM\)$/, "hostname had exited: the result by the rule, from what was read during the call");
  assert.equal((await t.run("hostname")).trim(), lab.hostname);
  // a second listener on the same process is refused by the kernel (only one per filter chain)
  assert.deepEqual(attackResults(await t.run("/root/attack listener")), { seccomp_new_listener: "EBUSY", seccomp_plain: "OK" });
  t.close();
  await s.mgr.destroy(c.id);
  // no task uses the filter any more: the tracer closes its listener (EPOLLHUP)
  const deadline = Date.now() + 20_000;
  while (listeners() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(listeners(), before);
});

test("unshare -fp --mount-proc: the unshare, the fork inferred from the lab's state (a plain clone is never reported), and the mount of proc with its result", async () => {
  const c = await createLab(s.url);
  const lab = s.mgr.get(c.id)!;
  const t = new TermClient(s.url, c);
  await t.opened;
  await t.until((x) => /[#$] $/.test(x.output), "the first prompt");
  t.send("unshare -fp --mount-proc bash\r");
  assert.match(await t.run("echo pid=$$"), /pid=1\n/, "the new shell is PID 1 of the new pid namespace");
  const u = await until("unshare(CLONE_NEWNS|CLONE_NEWPID)", () => learner(lab).find((e) => e.sys === "unshare" && /CLONE_NEWPID/.test(e.args) && /CLONE_NEWNS/.test(e.args)));
  const fork = await until("the inferred clone", () => learner(lab).find((e) => e.sys === "clone" && e.inferred));
  const proc = await until("mount of proc", () => learner(lab).find((e) => e.sys === "mount" && e.args.startsWith('"proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC')));
  assert.match(u.result!, /^ok: new /);
  assert.equal(fork.comm, "unshare");
  assert.equal(fork.pid, u.pid, "the unshare process forked");
  const m = /^ok: child is PID 1 of pid:\[(\d+)\], PID (\d+) in the lab$/.exec(fork.result ?? "");
  assert.ok(m, `the fork's result: ${fork.result}`);
  assert.equal(Number(m[2]), proc.pid, "the child made the mount");
  assert.ok(u.seq < fork.seq && fork.seq < proc.seq, "in order: unshare, clone, the child's mount");
  assert.match(proc.result!, /^ok: proc at \/proc \(its mount table\)$/);
  // what it did before forking: / made private, seen in its mount table too
  const priv = learner(lab).find((e) => e.sys === "mount" && e.args.startsWith('"none", "/", NULL, MS_REC|MS_PRIVATE'));
  assert.equal(priv?.result, "ok: / is private (its mount table)");
  // mount(8) and pivot_root(8) exit at once: their results are read from the shell that ran them,
  // in the same mount namespace
  // (one at a time: the look comes a moment after each, and a pivot_root moves every path)
  await t.run("mount -t tmpfs -o size=1m demo /mnt");
  const tmpfs = await until("mount(demo)", () => learner(lab).find((e) => e.sys === "mount" && e.args.startsWith('"demo", "/mnt", "tmpfs"')));
  assert.equal(tmpfs.comm, "mount");
  assert.equal(tmpfs.result, "ok: tmpfs at /mnt (its mount table)");
  await t.run("mkdir -p /tmp/nr/old && mount --bind /tmp/nr /tmp/nr && cd /tmp/nr && pivot_root . old");
  const pivot = await until("pivot_root", () => learner(lab).find((e) => e.sys === "pivot_root"));
  assert.equal(pivot.result, "ok: its mount namespace has a new root");
  t.send("exit\r");
  t.close();
  await s.mgr.destroy(c.id);
});

test("unshare -Ur: the writes to uid_map and gid_map (file writes seccomp does not see) are inferred from the new user namespace's maps, also when the command exited at once; sethostname's result from the kernel's rule", async () => {
  const c = await createLab(s.url);
  const lab = s.mgr.get(c.id)!;
  const t = new TermClient(s.url, c);
  await t.opened;
  await t.until((x) => /[#$] $/.test(x.output), "the first prompt");
  t.send("unshare -Ur bash\r");
  assert.match(await t.run("cat /proc/self/uid_map"), /^\s*0\s+0\s+1\s*$/m);
  const u = await until("unshare(CLONE_NEWUSER)", () => learner(lab).find((e) => e.sys === "unshare" && e.args === "CLONE_NEWUSER"));
  const uid = await until("the inferred uid_map write", () => learner(lab).find((e) => e.inferred && e.sys === "write" && /uid_map/.test(e.args)));
  const gid = await until("the inferred gid_map write", () => learner(lab).find((e) => e.inferred && e.sys === "write" && /gid_map/.test(e.args)));
  // as unshare -r wrote them: the new root is the lab's root (0), in the lab's terms
  assert.equal(uid.args, `"/proc/${u.pid}/uid_map", "0 0 1"`);
  assert.equal(gid.args, `"/proc/${u.pid}/gid_map", "0 0 1"`);
  assert.match(uid.result!, /^ok: the uid map of user:\[\d+\]/);
  assert.ok(u.seq < uid.seq);
  t.send("exit\r");
  // sethostname: root in a user namespace that owns its UTS namespace may; in a newer user namespace it may not
  await t.run("unshare -u perl -e 'my $n = \"box\"; syscall(170, $n, 3); sleep 2'; unshare -U perl -e 'my $n = \"nope\"; syscall(170, $n, 4); sleep 2'", 30_000);
  const ok = await until('sethostname("box")', () => learner(lab).find((e) => e.sys === "sethostname" && e.args === '"box", 3'));
  const no = await until('sethostname("nope")', () => learner(lab).find((e) => e.sys === "sethostname" && e.args === '"nope", 4'));
  assert.match(ok.result!, /^ok: root in the user namespace that owns uts:\[\d+\]$/);
  assert.match(no.result!, /^failed: uts:\[\d+\] belongs to the parent of its user namespace \(EPERM\)$/);
  // unshare -Ur sleep 0.05: the maps are written, then sleep exits long before the server's look
  // (~150 ms after the record): the tracer read them through the files it opened while unshare was
  // in the new namespace. (`unshare -Ur true` is often gone before the tracer's first look, 0.1 ms
  // after the call, on a busy host: then nothing is shown.)
  assert.equal((await t.run("unshare -Ur sleep 0.05 && echo done")).trim(), "done");
  const u2 = await until("unshare -Ur sleep's unshare", () => learner(lab).find((e) => e.sys === "unshare" && e.args === "CLONE_NEWUSER" && e.seq > no.seq));
  const uid2 = await until("its uid_map write", () => learner(lab).find((e) => e.inferred && e.sys === "write" && e.args.startsWith(`"/proc/${u2.pid}/uid_map"`)));
  const gid2 = await until("its gid_map write", () => learner(lab).find((e) => e.inferred && e.sys === "write" && e.args.startsWith(`"/proc/${u2.pid}/gid_map"`)));
  assert.equal(uid2.args, `"/proc/${u2.pid}/uid_map", "0 0 1"`);
  assert.equal(gid2.args, `"/proc/${u2.pid}/gid_map", "0 0 1"`);
  assert.match(uid2.result!, /^ok: the uid map of user:\[\d+\] \(read just after the call\)$/);
  assert.ok(u2.seq < uid2.seq && uid2.seq < gid2.seq);
  t.close();
  await s.mgr.destroy(c.id);
});
