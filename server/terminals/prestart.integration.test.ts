/**
 * A new lab's first shell starts with the lab (issue 9, speed): a learner's page opens a terminal as
 * soon as it has its lab, so the server starts that shell at creation, as a pooled lab's already
 * is, instead of after the page's socket arrives. The socket then takes that shell.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { LabManager } from "../labs/manager.ts";
import { createLab, TermClient, testServer } from "../testing/harness.ts";
import { testConfig } from "../testing/instance.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_POOL: "0" });
});
after(async () => s?.close());

async function until(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a lab made for a learner starts its first shell before any socket asks, and the first socket takes it", async () => {
  const lab = await createLab(s.url);
  const made = s.mgr.get(lab.id)!;
  // no socket yet: the shell is there anyway, and prints its prompt into the scrollback
  await until(() => s.terminals.shells(made).length === 1, "a shell started with the lab");
  const [shell] = s.terminals.shells(made);
  await until(() => (s.terminals.of(made).get(shell!.id)?.outputOffset ?? 0) > 0, "its first prompt");

  const t = new TermClient(s.url, lab, "&cols=90&rows=20");
  await t.opened;
  await t.until((c) => /# $/.test(c.output), "the prompt");
  assert.equal(t.ready!.terminal, shell!.id, "the socket took the shell started with the lab");
  assert.ok(t.ready!.replayed > 0, "its prompt came from the scrollback");
  assert.equal((await t.run("stty size")).trim(), "20 90", "resized to the page's size");
  assert.equal((await t.run("echo $$")).trim(), "2", "the lab's first shell (pid 2 after init)");
  const second = new TermClient(s.url, lab);
  await second.opened;
  await second.until((c) => !!c.ready, "ready");
  assert.notEqual(second.ready!.terminal, shell!.id, "a second connection opens a new shell");
  t.close();
  second.close();
  await s.mgr.destroy(lab.id);
});

test("a new lab's first shell is started by the helper that makes the lab: no second helper started it", async () => {
  const lab = await createLab(s.url);
  const made = s.mgr.get(lab.id)!;
  await until(() => s.terminals.shells(made).length === 1, "the terminal that took the shell");
  const trace = made.trace();
  // one nslab-helper made the lab and started the shell: the server spawned one helper in all
  const helpers = trace.filter((e) => e.who === "server" && e.sys === "posix_spawn");
  assert.equal(helpers.length, 1, `helpers started: ${JSON.stringify(helpers.map((e) => e.scope))}`);
  assert.equal(helpers[0]!.scope, "lab");
  // the shell's own steps are its terminal's (setns into the lab, the clone, its seccomp, execve)
  const shell = trace.filter((e) => e.scope === "terminal:t1").map((e) => `${e.who} ${e.sys}`);
  for (const step of ["server openat2", "shell setns", "shell clone", "shell seccomp", "shell execve"]) assert.ok(shell.includes(step), `${step} in ${shell.join(", ")}`);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => /# $/.test(c.output), "the prompt");
  assert.equal((await t.run("echo $$ $(tty)")).trim(), "2 /dev/pts/0", "the first shell, on the lab's first pty");
  t.close();
  await s.mgr.destroy(lab.id);
});

test("a lab made without a page (a script, the lesson verifier) starts no shell", async () => {
  const { lab } = await s.mgr.create();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.terminals.shells(lab).length, 0);
  await s.mgr.destroy(lab.id);
});

/** The terminal's text without colours, bracketed paste and the command marks (OSC 633). */
const plain = (out: string) => out.replace(/\x1b\][^\x07]*\x07/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

test("a terminal's shell knows it is in the lab's own namespaces: its first prompt forks nothing, and nested shells still look", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => /root@lab-[0-9a-f]{6}:~# $/.test(plain(c.output)), "a prompt that names no namespace of its own");
  // pid 1 is init, 2 this shell: nothing ran in between (no stat(1) for the prompt), so the next is 3
  assert.equal((await t.run("sh -c 'echo $$'")).trim(), "3", "the shell's start forked nothing");
  assert.equal((await t.run('echo "[$NSLAB_NS_HOME]"')).trim(), "[]", "the marker is not passed on to nested shells");
  const pidns = (await t.run("stat -L -c %i /proc/self/ns/pid")).trim();
  assert.equal((await t.run("echo $NSLAB_SHELL_pid")).trim(), `${pidns}:0`);
  assert.match((await t.run("echo $NSLAB_NS")).trim(), new RegExp(`(^| )pid:${pidns}( |$)`));
  // a nested shell in new pid and mount namespaces says where it is
  t.send("unshare -p -f -m --mount-proc bash -i\r");
  await t.until((c) => /root@lab-[0-9a-f]{6} \[pid\+1 mnt\]:~# $/.test(plain(c.output)), "the nested shell's prompt");
  t.send("exit\r");
  await t.until((c) => /exit\r\n(.*\r\n)*root@lab-[0-9a-f]{6}:~# $/.test(plain(c.output)), "back home");
  t.close();
  await s.mgr.destroy(lab.id);
});

test("a first shell that fails to start leaves the lab whole, and one that nobody takes ends with its lab", async () => {
  const fds = () => fs.readdirSync("/proc/self/fd").length;
  // what a manager's whole life leaves open: nothing (its labs' and their shells' pidfds, ptys and
  // listeners, the next lab's helper started ahead)
  await new Promise((r) => setTimeout(r, 300)); // the earlier tests' sockets finish closing
  const base = fds();
  const mgr = await LabManager.start(testConfig({ tag: "firstshell" }), {
    prestart: () => {},
    firstShell: { argv: ["/nonexistent/shell"], cols: 80, rows: 24 },
  });
  try {
    // exec fails in the shell's child: the lab is made anyway, its trace says where the shell failed
    const { lab } = await mgr.create({ terminal: true });
    assert.ok(lab.running);
    assert.equal(await lab.takeFirstShell(["/nonexistent/shell"], { cols: 80, rows: 24, traceScope: "terminal:t1" }), undefined, "no shell to take");
    assert.ok(lab.trace().some((e) => e.scope === "lab" && e.who === "shell" && e.sys === "execve" && e.errno !== 0), "the failed execve is in the lab's trace");
    assert.equal(lab.hostPidsSync().length, 1, "the failed shell was reaped");
    const r = await lab.exec("echo $$");
    assert.equal(r.stdout.trim(), "3", "the lab works: its next process (the failed shell had pid 2)");
    await mgr.destroy(lab.id);
  } finally {
    await mgr.shutdown();
  }
  assert.equal(fds(), base, "no fd of the failed shell kept");
  const kept = await LabManager.start(testConfig({ tag: "firstshell" }), { prestart: () => {}, firstShell: { argv: ["/bin/bash", "-l"], cols: 80, rows: 24 } });
  try {
    const { lab } = await kept.create({ terminal: true });
    await until(() => lab.hostPidsSync().length === 2, "init and the shell nobody takes");
    const shellPid = lab.hostPidsSync().find((p) => p !== lab.initPid)!;
    await kept.destroy(lab.id);
    assert.ok(!fs.existsSync(`/proc/${shellPid}`), "the shell ended with its lab");
  } finally {
    await kept.shutdown();
  }
  assert.equal(fds(), base, "its pty master, pidfd and listener were closed");
});
