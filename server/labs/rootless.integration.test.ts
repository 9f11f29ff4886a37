/**
 * Rootless mode: the server as an unprivileged user (here `nobody`) still makes real labs, with a
 * one-id mapping and setgroups denied, and without cgroup limits.
 *
 * `nobody` may not be able to read the checkout at all: a clone in root's 0700 home directory is
 * the common case. So the probe runs from a copy that `nobody` can read: the probe and everything
 * it imports bundled into one file by esbuild (what tsx compiles with), beside copies of koffi (a
 * native addon, not bundled, with its platform binary) and native/build. The copy is made fresh on every run and removed
 * after, so the test always exercises the same path whether or not the checkout is readable.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { testConfig } from "../testing/instance.ts";
import { readableProbe } from "../testing/readable-probe.ts";

const REPO_ROOT = testConfig().root;

let dir = "";

before(async () => {
  dir = await readableProbe(REPO_ROOT, "server/testing/rootless-probe.ts");
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("an unprivileged server creates real labs in rootless mode", () => {
  assert.equal(process.getuid?.(), 0, "this test switches to an unprivileged user, so it starts as root");
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, path.join(dir, "server", "probe.mjs")], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NSLAB_STATE_DIR: path.join(dir, "state"), NODE_ENV: "test" },
  });
  assert.equal(r.status, 0, `probe failed:\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(res.mode, "rootless");
  assert.equal(res.cgroup, 0);
  const [uid, uidMap, setgroups, comm, hostname, procs] = res.out.trim().split("\n");
  assert.equal(uid, "0", "root inside");
  assert.deepEqual(uidMap.trim().split(/\s+/), ["0", "65534", "1"], "one id mapped: root inside is nobody outside");
  assert.equal(setgroups, "deny");
  assert.equal(comm, "nslab-init");
  assert.equal(hostname, res.hostname);
  assert.match(procs, /nslab-init/);
  assert.ok(res.shellPid > 0);
});
