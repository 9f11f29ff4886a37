/**
 * Rootless mode: the server as an unprivileged user (here `nobody`) still makes real labs, with a
 * one-id mapping and setgroups denied, and without cgroup limits.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../config.ts";

test("an unprivileged server creates real labs in rootless mode", () => {
  assert.equal(process.getuid?.(), 0, "this test switches to an unprivileged user, so it starts as root");
  const r = spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, "--import", "tsx", "--import", "./scripts/hooks.mjs", path.join("server", "testing", "rootless-probe.ts")],
    { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", NSLAB_STATE_DIR: "/tmp/nslab-rootless-test", NODE_ENV: "test" } },
  );
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
