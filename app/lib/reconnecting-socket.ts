/**
 * One WebSocket that comes back by itself: the terminal and the explorer connections are built on
 * it. It opens the socket, ignores callbacks from sockets it has dropped (a generation counter),
 * waits between attempts with one backoff policy, reconnects at once when the browser comes back
 * online or the learner asks, and stops for good when its owner says the far end is gone.
 * No React, no DOM beyond WebSocket and the window's online event.
 */

/** The subset of the browser's WebSocket used here (a fake in tests). */
export interface SocketLike {
  readyState: number;
  binaryType?: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | ArrayBufferLike | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

const OPEN = 1;

/**
 * The backoff policy of every nslab socket: the first retry after 250 ms, doubling up to 5 s, each
 * delay ±20% so that a room of browsers does not come back in lockstep after a server restart.
 * Short enough that a learner rarely waits; the cap keeps a dead server from being hammered.
 */
export const BACKOFF = { firstMs: 250, maxMs: 5_000, factor: 2, jitter: 0.2 } as const;
export type BackoffPolicy = { firstMs: number; maxMs: number; factor: number; jitter: number };

/** The wait before retry number `attempt` (1-based). `rand` in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = BACKOFF, rand: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.firstMs * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter + 2 * policy.jitter * rand()));
}

export type LinkState<R extends string = string> =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting"; attempt: number; retryAt: number }
  | { kind: "closed"; reason: R; message: string };

export type Final<R extends string> = { reason: R; message: string };

export interface ReconnectingSocketOptions<R extends string> {
  url(): string;
  binaryType?: "arraybuffer" | "blob";
  onState(s: LinkState<R>): void;
  /** The socket opened (the owner may send its hello; the link is "open" only once it calls markOpen). */
  onOpen?(): void;
  onMessage(data: unknown): void;
  /** The socket closed: a Final stops reconnecting (the far end is gone), null retries. */
  onClose?(code: number, reason: string): Final<R> | null;
  /** Asked before each retry: a Final stops (e.g. the lab no longer exists). */
  beforeRetry?(attempt: number): Promise<Final<R> | null>;
  /** Called when the link stops for good (before the closed state), to drop queued work. */
  onFinal?(f: Final<R>): void;
  socket?(url: string): SocketLike;
  policy?: BackoffPolicy;
}

export class ReconnectingSocket<R extends string = string> {
  private ws: SocketLike | null = null;
  private gen = 0; // bumps on every socket: late callbacks from an old one are ignored
  private attempt = 0; // failures since the link last worked
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private final: Final<R> | null = null;
  private disposed = false;
  private readonly onOnline = () => this.reconnectNow();

  constructor(private readonly o: ReconnectingSocketOptions<R>) {
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
  }

  /** The socket is open and the owner has called markOpen since. */
  get isOpen(): boolean {
    return this.ws?.readyState === OPEN;
  }

  get stopped(): Final<R> | null {
    return this.final;
  }

  connect(): void {
    if (this.disposed) return;
    this.clearRetry();
    this.final = null;
    const gen = ++this.gen;
    this.o.onState(this.attempt === 0 ? { kind: "connecting" } : { kind: "reconnecting", attempt: this.attempt, retryAt: Date.now() });
    let ws: SocketLike;
    try {
      const url = this.o.url();
      ws = this.o.socket ? this.o.socket(url) : (new WebSocket(url) as unknown as SocketLike);
    } catch {
      this.scheduleRetry();
      return;
    }
    if (this.o.binaryType) ws.binaryType = this.o.binaryType;
    this.ws = ws;
    ws.onopen = () => {
      if (gen === this.gen) this.o.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (gen === this.gen) this.o.onMessage(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.ws = null;
      if (this.disposed) return;
      const f = this.final ?? this.o.onClose?.(ev.code, ev.reason) ?? null;
      if (f) this.stop(f);
      else this.scheduleRetry();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  /** The link works (the server said hello): report it open and start the next backoff from the beginning. */
  markOpen(): void {
    this.attempt = 0;
    this.o.onState({ kind: "open" });
  }

  /** Sends on the open socket; false if there is none (the owner queues or drops). */
  send(data: string | Uint8Array): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(data);
    return true;
  }

  /**
   * Remember that the far end is gone: the close that follows stops the link instead of retrying
   * (the server says why in a message before it closes).
   */
  expectFinal(f: Final<R>): void {
    this.final = f;
  }

  /** Stop for good: drop the socket and report closed. */
  stop(f: Final<R>): void {
    this.final = f;
    this.clearRetry();
    this.dropSocket();
    this.o.onFinal?.(f);
    this.o.onState({ kind: "closed", ...f });
  }

  /**
   * Skip the backoff wait (a button, the browser back online). `force` also reconnects a link
   * that stopped, or replaces a working socket (taking a terminal back from another window).
   */
  reconnectNow(force = false): void {
    if (this.disposed) return;
    if (!force && (this.final || (this.ws && this.ws.readyState <= OPEN))) return;
    this.dropSocket();
    this.connect();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    this.clearRetry();
    this.dropSocket();
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    this.attempt++;
    const attempt = this.attempt;
    const delay = backoffDelay(attempt, this.o.policy);
    this.o.onState({ kind: "reconnecting", attempt, retryAt: Date.now() + delay });
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retry(attempt);
    }, delay);
  }

  private async retry(attempt: number): Promise<void> {
    if (this.disposed) return;
    if (this.o.beforeRetry) {
      const f = await this.o.beforeRetry(attempt).catch(() => null);
      if (this.disposed || this.attempt !== attempt || this.ws) return; // someone reconnected meanwhile
      if (f) return this.stop(f);
    }
    this.connect();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private dropSocket(): void {
    this.gen++;
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(1000, "client closing");
    } catch {
      /* never opened */
    }
  }
}
