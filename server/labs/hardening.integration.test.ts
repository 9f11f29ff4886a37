/**
 * Containment against a hostile learner, on the real kernel: each test plays an attack from
 * inside a real lab and shows it contained. Each names the protection it proves; removing that
 * protection makes the test fail (checked once by mutation, listed in /work/notes).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NativeError } from "../native/core.ts";
import { createLab, testServer } from "../testing/harness.ts";
import type { Lab } from "./lab.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_MEMORY_MAX: "256M", NSLAB_LABS_PER_CLIENT: "20" });
});
after(async () => s.close());

async function newLab(): Promise<Lab> {
  return s.mgr.get((await createLab(s.url)).id)!;
}

async function sh(lab: Lab, script: string, timeoutMs = 20_000) {
  const r = await lab.exec(script, { timeoutMs });
  return r;
}

async function openFails(lab: Lab): Promise<NativeError> {
  try {
    const t = await lab.openTerminal(80, 24);
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
