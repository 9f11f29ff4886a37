/**
 * TerminalConnection against a fake WebSocket: stream offsets across reconnects, acks after
 * rendering, backoff, final states. No browser, no server.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { ACK_EVERY } from "../../lib/protocol.ts";
import { useFakeClock } from "./fake-socket.ts";
import { TerminalConnection, type ConnectionState, type TerminalSink } from "./terminal-connection.ts";

class FakeSocket {
  static all: FakeSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  readyState = 0;
  binaryType = "blob";
  sent: (string | Uint8Array)[] = [];
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(d: string | Uint8Array) {
    this.sent.push(d);
  }
  close() {
    this.readyState = 3;
  }
  // test side
  open() {
    this.readyState = 1;
  }
  control(m: object) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  data(bytes: number | string) {
    const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : new Uint8Array(bytes).fill(120);
    this.onmessage?.({ data: b.buffer });
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  controls(): Record<string, unknown>[] {
    return this.sent.filter((x): x is string => typeof x === "string").map((x) => JSON.parse(x) as Record<string, unknown>);
  }
  get params() {
    return new URL(this.url).searchParams;
  }
}

const g = globalThis as Record<string, unknown>;
let states: ConnectionState[];
let written: { bytes: number; done: () => void }[];
let resets: number;

function sink(): TerminalSink {
  return {
    write: (d, done) => written.push({ bytes: d.length, done }),
    reset: () => resets++,
    size: () => ({ cols: 100, rows: 30 }),
  };
}

function make(terminal: string | null = null) {
  const events = {
    state: (s: ConnectionState) => states.push(s),
    ready: () => {},
    exit: () => {},
    command: () => {},
    error: () => {},
  };
  return new TerminalConnection({ lab: { id: "0123456789abcdef", token: "tok" }, terminal, sink: sink(), events });
}

const tick = useFakeClock();

beforeEach(() => {
  FakeSocket.all = [];
  states = [];
  written = [];
  resets = 0;
  g.WebSocket = FakeSocket;
  g.window = { location: { href: "http://localhost:3000/lessons/x" }, addEventListener() {}, removeEventListener() {} };
});
afterEach(() => {
  delete g.WebSocket;
  delete g.window;
});

describe("TerminalConnection", () => {
  test("opens a new terminal with its size, then reattaches at the received offset", async () => {
    const c = make();
    c.connect();
    const ws = FakeSocket.all[0]!;
    assert.equal(ws.params.get("token"), "tok");
    assert.equal(ws.params.get("cols"), "100");
    assert.equal(ws.params.get("terminal"), null);
    ws.open();
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    assert.deepEqual(ws.controls()[0], { type: "resize", cols: 100, rows: 30 });
    ws.data(300);
    ws.data(200);
    ws.drop();
    assert.equal(states.at(-1)?.kind, "reconnecting");
    await tick(350); // first backoff is 250 ms ±20%
    const ws2 = FakeSocket.all[1]!;
    assert.equal(ws2.params.get("terminal"), "t1");
    assert.equal(ws2.params.get("offset"), "500");
    ws2.open();
    ws2.control({ type: "ready", terminal: "t1", offset: 500, replayed: 0, reset: false });
    assert.equal(resets, 0);
    assert.equal(states.at(-1)?.kind, "open");
    c.dispose();
  });

  test("clears the screen when the server cannot resume at our offset", async () => {
    const c = make("t7");
    c.connect();
    const ws = FakeSocket.all[0]!;
    assert.equal(ws.params.get("offset"), "0");
    ws.open();
    ws.control({ type: "ready", terminal: "t7", offset: 4096, replayed: 1000, reset: true });
    assert.equal(resets, 1);
    ws.data(1000);
    ws.drop();
    await tick(350);
    assert.equal(FakeSocket.all[1]!.params.get("offset"), "5096");
    c.dispose();
  });

  test("acks rendered bytes: at ACK_EVERY at once, the remainder when idle", async () => {
    const c = make();
    c.connect();
    const ws = FakeSocket.all[0]!;
    ws.open();
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    ws.data(ACK_EVERY - 1);
    ws.data(10);
    assert.equal(ws.controls().filter((m) => m.type === "ack").length, 0, "nothing rendered yet, nothing acked");
    written[0]!.done();
    written[1]!.done();
    assert.deepEqual(ws.controls().filter((m) => m.type === "ack"), [{ type: "ack", bytes: ACK_EVERY + 9 }]);
    ws.data(7);
    written[2]!.done();
    await tick(80);
    assert.deepEqual(ws.controls().filter((m) => m.type === "ack").at(-1), { type: "ack", bytes: 7 });
    c.dispose();
  });

  test("bytes rendered after a reconnect are not acked on the new socket", async () => {
    const c = make();
    c.connect();
    const ws = FakeSocket.all[0]!;
    ws.open();
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    ws.data(ACK_EVERY * 2);
    ws.drop();
    await tick(350);
    const ws2 = FakeSocket.all[1]!;
    ws2.open();
    ws2.control({ type: "ready", terminal: "t1", offset: ACK_EVERY * 2, replayed: 0, reset: false });
    written[0]!.done();
    await tick(80);
    assert.equal(ws2.controls().filter((m) => m.type === "ack").length, 0);
    c.dispose();
  });

  test("input typed before the shell is ready is sent once it is", () => {
    const c = make();
    c.connect();
    c.send("ls\r");
    const ws = FakeSocket.all[0]!;
    ws.open();
    assert.equal(ws.sent.length, 0);
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    const bin = ws.sent.filter((x) => typeof x !== "string") as Uint8Array[];
    assert.equal(new TextDecoder().decode(bin[0]), "ls\r");
    c.dispose();
  });

  test("a closed message ends it for good; attached-elsewhere can be taken back", async () => {
    const c = make();
    c.connect();
    let ws = FakeSocket.all[0]!;
    ws.open();
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    ws.drop(4001, "attached elsewhere");
    assert.deepEqual(states.at(-1), { kind: "closed", reason: "attached-elsewhere", message: "attached elsewhere" });
    await tick(350);
    assert.equal(FakeSocket.all.length, 1, "no automatic reconnect");
    c.reconnectNow();
    assert.equal(FakeSocket.all.length, 2);
    ws = FakeSocket.all[1]!;
    ws.open();
    ws.control({ type: "ready", terminal: "t1", offset: 0, replayed: 0, reset: false });
    ws.control({ type: "closed", reason: "grace-expired", message: "gone" });
    ws.drop(4000, "grace-expired");
    assert.deepEqual(states.at(-1), { kind: "closed", reason: "grace-expired", message: "gone" });
    c.reconnectNow();
    assert.equal(FakeSocket.all.length, 2);
    c.dispose();
  });

  test("follows the shared backoff policy, and probes the lab after three failures", async () => {
    let probes = 0;
    const c = new TerminalConnection({
      lab: { id: "0123456789abcdef", token: "tok" },
      terminal: null,
      sink: sink(),
      events: { state: (s) => states.push(s), ready: () => {}, exit: () => {}, command: () => {}, error: () => {} },
      probe: async () => (++probes >= 2 ? "gone" : "ok"),
    });
    c.connect();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = Date.now();
      FakeSocket.all.at(-1)!.drop();
      const s = states.at(-1);
      assert.equal(s?.kind, "reconnecting");
      if (s?.kind === "reconnecting") delays.push(s.retryAt - before);
      if (i < 2) c.reconnectNow(); // skip the wait
    }
    assert.ok(delays[0]! >= 200 && delays[0]! <= 300 && delays[1]! >= 400 && delays[1]! <= 600 && delays[2]! >= 800 && delays[2]! <= 1200, `${delays}`);
    await tick(1300);
    assert.equal(probes, 1, "the third retry asked whether the lab is still there");
    FakeSocket.all.at(-1)!.drop();
    await tick(2500);
    assert.equal(probes, 2);
    assert.deepEqual(states.at(-1), { kind: "closed", reason: "lab-destroyed", message: "" });
    c.dispose();
  });
});
