/**
 * ReconnectingSocket, the one reconnecting WebSocket of the terminal and the explorer, against a
 * fake socket: the backoff policy (growth, cap, jitter, start over once the link works), stale
 * sockets ignored, stopping for good, skipping the wait, coming back online, dispose.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { BACKOFF, backoffDelay, ReconnectingSocket, type LinkState } from "./reconnecting-socket.ts";
import { FakeSocket, useFakeClock } from "./fake-socket.ts";

const last = FakeSocket.last;
const wait = useFakeClock();
const FAST = { firstMs: 20, maxMs: 80, factor: 2, jitter: 0.2 };
let states: LinkState<"gone">[];
let got: unknown[];
let online: (() => void) | null;
const g = globalThis as Record<string, unknown>;

function make(extra: Partial<ConstructorParameters<typeof ReconnectingSocket<"gone">>[0]> = {}) {
  return new ReconnectingSocket<"gone">({
    url: () => `ws://x/${FakeSocket.all.length}`,
    socket: (u) => new FakeSocket(u),
    policy: FAST,
    onState: (s) => states.push(s),
    onMessage: (d) => got.push(d),
    onClose: (code) => (code === 4410 ? { reason: "gone", message: "bye" } : null),
    ...extra,
  });
}

beforeEach(() => {
  FakeSocket.all = [];
  states = [];
  got = [];
  online = null;
  g.window = {
    addEventListener: (t: string, f: () => void) => t === "online" && (online = f),
    removeEventListener: (t: string) => t === "online" && (online = null),
  };
});
afterEach(() => {
  delete g.window;
});

test("the policy: 250 ms doubling to a 5 s cap, ±20% jitter", () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, BACKOFF, mid)), [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(backoffDelay(1, BACKOFF, () => 0), 200);
  assert.equal(backoffDelay(1, BACKOFF, () => 0.9999999), 300);
  assert.equal(backoffDelay(9, BACKOFF, () => 0), 4000);
  assert.equal(backoffDelay(9, BACKOFF, () => 0.9999999), 6000);
});

test("retries with growing waits, and starts over once the owner marks the link open", async () => {
  const s = make();
  s.connect();
  assert.deepEqual(states.at(-1), { kind: "connecting" });
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = Date.now();
    last().drop();
    const st = states.at(-1) as Extract<LinkState, { kind: "reconnecting" }>;
    assert.equal(st.attempt, i + 1);
    waits.push(st.retryAt - t0);
    await wait(st.retryAt - Date.now() + 15);
    assert.equal(FakeSocket.all.length, i + 2, "reconnected after the wait");
  }
  assert.ok(waits[0]! >= 16 && waits[0]! <= 24 && waits[1]! >= 32 && waits[1]! <= 48, `${waits}`);
  assert.ok(waits[3]! <= 80 * 1.2 + 1, `capped: ${waits}`);
  last().open();
  s.markOpen();
  assert.deepEqual(states.at(-1), { kind: "open" });
  last().drop();
  assert.equal((states.at(-1) as { attempt: number }).attempt, 1, "attempts start over");
  s.dispose();
});

test("callbacks of a dropped socket are ignored; messages of the live one delivered", async () => {
  const s = make();
  s.connect();
  const first = last();
  first.drop();
  s.reconnectNow();
  const second = last();
  assert.notEqual(first, second);
  first.onmessage?.({ data: "stale" });
  second.open();
  second.onmessage?.({ data: "fresh" });
  assert.deepEqual(got, ["fresh"]);
  assert.equal(s.send("hi"), true);
  assert.deepEqual(second.sent, ["hi"]);
  s.dispose();
  assert.equal(second.closedWith, 1000);
  assert.equal(s.send("more"), false);
});

test("a final close stops it: no retry, reconnectNow does nothing unless forced", async () => {
  const s = make();
  s.connect();
  last().open();
  last().drop(4410);
  assert.deepEqual(states.at(-1), { kind: "closed", reason: "gone", message: "bye" });
  await wait(60);
  assert.equal(FakeSocket.all.length, 1);
  s.reconnectNow();
  assert.equal(FakeSocket.all.length, 1);
  s.reconnectNow(true);
  assert.equal(FakeSocket.all.length, 2);
  // the server may say why before it closes: the close that follows is final whatever its code
  last().open();
  s.expectFinal({ reason: "gone", message: "said so" });
  last().drop(1000);
  assert.deepEqual(states.at(-1), { kind: "closed", reason: "gone", message: "said so" });
  s.dispose();
});

test("beforeRetry can end it (the lab no longer exists)", async () => {
  const asked: number[] = [];
  const s = make({ beforeRetry: async (n) => (asked.push(n), n >= 2 ? { reason: "gone", message: "probe" } : null) });
  s.connect();
  last().drop();
  await wait(40);
  last().drop();
  await wait(70);
  assert.deepEqual(asked, [1, 2]);
  assert.deepEqual(states.at(-1), { kind: "closed", reason: "gone", message: "probe" });
  assert.equal(FakeSocket.all.length, 2);
  s.dispose();
});

test("coming back online skips the wait; dispose stops listening", async () => {
  const s = make({ policy: { ...FAST, firstMs: 10_000, maxMs: 10_000 } });
  s.connect();
  last().drop();
  assert.equal(FakeSocket.all.length, 1);
  online!();
  assert.equal(FakeSocket.all.length, 2, "reconnected at once");
  online!(); // a socket is already connecting: nothing more
  assert.equal(FakeSocket.all.length, 2);
  s.dispose();
  assert.equal(online, null);
});
