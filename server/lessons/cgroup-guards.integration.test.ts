/**
 * A lesson script that moves a process into a child cgroup and then starts a fork bomb or a memory
 * hog must not start it when the move fails: it would run in the lab's own cgroup, where it fills
 * the lab's pids.max or memory.max and leaves the learner's lab stuck. (Under nsdelegate a move to
 * the wrong place fails with ENOENT; on any host a typo or a missing directory does the same.)
 *
 * For every code block of the lessons (both languages) that writes into a cgroup.procs file or
 * starts a bomb or a hog, this runs the block in a lab where every write below /sys/fs/cgroup fails (the cgroup mounts
 * remounted read-only in a mount namespace of the block's own), and checks that nothing ran loose:
 * no process is left behind, and the lab's own pids and memory limits were never hit. Needs root.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fs from "node:fs";
import path from "node:path";
import type { Lab } from "../labs/lab.ts";
import { LabManager } from "../labs/manager.ts";
import { testConfig } from "../testing/instance.ts";

if (process.getuid?.() !== 0) throw new Error("these tests create real labs and need root");

/** Fenced blocks (```bash, ```bash run, ```solution, ...) of every lesson that write a pid into a
 * cgroup.procs file, or start a bomb or a hog (which must depend on such a write). */
function cgroupBlocks(): { where: string; code: string }[] {
  const seen = new Map<string, string>();
  const root = testConfig().lessonsDir;
  for (const lesson of fs.readdirSync(root).sort()) {
    const dir = path.join(root, lesson);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      for (const m of text.matchAll(/^```(bash|sh|solution)[^\n]*\n([\s\S]*?)^```/gm)) {
        const code = m[2]!;
        if (!/>\s*\S*cgroup\.procs|while sleep|tail \/dev\/zero/.test(code) || seen.has(code)) continue;
        const line = text.slice(0, m.index).split("\n").length;
        seen.set(code, `${lesson}/${file}:${line}`);
      }
    }
  }
  return [...seen].map(([code, where]) => ({ where, code }));
}

// what the lessons' earlier blocks export, so a block runs as it would in the learner's shell
const PRELUDE = `export V=$(cat /etc/nslab/cgroup-version)
if [ "$V" = 1 ]; then export PIDS=/sys/fs/cgroup/pids MEM=/sys/fs/cgroup/memory; else export PIDS=/sys/fs/cgroup MEM=/sys/fs/cgroup; fi
export C=1
`;
// every cgroup mount read-only, in a mount namespace of the block's own: each cgroup write fails
const FAILING = `for m in $(awk '$5 ~ "^/sys/fs/cgroup" {print $5}' /proc/self/mountinfo | sort -r); do mount -o remount,bind,ro "$m" || exit 99; done
touch /sys/fs/cgroup/cgroup.procs 2>/dev/null && exit 98
`;

let mgr: LabManager;
let lab: Lab;
before(async () => {
  mgr = await LabManager.start(testConfig({ tag: "guards", env: { NSLAB_PIDS_MAX: "64", NSLAB_MEMORY_MAX: "128M" } }));
  assert.notEqual(mgr.cgroups.version, 0, "this host has no usable cgroups");
  ({ lab } = await mgr.create());
});
after(async () => mgr?.shutdown());

/** The lab's own counters: refused forks and OOM kills of its cgroup (not of its children). */
function counters(): { forksRefused: number; oomKills: number } {
  const L = mgr.cgroups.layout;
  const dirs = lab.cgroup!.dirs;
  const dirOf = (c: "pids" | "memory") => (L.version === 2 ? dirs[0]! : dirs.find((d) => L.version === 1 && d.startsWith(L.mounts[c]! + "/"))!);
  const key = (f: string, k: string) => Number(new RegExp(`^${k} (\\d+)$`, "m").exec(fs.readFileSync(f, "utf8"))?.[1] ?? 0);
  return {
    forksRefused: key(path.join(dirOf("pids"), "pids.events"), "max"),
    oomKills: key(path.join(dirOf("memory"), L.version === 2 ? "memory.events" : "memory.oom_control"), "oom_kill"),
  };
}

test("the lessons have cgroup blocks to check", () => {
  const blocks = cgroupBlocks();
  assert.ok(blocks.length >= 6, `found ${blocks.length}`);
  // the bomb and the hog are among them
  assert.ok(blocks.some((b) => /while sleep 300 &/.test(b.code)));
  assert.ok(blocks.some((b) => /tail \/dev\/zero/.test(b.code)));
});

for (const { where, code } of cgroupBlocks()) {
  test(`${where}: with the cgroup write failing, nothing runs loose`, async () => {
    const before = counters();
    const script = `unshare -m bash -c ${shq(FAILING + PRELUDE + code)} </dev/null`;
    // exec's longest: with the write failing, a solution's wait loop (50 rounds over /proc) runs to
    // its end, which took over 300 s in the VM on a host at load 30
    const r = await lab.exec(script, { timeoutMs: 600_000 });
    assert.notEqual(r.code, 99, `remounting the cgroup mounts read-only failed: ${r.stderr}`);
    assert.notEqual(r.code, 98, "the cgroup tree is still writable");
    await new Promise((res) => setTimeout(res, 300)); // what a block started in the background
    const left = (await mgr.cgroups.pids(lab.cgroup!)).filter((p) => p !== lab.initPid);
    const names = left.map((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      } catch {
        return String(p);
      }
    });
    for (const p of left) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
    const now = counters();
    assert.deepEqual(names, [], `left running in the lab after the block: ${names.slice(0, 5).join(", ")}`);
    assert.equal(now.forksRefused, before.forksRefused, "something hit the lab's own pids.max");
    assert.equal(now.oomKills, before.oomKills, "something hit the lab's own memory.max");
    assert.ok(r.timedOut === false, "the block finished");
  });
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
