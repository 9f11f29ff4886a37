/**
 * A lab's end makes the next lab's cgroups and starts its helper (LabManager.spare, issue 9 speed): the next lab made
 * here, on request or for the pool, starts without the ~50 file system calls of making its
 * cgroups (on v1, ten hierarchies: mkdir, limits, delegation). The spare is whole (every
 * hierarchy, the limits written, delegated to the uid range it holds), holds its uid range like a
 * lab, is the new lab's (its id, its range, its trace), and goes at shutdown. The helper started then (native nslab_lab_prepare) joins
 * those cgroups and waits for the next lab, which takes it without a move of its own. Needs root.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { testConfig } from "../testing/instance.ts";
import { LabManager } from "./manager.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real cgroups");

/** This process's children that run nslab-helper and wait (a helper waiting for a lab's spec). */
function waitingHelpers(): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      const comm = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
      const rest = st.slice(st.lastIndexOf(")") + 2).split(" ");
      if (comm === "nslab-helper" && Number(rest[1]) === process.pid && rest[0] === "S") out.push(Number(p));
    } catch {}
  }
  return out;
}

async function until(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a lab's end makes the next lab's cgroups, which the next lab takes whole; shutdown removes them", async () => {
  const config = testConfig({ tag: "spare", env: { NSLAB_PIDS_MAX: "77" } });
  const mgr = await LabManager.start(config);
  /** cgroup directories under this instance's parent, in the first hierarchy (a lab's id each) */
  const parent = mgr.cgroups.parentDirs()[0]!;
  const dirs = () => (fs.existsSync(parent) ? fs.readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);
  try {
    assert.notEqual(mgr.cgroups.version, 0, "this host has no usable cgroups");
    const { lab: first } = await mgr.create();
    const firstDirs = first.cgroup!.dirs;
    assert.deepEqual(dirs(), [first.id], "no cgroups made ahead before a lab ended");
    await mgr.destroy(first.id);
    assert.ok(firstDirs.every((d) => !fs.existsSync(d)), "the ended lab's cgroups are gone");
    const ahead = dirs();
    assert.equal(ahead.length, 1, `the next lab's cgroups, made when the lab ended: ${ahead.join(", ")}`);
    assert.equal(mgr.spareCgroups, ahead[0]);
    await until(() => waitingHelpers().length === 1, "the next lab's helper, started when the lab ended");
    const helper = waitingHelpers()[0]!;
    // and joined those cgroups while it waits (on v1 every hierarchy's move is a global lock)
    const spareProcs = mgr.cgroups.parentDirs().map((d) => path.join(d, ahead[0]!, "cgroup.procs"));
    await until(() => spareProcs.every((f) => fs.readFileSync(f, "utf8").split("\n").includes(String(helper))), "the waiting helper joins the next lab's cgroups");

    const asked = Date.now();
    const { lab: next } = await mgr.create();
    assert.equal(next.id, ahead[0], "the next lab took them (its id is theirs)");
    assert.deepEqual(dirs(), [next.id], "and no others were made");
    // whole: every hierarchy, the limits written, delegated to the lab's own uid range
    const pids = next.cgroup!.dirs.find((d) => fs.existsSync(path.join(d, "pids.max")))!;
    assert.equal(fs.readFileSync(path.join(pids, "pids.max"), "utf8").trim(), "77");
    const init = fs.statSync(`/proc/${next.initPid}`);
    for (const d of next.cgroup!.delegated!) assert.equal(fs.statSync(d).uid, init.uid, `${d} is the lab's root's`);
    const inLab = (await next.exec("cat /proc/self/cgroup; echo $$")).stdout;
    assert.match(inLab, /:\/\n/, "the lab is at the root of its cgroup namespace");
    // made for it: the steps are at the start of its trace
    assert.ok(next.trace().some((e) => e.scope === "lab" && e.who === "server" && e.sys === "mkdir" && e.args.includes(next.id)), "its cgroups' steps are in its trace");
    // it took the waiting helper: the helper's start is in its trace, before it was asked for
    const spawned = next.trace().find((e) => e.sys === "posix_spawn")!;
    assert.ok(Date.parse(spawned.at) <= asked, `its helper started before the lab was asked for (${spawned.at})`);
    assert.ok(!waitingHelpers().includes(helper), "that helper no longer waits");
    // its joins were made then too, once per hierarchy, none while the lab was asked for
    const joins = next.trace().filter((e) => e.sys === "write" && e.args.includes("cgroup.procs") && e.args.includes(`"${helper}"`));
    assert.equal(joins.length, next.cgroup!.rootProcs.length, `one join per hierarchy: ${joins.map((e) => e.args).join("; ")}`);
    for (const j of joins) assert.ok(Date.parse(j.at) <= asked, `joined before the lab was asked for (${j.at}: ${j.args})`);
    await mgr.destroy(next.id);
    assert.equal(dirs().length, 1, "a spare again when that one ended");
    await until(() => waitingHelpers().length === 1, "a helper waiting again");
  } finally {
    await mgr.shutdown();
  }
  assert.deepEqual(dirs(), [], "shutdown removes the spare's cgroups");
  await until(() => waitingHelpers().length === 0, "shutdown lets the waiting helper go");
  assert.ok(mgr.cgroups.parentDirs().every((d) => !fs.existsSync(d)), "and the parents, now empty");
});
