/**
 * A real server process run the way a host might run it: installed below /usr (so the labs' /usr
 * bind would show it), on a host whose mounts are shared (systemd makes / shared; this test gives
 * the server a mount namespace where they are), and finally killed with kill -9. Each test names
 * the code it proves; removing that code makes it fail (mutations in /work/notes/issue-16.md).
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createLab, TermClient } from "../testing/harness.ts";
import { isolatedEnv, testConfig } from "../testing/instance.ts";
import { killServerProcesses, startServerProcess, type ServerProcess } from "../testing/server-process.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

const REPO_ROOT = testConfig().root;
const env: Record<string, string> = { ...isolatedEnv("install"), NSLAB_POOL: "0", NSLAB_MAX_LABS: "8" };
const uidBase = Number(env.NSLAB_UID_BASE);
const uidEnd = uidBase + 8 * 65536;
// an empty directory below /usr that the server's mount namespace covers with a tmpfs of its own
const UNDER = ["/usr/local/src", "/usr/src", "/usr/local/games", "/usr/games"].find((d) => fs.existsSync(d) && fs.statSync(d).isDirectory());
const INSTALL = `${UNDER}/nslab`;
const marker = `nslab-install-marker-${crypto.randomBytes(6).toString("hex")}`;

let server: ServerProcess;
let lab: Awaited<ReturnType<typeof createLab>>;
let term: TermClient | undefined;

/** The lab's first terminal, at its prompt (opened when a test first needs it). */
async function shell(): Promise<TermClient> {
  if (!term) {
    term = new TermClient(server.url, lab);
    await term.opened;
  }
  await term.until((c) => /[#$] $/.test(c.output), "the first prompt", 30_000);
  return term;
}

before(async () => {
  assert.ok(UNDER, "no directory below /usr to install into");
  fs.writeFileSync(path.join(REPO_ROOT, marker), "nslab's own file\n");
  // In a mount namespace of its own where every mount is shared (as systemd leaves a host):
  // the checkout bound at INSTALL, and beside it a directory whose permissions let anyone write.
  const script = [
    "set -e",
    `mount -t tmpfs -o mode=0755 nslab-install-test ${UNDER}`,
    `mkdir ${INSTALL} ${UNDER}/rw`,
    `chmod 0777 ${UNDER}/rw`,
    `echo host > ${UNDER}/rw/file && chmod 0666 ${UNDER}/rw/file`,
    `touch ${UNDER}/rw/${marker}-control`,
    `mount --bind "$0" ${INSTALL}`,
    `cd ${INSTALL}`,
    'exec "$@"',
  ].join("\n");
  server = await startServerProcess(env, { wrap: (argv) => ["unshare", "-m", "--propagation", "shared", "sh", "-c", script, REPO_ROOT, ...argv] });
  lab = await createLab(server.url);
});

after(async () => {
  term?.close();
  fs.rmSync(path.join(REPO_ROOT, marker), { force: true });
  killServerProcesses();
  // a server with the same settings removes whatever the killed one left (cgroups, processes)
  const cleanup = await startServerProcess(env);
  await cleanup.stop();
});

function serverMountinfo(): string {
  return fs.readFileSync(`/proc/${server.pid}/mountinfo`, "utf8");
}

describe("a server installed below /usr", () => {
  test("it runs from there, and its files are hidden from the lab (manager.ts `hide`)", async () => {
    assert.equal(fs.readlinkSync(`/proc/${server.pid}/cwd`), INSTALL);
    const t = await shell();
    // what the recursive /usr bind brings: the install's parent, with the install in it...
    assert.equal((await t.run(`ls -A ${UNDER} | tr '\\n' ' '`)).trim(), "nslab rw");
    assert.equal((await t.run(`cat ${UNDER}/rw/file`)).trim(), "host");
    // ...but the install is an empty tmpfs: no file of nslab's, wherever the lab looks
    assert.equal((await t.run(`ls -A ${INSTALL} | wc -l`)).trim(), "0");
    assert.equal((await t.run(`stat -f -c %T ${INSTALL}`)).trim(), "tmpfs");
    // (the same search finds a file the host placed beside it: it does look everywhere)
    const found = await t.run(`find / \\( -path /proc -o -path /sys \\) -prune -o \\( -name ${marker} -o -name ${marker}-control \\) -print 2>/dev/null`, 120_000);
    assert.equal(found.trim(), `${UNDER}/rw/${marker}-control`);
    // and it stays covered: the tmpfs came with the locked mounts
    assert.equal((await t.run(`umount ${INSTALL} 2>/dev/null; umount -l ${INSTALL} 2>/dev/null; ls -A ${INSTALL} | wc -l`)).trim(), "0");
  });

  test("a host file that file permissions would let anyone write is still read-only: the bind's flag (rootfs.ts ro-bind)", async () => {
    const t = await shell();
    const out = await t.run(`echo lab >> ${UNDER}/rw/file; touch ${UNDER}/rw/new; cat ${UNDER}/rw/file`);
    assert.match(out, /rw\/file: Read-only file system/);
    assert.match(out, /rw\/new': Read-only file system/);
    assert.equal(fs.readFileSync(`/proc/${server.pid}/root${UNDER}/rw/file`, "utf8"), "host\n", "the host's file is unchanged");
    assert.equal(fs.existsSync(`/proc/${server.pid}/root${UNDER}/rw/new`), false);
  });

  test("nothing the helper or the learner mounts propagates back to a host with shared mounts (mnt.c: MS_REC|MS_PRIVATE)", async () => {
    // the scenario is real: the server's mounts are shared
    assert.match(serverMountinfo().split("\n").find((l) => l.split(" ")[4] === "/")!, / shared:\d+/);
    const state = env.NSLAB_STATE_DIR!;
    const below = (info: string) => info.split("\n").filter((l) => (l.split(" ")[4] ?? "").startsWith(state)).join("\n");
    // the lab's root is built below the state dir, in the helper's own (private) mount namespace
    assert.equal(below(serverMountinfo()), "", "the lab's root is not in the server's mount namespace");
    const t = await shell();
    await t.run("mount --make-rshared / 2>&1; mkdir -p /mnt/p && mount -t tmpfs learner-probe /mnt/p && echo mounted");
    assert.match(await t.run("findmnt -no SOURCE /mnt/p"), /learner-probe/);
    assert.doesNotMatch(serverMountinfo(), /learner-probe/);
    assert.equal(below(serverMountinfo()), "");
  });
});

describe("kill -9 of the server", () => {
  test("every process of every lab dies with it, without a restart (PR_SET_PDEATHSIG in steps.c)", async () => {
    // a second lab, and in both: background processes, a nested pid namespace
    const other = await createLab(server.url);
    const t2 = new TermClient(server.url, other);
    await t2.opened;
    const t = await shell();
    for (const c of [t, t2]) {
      await c.until((x) => /[#$] $/.test(x.output), "a prompt", 30_000);
      assert.match(await c.run("setsid -f sleep 1000 </dev/null >/dev/null 2>&1; setsid -f unshare -fp --mount-proc sleep 1001 </dev/null >/dev/null 2>&1; echo started"), /started/);
    }
    const inRange = () =>
      fs.readdirSync("/proc").filter((n) => {
        if (!/^\d+$/.test(n)) return false;
        try {
          const st = fs.readFileSync(`/proc/${n}/status`, "latin1");
          const uid = Number(/^Uid:\s+(\d+)/m.exec(st)?.[1]);
          return !/^State:\s+[ZX]/m.test(st) && uid >= uidBase && uid < uidEnd;
        } catch {
          return false;
        }
      });
    const names = () => inRange().map((p) => { try { return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim(); } catch { return "gone"; } });
    const deadline0 = Date.now() + 30_000;
    while (names().filter((n) => n === "sleep").length < 4) {
      assert.ok(Date.now() < deadline0, `the sleeps never showed: ${names().join(" ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(names().filter((n) => n === "nslab-init").length === 2, names().join(" "));
    t.close();
    t2.close();
    server.proc.kill("SIGKILL");
    await server.exited;
    // the kernel sends init SIGKILL when its parent (the server) dies; a pid namespace ends with its init
    const deadline = Date.now() + 60_000;
    while (inRange().length) {
      assert.ok(Date.now() < deadline, `still running after the server died: ${names().join(" ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
