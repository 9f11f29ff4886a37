/**
 * ExplorerHub against real processes (a stand-in lab handle whose processes are real unshare(1)
 * trees): nothing runs unwatched, a change arrives with the next poll or, sooner, one inspection
 * after a burst of activity events, unchanged snapshots are not resent, trace entries are pushed,
 * mounts only for lab processes, and a gone lab ends its watch. Needs root.
 *
 * The hub's timers (debounce, poll) run on node:test's mock clock: each test moves it on with
 * tick(), so "after the next poll" and "nothing more later" are exact, never a race against the
 * wall clock. The inspections themselves read the real /proc; settled() waits for them.
 */
import assert from "node:assert/strict";
import { after, before, test, type TestContext } from "node:test";
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
  async until<T>(fn: () => T | undefined | null | false, what: string, ms = 30_000): Promise<T> {
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

const DEBOUNCE = 50;
const POLL = 250;
/** More mock time than any timer of the hub waits, quiet-lab polling (every 4th tick) included. */
const LONG = 10 * 4 * POLL;

function mockClock(t: TestContext) {
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  return (ms: number) => t.mock.timers.tick(ms);
}

async function newScene(cmd: string, name: string): Promise<Scene> {
  const s = new Scene(cmd);
  scenes.push(s);
  await s.find(name);
  return s;
}

test("nothing runs for an unwatched lab; the last subscriber to leave stops everything", async (t) => {
  const tick = mockClock(t);
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
  await hub.settled(lab);
  const calls = lab.hostPidsCalls;
  lab.emit();
  tick(LONG); // every poll and debounce the hub could have left
  await hub.settled(lab);
  assert.equal(lab.hostPidsCalls, calls, "no inspection after everybody left");
});

test("the first snapshot comes on subscribing, before any timer; unchanged snapshots are not sent again", async (t) => {
  const tick = mockClock(t);
  const hub = new ExplorerHub({ debounceMs: DEBOUNCE, pollMs: POLL });
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  // the mock clock has not moved: only the subscription itself can have caused this
  await a.until(() => a.snapshots().length, "first snapshot");
  const snap = a.snapshots()[0]!;
  assert.ok(snap.processes.some((p) => p.hostPid === lab.initPid));
  const calls = lab.hostPidsCalls;
  lab.emit();
  tick(LONG); // the activity's inspection and many polls: nothing changed
  await hub.settled(lab);
  assert.ok(lab.hostPidsCalls > calls, "the lab was looked at again");
  assert.equal(a.snapshots().length, 1, "but the same picture is not sent twice");
  // a second subscriber gets the current picture immediately, from memory
  const b = new Inbox();
  const subB = hub.subscribe(lab, b.send);
  assert.equal(b.snapshots().length, 1, "synchronously on subscribe");
  sub();
  subB();
});

test("a change nobody announces (no activity event) arrives with the next poll", async (t) => {
  const tick = mockClock(t);
  const hub = new ExplorerHub({ debounceMs: DEBOUNCE, pollMs: POLL });
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "first snapshot");
  await hub.settled(lab);
  // (in a pid namespace of its own: a lab's processes are all below the host's pid namespace)
  const s = await newScene("exec unshare --kill-child -fp unshare -u sleep 1100", "sleep");
  lab.extra.push(s);
  const isIt = (p: { cmdline: string }) => p.cmdline === "sleep 1100";
  const shown = () => a.snapshots().find((snap) => snap.processes.some(isIt));
  await hub.settled(lab);
  assert.equal(shown(), undefined, "not before a poll");
  tick(4 * POLL); // the next poll (a quiet lab is polled every 4th tick)
  const snap = await a.until(shown, "the new process, after the poll");
  const sleep = snap.processes.find(isIt)!;
  assert.ok(snap.namespaces.some((n) => n.type === "uts" && n.ino === sleep.ns.uts && n.processes.includes(sleep.hostPid)), "its new UTS namespace");
  sub();
});

