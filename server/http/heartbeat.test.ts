import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { keepAlive } from "./heartbeat.ts";

// The heartbeat's interval runs on node:test's mock clock (ticked by the test); the pings and
// pongs are real frames on real sockets, waited for as events.
/** `p`, or a failure after a generous deadline (real time: only setInterval is mocked). */
function within<T>(p: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

test("a socket that stops answering pings is terminated at the next beat; a live one stays", async (t) => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  t.mock.timers.enable({ apis: ["setInterval"] });
  const INTERVAL = 30_000;
  const track = keepAlive(wss, INTERVAL);
  const serverSide: WebSocket[] = [];
  const clients: WebSocket[] = [];
  t.after(() => {
    for (const c of [...clients, ...serverSide]) c.terminate();
    wss.close();
  });
  wss.on("connection", (ws) => {
    track(ws);
    serverSide.push(ws);
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const connect = async () => {
    const c = new WebSocket(url);
    clients.push(c);
    const n = serverSide.length;
    await new Promise((r) => c.once("open", r));
    while (serverSide.length === n) await new Promise((r) => setImmediate(r));
    return [c, serverSide[n]!] as const;
  };
  const [live, liveServer] = await connect();
  const [dead, deadServer] = await connect();
  // a half-open peer: it reads nothing, so it answers no ping
  (dead as unknown as { _socket: { pause(): void } })._socket.pause();

  // beat 1: both are pinged; the live one answers
  const pinged = new Promise((r) => live.once("ping", r));
  const pong = new Promise((r) => liveServer.once("pong", r));
  t.mock.timers.tick(INTERVAL);
  await within(Promise.all([pinged, pong]), "the live socket's pong");
  assert.deepEqual([liveServer.readyState, deadServer.readyState], [WebSocket.OPEN, WebSocket.OPEN], "one unanswered ping is not enough");

  // beat 2: the one that never answered is terminated, the live one pinged again
  const closed = new Promise((r) => deadServer.once("close", r));
  const pong2 = new Promise((r) => liveServer.once("pong", r));
  t.mock.timers.tick(INTERVAL);
  await within(Promise.all([closed, pong2]), "the silent socket closed and the live one's second pong");
  assert.equal(liveServer.readyState, WebSocket.OPEN);
  assert.equal(deadServer.readyState, WebSocket.CLOSED);
});
