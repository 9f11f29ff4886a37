/**
 * A WebSocket stand-in for the reconnecting clients' unit tests (the terminal's and the
 * Explorer's): every socket made is kept in `FakeSocket.all`, and the test drives it by hand.
 */
import { afterEach, beforeEach, mock } from "node:test";
import type { SocketLike } from "./reconnecting-socket.ts";

/**
 * setTimeout and Date under the test's control, for every test of the calling file: the returned
 * `wait(ms)` moves the clock and lets the promises that follow settle. A backoff test then never
 * depends on how busy the machine is (real timers failed in CI at load 8: a test preempted between
 * reading the retry time and arming its own timer woke up before the retry).
 */
export function useFakeClock(): (ms: number) => Promise<void> {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_700_000_000_000 }));
  afterEach(() => mock.timers.reset());
  return async (ms) => {
    mock.timers.tick(ms);
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
}

export class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  static last(): FakeSocket {
    return FakeSocket.all.at(-1)!;
  }
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(d: string) {
    this.sent.push(d);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** A message from the server: an object is sent as its JSON, a string as it is. */
  message(m: unknown) {
    this.onmessage?.({ data: typeof m === "string" ? m : JSON.stringify(m) });
  }
  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}
