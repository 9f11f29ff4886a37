/**
 * Lesson 10 as a learner does it: every `bash run` block of lessons/10-cgroups/en.md typed into a
 * real terminal of a lab, in order, and what the text says the kernel shows, checked against what
 * it showed (cgroup v1 here; cgroup v2 with nsdelegate in the VM suite). The lesson's checks and
 * solutions are verified elsewhere (lessons.e2e.test.ts); this is about the text. Needs root.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import fs from "node:fs";
import path from "node:path";
import { cgroup2Options, detectCgroups } from "../labs/cgroup.ts";
import { createLab, testServer, TermClient } from "../testing/harness.ts";

if (process.getuid?.() !== 0) throw new Error("these tests create real labs and need root");

const HOST = detectCgroups();
const V = HOST.version;
const NSDELEGATE = HOST.version === 2 && cgroup2Options(HOST.mount).includes("nsdelegate");

let s: Awaited<ReturnType<typeof testServer>>;
let t: TermClient;
before(async () => {
  s = await testServer({ NSLAB_PIDS_MAX: "64", NSLAB_MEMORY_MAX: "256M" });
  const lab = await createLab(s.url);
  t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the first prompt", 120_000);
});
after(async () => {
  t?.close();
  await s?.close();
});

/** The `bash run` blocks of each step, in order. */
function blocks(): Map<string, string[]> {
  const text = fs.readFileSync(path.join(s.config.lessonsDir, "10-cgroups", "en.md"), "utf8");
  const steps = new Map<string, string[]>();
  let step = "";
  for (const part of text.split(/^(?=<!-- step: )/m)) {
    const id = /^<!-- step: ([\w-]+) -->/.exec(part)?.[1];
    if (!id) continue;
    step = id;
    steps.set(step, [...part.matchAll(/^```bash run\n([\s\S]*?)^```/gm)].map((m) => m[1]!.trimEnd()));
  }
  return steps;
}

/** Types a block; a block that starts a new interactive shell waits for its prompt instead. */
async function type(block: string): Promise<string> {
  if (/^(bash|unshare -C bash)$/.test(block.split("\n").at(-1)!)) {
    const lines = block.split("\n");
    let out = "";
    if (lines.length > 1) out = await t.run(lines.slice(0, -1).join("\n"), 120_000);
    const start = t.output.length;
    t.send(`${lines.at(-1)}\r`);
    await t.until((c) => /[#$] $/.test(c.output.slice(start + lines.at(-1)!.length + 2)), "the new shell's prompt", 120_000);
    return out;
  }
  return t.run(block, 240_000);
}

/**
 * What the commands printed: a multi-line block is typed line by line, so the terminal also shows
 * a prompt and the echoed command before each line's output, and `ls` colours its names. Those
 * go: escape sequences (OSC, CSI) and prompt lines.
 */
function printed(out: string): string {
  return out
    .replace(/\x1b\][^\x07]*\x07/g, "")
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\r/g, "")
    .split("\n")
    .filter((l) => !/^root@[\w-]+:\S*[#$] /.test(l))
    .join("\n");
}

async function walk(step: string): Promise<string> {
  let out = "";
  for (const b of blocks().get(step) ?? []) out += printed(await type(b)) + "\n";
  return out;
}

test("your cgroup, and a child of it", async () => {
  const out = await walk("child-cgroup");
  if (V === 2) {
    assert.match(out, /^0::\/init$/m, "the lab's processes are in the leaf init");
    assert.match(out, /(^|\s)init(\s|$)/, "ls shows init (in columns: it writes to a terminal)");
    assert.match(out, /^0$/m, "the lab's own cgroup holds no process");
    assert.match(out, /^memory pids$/m, "enabling works at the lab's root");
    assert.match(out, /Device or resource busy/, "and not in init, which holds processes");
  } else {
    assert.match(out, /^\d+:pids:\/$/m);
  }
  assert.match(out, /Permission denied/, "the lab-wide limit is not the lab's to raise");
  assert.match(out, /^20\n0$/m, "bomb: pids.max 20, pids.current 0");
});

test("a fork bomb that stops", async () => {
  const out = await walk("fork-bomb");
  assert.match(out, /sleep number 19 started\n(.*\n)?.*Cannot fork/, "nineteen sleeps, then Cannot fork");
  assert.doesNotMatch(out, /sleep number 20 started/);
  assert.match(out, /^19$/m, "pids.current 19");
  assert.match(out, /^max [1-9]\d*$/m, "pids.events counts the refused fork");
});

test("a memory hog meets the OOM killer", async () => {
  const out = await walk("memory-hog");
  assert.match(out, /Killed/);
  assert.match(out, /^oom_kill 1$/m);
  // memory.peak (v2) or memory.max_usage_in_bytes (v1): the number printed after the events
  const peak = Number(/^(\d+)$/m.exec(out.slice(out.indexOf("oom_kill 1")))?.[1]);
  assert.ok(peak > 24 << 20 && peak <= 32 << 20, `a peak right at the 32 MiB line: ${peak}`);
});

test("a cgroup namespace re-roots the view", async () => {
  const out = await walk("cgroup-namespace");
  const here = V === 2 ? /^0::\/inner$/m : /^\d+:pids:\/inner$/m;
  assert.match(out, here, "the shell moved into inner");
  if (V === 2) {
    // two lines, matched one by one: on a slow guest the echo of the next typed command may land
    // between them (the terminal shows what it gets, in the order it gets it)
    const from = out.search(/^0::\/$/m);
    assert.ok(from >= 0, "inside the new namespace: itself at /");
    assert.match(out.slice(from), /^0::\/\.\.\/init$/m, "...and then the lab's PID 1 at /../init");
  } else {
    assert.match(out, /^\d+:pids:\/$/m);
    assert.match(out, /^\d+:pids:\/\.\.$/m, "the lab's PID 1 at /..");
  }
  if (NSDELEGATE) assert.match(out, /No such file or directory/, "nsdelegate: bomb is outside this namespace");
  else assert.doesNotMatch(out, /No such file or directory/, "no nsdelegate: the move works");
});
