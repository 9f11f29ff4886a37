/** `npm run doctor` on this host: exit 0 here, the service's settings read with --env, a bad setting a failure. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { testConfig } from "../testing/instance.ts";

const REPO_ROOT = testConfig().root;

const doctor = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "server/doctor/cli.ts", ...args], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });

test("this host can run labs; --env reads the service's settings; a bad one fails with its name", () => {
  const ok = doctor();
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^✓ cgroup v[12]/m);
  assert.match(ok.stdout, /^This host can run nslab labs\.$/m);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-doctor-env-"));
  try {
    const env = path.join(dir, "nslab.env");
    fs.writeFileSync(env, '# a comment\nNSLAB_MAX_LABS=7\nNSLAB_MEMORY_RESERVE="1G"\n');
    const withEnv = doctor("--env", env);
    assert.equal(withEnv.status, 0, withEnv.stdout);
    assert.match(withEnv.stdout, new RegExp(`^✓ configuration — from ${env}$`, "m"));
    assert.match(withEnv.stdout, /^✓ memory for 7 labs \(NSLAB_MAX_LABS\) — MemAvailable [\d.]+ GiB, reserve 1\.0 GiB/m);
    fs.writeFileSync(env, "NSLAB_MAX_LABS=lots\n");
    const bad = doctor("--env", env);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^✗ configuration — NSLAB_MAX_LABS must be a whole number, got "lots"$/m);
    assert.match(bad.stdout, new RegExp(`^    fix: fix the variable in ${env}`, "m"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