test("a burst of activity events: one inspection, a debounce later; a process that left is gone from the next snapshot", async (t) => {
  const tick = mockClock(t);
  const hub = new ExplorerHub({ debounceMs: DEBOUNCE, pollMs: 3_600_000 }); // no poll in this test: only events
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "first snapshot");
  await hub.settled(lab);
  const s = await newScene("exec unshare --kill-child -fp unshare -i sleep 1001", "sleep");
  lab.extra.push(s);
  const calls = lab.hostPidsCalls;
  const count = a.snapshots().length;
  lab.emit();
  lab.emit();
  lab.emit();
  await hub.settled(lab);
  assert.equal(lab.hostPidsCalls, calls, "nothing before the debounce");
  tick(DEBOUNCE);
  const isIt = (p: { cmdline: string }) => p.cmdline === "sleep 1001";
  await a.until(() => a.snapshots().slice(count).some((snap) => snap.processes.some(isIt)), "the change");
  await hub.settled(lab);
  tick(LONG);
  await hub.settled(lab);
  assert.equal(lab.hostPidsCalls, calls + 1, "one inspection for the burst");
  assert.equal(a.snapshots().length, count + 1);

  // the process leaves: gone from the next snapshot
  lab.extra = lab.extra.filter((x) => x !== s);
  await s.stop();
  lab.emit();
  tick(DEBOUNCE);
  const next = await a.until(() => a.snapshots()[count + 1], "the next snapshot");
  assert.equal(next.processes.some(isIt), false);
  assert.ok(next.processes.some((p) => p.hostPid === lab.initPid), "the rest is still there");
  sub();
});

test("trace entries are pushed as they are recorded, without waiting for a timer; a newcomer gets the backlog", async (t) => {
  mockClock(t); // never moved: a pushed trace cannot come from a poll
  const hub = new ExplorerHub({ pollMs: POLL });
  lab.addTrace("clone3");
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  assert.deepEqual(
    a.of("trace").flatMap((m) => m.entries.map((e) => e.sys)),
    lab.entries.map((e) => e.sys),
    "the backlog at once",
  );
  await hub.settled(lab); // the subscription's own inspection (which pulls the trace too) is over
  const before = a.of("trace").length;
  lab.addTrace("mount");
  lab.addTrace("pivot_root");
  await a.until(() => a.of("trace").some((m) => m.entries.some((e) => e.sys === "pivot_root")), "pushed entries");
  assert.equal(a.of("trace").length, before + 1, "one message for a burst");
  const pushed = a.of("trace").at(-1)!.entries.map((e) => e.sys);
  assert.deepEqual(pushed, ["mount", "pivot_root"], "nothing repeated");
  const b = new Inbox();
  const subB = hub.subscribe(lab, b.send);
  assert.deepEqual(b.of("trace")[0]!.entries.slice(-3).map((e) => e.sys), ["clone3", "mount", "pivot_root"]);
  sub();
  subB();
});

test("mounts: only for the lab's processes, sent again only when they change", async (t) => {
  const tick = mockClock(t);
  const hub = new ExplorerHub({ debounceMs: DEBOUNCE, pollMs: POLL });
  const a = new Inbox();
  const sub = hub.subscribe(lab, a.send);
  sub.mounts([lab.initPid, process.pid]);
  await a.until(() => a.of("mounts").length >= 2, "two mount tables");
  const mine = a.of("mounts").find((m) => m.pid === lab.initPid)!;
  assert.ok(mine.mounts.some((m) => m.mountPoint === "/proc"));
  assert.deepEqual(a.of("mounts").find((m) => m.pid === process.pid)!.mounts, [], "not a lab process: nothing");
  await hub.settled(lab);
  const calls = lab.hostPidsCalls;
  tick(LONG); // polls: the mounts are read again each time (someone follows them)
  await hub.settled(lab);
  assert.ok(lab.hostPidsCalls > calls, "polled");
  assert.equal(a.of("mounts").length, 2, "unchanged: not resent");
  sub.mounts([lab.initPid]);
  await a.until(() => a.of("mounts").length >= 3, "resent after choosing again");
  sub();
});

test("a lab that is gone: subscribers are told and the watch stops", async (t) => {
  const tick = mockClock(t);
  let alive = true;
  const hub = new ExplorerHub({ debounceMs: DEBOUNCE, isAlive: () => alive });
  const a = new Inbox();
  hub.subscribe(lab, a.send);
  await a.until(() => a.snapshots().length, "snapshot");
  await hub.settled(lab);
  alive = false;
  lab.emit();
  tick(DEBOUNCE);
  const err = await a.until(() => a.of("error")[0], "lab_gone");
  assert.equal(err.code, "lab_gone");
  assert.equal(hub.watching, 0);
  assert.equal(lab.activity.size, 0);
});
