import "server-only";
import type { WebSocket, WebSocketServer } from "ws";

type Live = WebSocket & { alive?: boolean };

/**
 * Pings every socket of `wss` every 30 s and terminates those that did not answer the previous
 * ping: a half-open connection (a laptop closed mid-lesson) must not hold a terminal attached.
 * Returns the function to call on each new socket (sockets made with handleUpgrade do not pass
 * through the server's "connection" event).
 */
export function keepAlive(wss: WebSocketServer, intervalMs = 30_000): (ws: WebSocket) => void {
  const timer = setInterval(() => {
    for (const ws of wss.clients as Set<Live>) {
      if (ws.alive === false) {
        ws.terminate();
        continue;
      }
      ws.alive = false;
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return (ws: Live) => {
    ws.alive = true;
    ws.on("pong", () => (ws.alive = true));
  };
}
