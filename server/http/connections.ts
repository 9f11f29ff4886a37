import "server-only";
import fs from "node:fs";
import type http from "node:http";
import net from "node:net";
import type { Socket } from "node:net";

/**
 * Limits on connections before any request is read (issue 12, finding 8: 20,000 half-sent
 * requests with no token filled the server's file descriptors; health stopped answering and no lab
 * could be made). Three things together:
 *
 * - at most `perAddress` open TCP connections from one client address (HTTP keep-alive and
 *   WebSockets alike), counted from accept to close; beyond, the connection is closed at once,
 *   before Node parses a byte. An IPv6 client counts by its /64 (one host usually holds a whole
 *   /64, and would otherwise have 2^64 addresses to spread over);
 * - a request's headers must arrive within `headersTimeoutMs` and the whole request within
 *   `requestTimeoutMs` (Node's own timers, checked every second), so a half-sent request holds
 *   its descriptor for seconds, not minutes;
 * - the descriptor limit: Node raises its soft RLIMIT_NOFILE to the hard limit at start; the
 *   systemd unit sets that (LimitNOFILE), and `openFilesLimit` reports it.
 *
 * Behind a proxy every connection comes from the proxy's address, so the per-address cap is off
 * by default there (NSLAB_TRUST_PROXY=1) and the proxy limits clients (docs/operations.md).
 */
export interface ConnectionLimits {
  /** 0: no per-address cap */
  perAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/** The options http.createServer needs for the timeouts (the checking interval is only settable there). */
export function serverTimeouts(l: ConnectionLimits): http.ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    // how often Node looks for requests past those timeouts (default 30 s)
    connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs),
  };
}

/** The key a client's connections are counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!net.isIPv6(address)) return address;
  return `${ipv6Groups(address).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, "::" expanded (no zone). */
function ipv6Groups(address: string): string[] {
  const [head = "", tail] = address.split("%")[0]!.split("::");
  const a = head ? head.split(":") : [];
  const b = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - a.length - b.length).fill("0");
  return [...a, ...fill, ...b].map((g) => (parseInt(g, 16) || 0).toString(16));
}

/**
 * Counts a server's open connections per client address and closes those over the cap at once.
 * `onRefused` is told each one (for the metrics). The count lives as long as the connection, an
 * upgraded WebSocket's too.
 */
export class ConnectionGate {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly perAddress: number,
    private readonly onRefused: (key: string) => void = () => {},
  ) {}

  /**
   * Puts the gate in front of the server's own `connection` listeners (Node's HTTP set-up: a
   * parser, timers, the connections list the timeouts walk), which then run only for admitted
   * connections. A refused one costs the accept, one Map lookup and a reset: no HTTP machinery is
   * made for it, and the RST (rather than a FIN exchange) leaves no socket in FIN_WAIT/TIME_WAIT on
   * the server (the flood of finding 8 reopens ~1,000 a second).
   */
  attach(server: http.Server): void {
    if (this.perAddress <= 0) return;
    const inner = server.listeners("connection") as ((socket: Socket) => void)[];
    server.removeAllListeners("connection");
    server.on("connection", (socket: Socket) => {
      if (this.admit(socket)) for (const fn of inner) fn.call(server, socket);
    });
  }

  /** Open connections from the client with this key (for tests and the doctor). */
  count(key: string): number {
    return this.open.get(key) ?? 0;
  }

  private admit(socket: Socket): boolean {
    const key = addressKey(socket.remoteAddress);
    const n = this.open.get(key) ?? 0;
    if (n >= this.perAddress) {
      this.onRefused(key);
      socket.on("error", () => {});
      socket.resetAndDestroy();
      return false;
    }
    this.open.set(key, n + 1);
    socket.once("close", () => {
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    });
    return true;
  }
}

/** The server's own RLIMIT_NOFILE (soft, hard) from /proc/self/limits; null if unreadable. */
export function openFilesLimit(): { soft: number; hard: number } | null {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    if (!m) return null;
    const n = (s: string) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return null;
  }
}
