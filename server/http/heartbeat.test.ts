import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { keepAlive } from "./heartbeat.ts";

test("a socket that stops answering pings is terminated; a live one stays", async () => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const track = keepAlive(wss, 50);
  const serverSide: WebSocket[] = [];
  wss.on("connection", (ws) => {
    track(ws);
    serverSide.push(ws);
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const live = new WebSocket(url);
  const dead = new WebSocket(url);
  await Promise.all([live, dead].map((c) => new Promise((r) => c.once("open", r))));
  // a half-open peer: it reads nothing, so it answers no ping
  (dead as unknown as { _socket: { pause(): void } })._socket.pause();
  await new Promise((r) => setTimeout(r, 400));
  const states = serverSide.map((ws) => ws.readyState);
  assert.deepEqual(states.sort(), [WebSocket.OPEN, WebSocket.CLOSED].sort());
  live.close();
  dead.terminate();
  wss.close();
});
