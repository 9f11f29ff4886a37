/**
 * ExplorerConnection against a fake socket: messages, mount pids re-sent after reconnects,
 * backoff growth and reset, the lab going away, dispose.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import type { ExplorerServerMessage } from "../../../lib/protocol.ts";
import { ExplorerConnection, type ExplorerConnState } from "./connection.ts";
import { FakeSocket, useFakeClock } from "../../lib/fake-socket.ts";

let states: ExplorerConnState[];
let msgs: ExplorerServerMessage[];
let conn: ExplorerConnection;
const snapshot: ExplorerServerMessage = { type: "snapshot", snapshot: { at: 1, processes: [], namespaces: [], userMaps: [] } };
const last = FakeSocket.last;
const wait = useFakeClock();

beforeEach(() => {
  FakeSocket.all = [];
  states = [];
  msgs = [];
  conn = new ExplorerConnection({
    url: () => "ws://x/api/labs/0123456789abcdef/explorer?token=t",
    onMessage: (m) => msgs.push(m),
    onState: (s) => states.push(s),
    socket: (u) => new FakeSocket(u),
    policy: { firstMs: 20, maxMs: 80, factor: 2, jitter: 0.2 },
  });
});
afterEach(() => conn.dispose());

test("delivers messages and ignores garbage", () => {
  conn.connect();
  assert.deepEqual(states.at(-1), { kind: "connecting" });
  last().open();
  assert.deepEqual(states.at(-1), { kind: "connecting" }, "open once the first snapshot came");
  last().message(snapshot);
  assert.deepEqual(states.at(-1), { kind: "open" });
  last().message("{not json");
  last().onmessage?.({ data: new ArrayBuffer(2) });
  assert.deepEqual(msgs, [snapshot]);
});

test("mount pids: sent when chosen, and again after a reconnect", async () => {
  conn.setMountPids([42]);
  conn.connect();
  last().open();
  assert.deepEqual(last().sent.map((s) => JSON.parse(s)), [{ type: "mounts", pid: 42 }]);
  conn.setMountPids([42]); // unchanged: nothing sent
  conn.setMountPids([42, 43]);
  conn.setMountPids([]);
  assert.deepEqual(last().sent.slice(1).map((s) => JSON.parse(s)), [
    { type: "mounts", pids: [42, 43] },
    { type: "mounts", pid: null },
  ]);
  conn.setMountPids([7]);
  last().drop();
  assert.equal(states.at(-1)!.kind, "reconnecting");
  await wait(40);
  assert.equal(FakeSocket.all.length, 2);
  last().open();
  assert.deepEqual(JSON.parse(last().sent[0]!), { type: "mounts", pid: 7 });
});

test("backoff grows while failing and starts over after a working connection", async () => {
  conn.connect();
  last().drop();
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = states.at(-1) as Extract<ExplorerConnState, { kind: "reconnecting" }>;
    delays.push(s.retryAt - Date.now());
    await wait(s.retryAt - Date.now() + 15);
    last().drop();
  }
  assert.ok(delays[1]! > delays[0]! * 1.2, `grows: ${delays}`);
  assert.ok(delays.every((d) => d <= 80 * 1.2 + 5), `capped: ${delays}`);
  const before = (states.at(-1) as { attempt: number }).attempt;
  assert.ok(before >= 4);
  await wait(120);
  last().open();
  last().message(snapshot);
  last().drop();
  assert.equal((states.at(-1) as { attempt: number }).attempt, 1, "attempts start over");
});

test("the lab going away ends it: no reconnect", async () => {
  conn.connect();
  last().open();
  last().message({ type: "error", code: "lab_gone", message: "gone" });
  last().drop(4410);
  assert.equal(states.at(-1)!.kind, "closed");
  await wait(60);
  assert.equal(FakeSocket.all.length, 1);
  conn.reconnectNow();
  assert.equal(FakeSocket.all.length, 1);
  // close code alone is enough too
  const c2 = new ExplorerConnection({ url: () => "ws://x", onMessage: () => {}, onState: (s) => states.push(s), socket: (u) => new FakeSocket(u) });
  c2.connect();
  last().open();
  last().drop(4410);
  assert.deepEqual(states.at(-1), { kind: "closed", reason: "lab-destroyed", message: "The lab is not running any more." });
  c2.dispose();
});

test("dispose closes the socket and stops retrying; late events are ignored", async () => {
  conn.connect();
  const s = last();
  s.open();
  conn.dispose();
  assert.equal(s.closedWith, 1000);
  s.message(snapshot);
  s.drop();
  await wait(60);
  assert.equal(msgs.length, 0);
  assert.equal(FakeSocket.all.length, 1);
});
