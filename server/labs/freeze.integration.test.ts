/**
 * The cgroup freezer in a lab (the cgroups lesson freezes a child cgroup, as `docker pause` does):
 * the lab gets a freezer (v1: its own hierarchy; v2: cgroup.freeze in every cgroup), and a lab
 * whose processes are frozen is still destroyed cleanly, its cgroups removed. Needs root.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { loadConfig } from "../config.ts";
import { isolatedEnv } from "../testing/instance.ts";
import { LabManager } from "./manager.ts";

if (process.getuid?.() !== 0) throw new Error("the freezer test needs root: it creates real labs and cgroups");

let mgr: LabManager;
before(async () => {
  mgr = await LabManager.start(loadConfig({ ...process.env, ...isolatedEnv("freeze") }));
});
after(async () => mgr?.shutdown());

test("a lab can freeze a child cgroup, and a lab with frozen processes is destroyed cleanly", async () => {
  const { lab } = await mgr.create({});
  const freeze = `
    V=$(cat /etc/nslab/cgroup-version)
    if [ "$V" = 1 ]; then F=/sys/fs/cgroup/freezer; else F=/sys/fs/cgroup; fi
    mkdir $F/ice || exit 1
    setsid -f sh -c "echo \\$\\$ > $F/ice/cgroup.procs && exec sleep 1000" </dev/null >/dev/null 2>&1
    for i in $(seq 50); do [ -n "$(cat $F/ice/cgroup.procs)" ] && break; sleep 0.1; done
    if [ "$V" = 1 ]; then echo FROZEN > $F/ice/freezer.state; else echo 1 > $F/ice/cgroup.freeze; fi
    for i in $(seq 50); do
      if [ "$V" = 1 ]; then s=$(cat $F/ice/freezer.state); else s=$(sed -n 's/^frozen //p' $F/ice/cgroup.events); fi
      case $s in FROZEN|1) echo frozen; exit 0 ;; esac
      sleep 0.1
    done
    exit 1`;
  const r = await lab.exec(freeze, { timeoutMs: 20_000 });
  assert.equal(r.stdout.trim(), "frozen", r.stderr);
  const dirs = (lab as unknown as { o: { cgroup: { dirs: string[] } | null } }).o.cgroup?.dirs ?? [];
  assert.ok(dirs.length > 0, "the lab has cgroups");
  await mgr.destroy(lab.id);
  for (const d of dirs) assert.equal(fs.existsSync(d), false, `${d} is removed`);
});
