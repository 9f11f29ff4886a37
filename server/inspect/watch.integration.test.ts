/**
 * ExplorerHub against real processes (a stand-in lab handle whose processes are real unshare(1)
 * trees): nothing runs unwatched, changes arrive within 300 ms with and without activity events,
 * unchanged snapshots are not resent, trace entries are pushed, mounts only for lab processes,
 * and a gone lab ends its watch. Needs root.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ExplorerServerMessage, LabSnapshot, TraceEntry } from "../../lib/protocol.ts";
import type { LabHandle } from "../labs/types.ts";
import { ExplorerHub } from "./watch.ts";
import { loadNative } from "../native/core.ts";
import { testConfig } from "../testing/instance.ts";
import { descendants, Scene, waitFor } from "./test-helpers.ts";

// namespace facts come from the C core (ioctl_ns(2))
loadNative(testConfig());

class FakeLab implements LabHandle {
  readonly id = "fedcba9876543210";
  readonly mode = "root" as const;
  readonly hostname = "t";
  readonly lesson = null;
  readonly createdAt = new Date();
  initPid = 0;
  alive = true;
  extra: Scene[] = [];
  entries: TraceEntry[] = [];
  activity = new Set<() => void>();
  appendListeners = new Set<(e: TraceEntry[]) => void>();
  hostPidsCalls = 0;
  constructor(readonly base: Scene) {}
  async exec() {
    return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false };
  }
  trace() {
    return this.entries.slice();
  }
  async hostPids() {
    this.hostPidsCalls++;
    return [...descendants(this.base.pid), ...this.extra.flatMap((s) => s.all())];
  }
  onActivity(fn: () => void) {
    this.activity.add(fn);
    return () => this.activity.delete(fn);
  }
  emit() {
    for (const f of this.activity) f();
  }
  get running() {
    return this.alive;
  }
  hostPidsSync() {
    return null;
  }
  onTrace(fn: (e: TraceEntry[]) => void) {
    this.appendListeners.add(fn);
    return () => this.appendListeners.delete(fn);
  }
  addTrace(sys: string) {
    const e: TraceEntry = { seq: (this.entries.at(-1)?.seq ?? 0) + 1, at: new Date().toISOString(), scope: "lab", who: "child", sys, args: "", ret: 0, errno: 0, durNs: 1000 };
    this.entries.push(e);
    for (const l of this.appendListeners) l([e]);
  }
}

class Inbox {
  msgs: { at: number; msg: ExplorerServerMessage }[] = [];
  send = (msg: ExplorerServerMessage) => void this.msgs.push({ at: Date.now(), msg });
  of<T extends ExplorerServerMessage["type"]>(type: T) {
    return this.msgs.filter((m) => m.msg.type === type).map((m) => m.msg as Extract<ExplorerServerMessage, { type: T }>);
  }
  snapshots(): LabSnapshot[] {
    return this.of("snapshot").map((m) => m.snapshot);
  }
  async until<T>(fn: () => T | undefined | null | false, what: string, ms = 3000): Promise<T> {
    return waitFor(fn, what, ms);
  }
}

let base: Scene;
let lab: FakeLab;
const scenes: Scene[] = [];
before(async () => {
  base = new Scene("exec unshare --kill-child -Urfp --mount-proc bash -c 'sleep 1000 & wait'");
  await base.find("sleep");
  lab = new FakeLab(base);
  lab.initPid = descendants(base.pid).find((p) => p !== base.pid)!;
});
after(async () => {
  for (const s of [...scenes, base]) await s?.stop();
});

test("nothing runs for an unwatched lab; the last subscriber to leave stops everything", async () => {
  const hub = new ExplorerHub();
  assert.equal(hub.watching, 0);
  assert.equal(lab.activity.size, 0);
  const a = new Inbox();
  const b = new Inbox();
  const subA = hub.subscribe(lab, a.send);
  const subB = hub.subscribe(lab, b.send);
  assert.equal(hub.watching, 1, "one watch per lab, however many subscribers");
  assert.equal(lab.activity.size, 1);
  assert.equal(lab.appendListeners.size, 1);
  await a.until(() => a.snapshots().length, "a snapshot");
  subA();
  subA(); // leaving twice is harmless
  assert.equal(hub.isWatching(lab), true, "b still watches");
  subB();
  assert.equal(hub.watching, 0);
  assert.equal(lab.activity.size, 0, "activity listener removed");
  assert.equal(lab.appendListeners.size, 0, "trace listener removed");
  const calls = lab.hostPidsCalls;
  lab.emit();
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(lab.hostPidsCalls, calls, "no inspection after everybody left");
});

test("the first snapshot arrives at once; unchanged snapshots are not sent again", async () => {
  const hub = new ExplorerHub();
  const a = new Inbox();
  const t0 = Date.now();
  const sub = hub.subscribe(lab, a.send);
  const first = await a.until(() => a.msgs.find((m) => m.msg.type === "snapshot"), "first snapshot");
  assert.ok(first.at - t0 < 300, `first snapshot after ${first.at - t0} ms`);
  const snap = a.snapshots()[0]!;
  assert.ok(snap.processes.some((p) => p.hostPid === lab.initPid));
  lab.emit();
  await new Promise((r) => setTimeout(r, 700)); // activity and a few polls, nothing changed
  assert.equal(a.snapshots().length, 1);
  // a second subscriber gets the current picture immediately, from memory
  const b = new Inbox();
  const subB = hub.subscribe(lab, b.send);
  assert.equal(b.snapshots().length, 1, "synchronously on subscribe");
  sub();
  subB();
});

test("a change nobody announces (no activity event) arrives within 300 ms", async (t) => {
  const hub = new ExplorerHub();
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "first snapshot");
  await new Promise((r) => setTimeout(r, 100));
  // (in a pid namespace of its own: a lab's processes are all below the host's pid namespace)
  const s = new Scene("exec unshare --kill-child -fp unshare -u sleep 1100");
  scenes.push(s);
  lab.extra.push(s);
  const t0 = Date.now();
  const isIt = (p: { cmdline: string }) => p.cmdline === "sleep 1100";
  const msg = await a.until(() => a.msgs.find((m) => m.msg.type === "snapshot" && m.msg.snapshot.processes.some(isIt)), "the new process");
  const latency = msg.at - t0;
  t.diagnostic(`shown ${latency} ms after it was started`);
  assert.ok(latency <= 300, `arrived after ${latency} ms`);
  const snap = (msg.msg as { snapshot: LabSnapshot }).snapshot;
  const sleep = snap.processes.find(isIt)!;
  assert.ok(snap.namespaces.some((n) => n.type === "uts" && n.ino === sleep.ns.uts && n.processes.includes(sleep.hostPid)), "its new UTS namespace");
  sub();
});

test("with an activity event, a change arrives sooner", async () => {
  const hub = new ExplorerHub({ pollMs: 5000 }); // polling out of the way: only the event can cause this
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "first snapshot");
  const s = new Scene("exec unshare --kill-child -fp unshare -i sleep 1001");
  scenes.push(s);
  await s.find("sleep");
  lab.extra.push(s);
  const t0 = Date.now();
  lab.emit();
  lab.emit(); // a burst of events: one inspection
  const msg = await a.until(() => a.msgs.find((m) => m.at >= t0 && m.msg.type === "snapshot"), "the change");
  assert.ok(msg.at - t0 < 200, `arrived after ${msg.at - t0} ms`);
  sub();
  // the process leaves: gone from the next snapshot
  lab.extra = lab.extra.filter((x) => x !== s);
});

test("trace entries are pushed as they are recorded; a newcomer gets the backlog", async () => {
  const hub = new ExplorerHub({ pollMs: 5000 });
  lab.addTrace("clone3");
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  assert.deepEqual(
    a.of("trace").flatMap((m) => m.entries.map((e) => e.sys)),
    lab.entries.map((e) => e.sys),
    "the backlog at once",
  );
  const t0 = Date.now();
  lab.addTrace("mount");
  lab.addTrace("pivot_root");
  await a.until(() => a.of("trace").some((m) => m.entries.some((e) => e.sys === "pivot_root")), "pushed entries");
  assert.ok(Date.now() - t0 < 100);
  const pushed = a.of("trace").at(-1)!.entries.map((e) => e.sys);
  assert.deepEqual(pushed, ["mount", "pivot_root"], "one message for a burst, nothing repeated");
  const b = new Inbox();
  const subB = hub.subscribe(lab, b.send);
  assert.deepEqual(b.of("trace")[0]!.entries.slice(-3).map((e) => e.sys), ["clone3", "mount", "pivot_root"]);
  sub();
  subB();
});

test("mounts: only for the lab's processes, sent again only when they change", async () => {
  const hub = new ExplorerHub();
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  sub.mounts([lab.initPid, process.pid]);
  await a.until(() => a.of("mounts").length >= 2, "two mount tables");
  const mine = a.of("mounts").find((m) => m.pid === lab.initPid)!;
  assert.ok(mine.mounts.some((m) => m.mountPoint === "/proc"));
  assert.deepEqual(a.of("mounts").find((m) => m.pid === process.pid)!.mounts, [], "not a lab process: nothing");
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(a.of("mounts").length, 2, "unchanged: not resent");
  sub.mounts([lab.initPid]);
  await a.until(() => a.of("mounts").length >= 3, "resent after choosing again");
  sub();
});

test("a lab that is gone: subscribers are told and the watch stops", async () => {
  let alive = true;
  const hub = new ExplorerHub({ isAlive: () => alive });
  const a = new Inbox();
  hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "snapshot");
  alive = false;
  lab.emit();
  const err = await a.until(() => a.of("error")[0], "lab_gone");
  assert.equal(err.code, "lab_gone");
  assert.equal(hub.watching, 0);
  assert.equal(lab.activity.size, 0);
});
