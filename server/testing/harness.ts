import "server-only";
import { WebSocket } from "ws";
import type { Config } from "../config.ts";
import { log } from "../log/log.ts";
import { startServer, type NslabServer } from "../server.ts";
import { testConfig } from "./instance.ts";
import { NEW_LAB_SOCKET, type CreateLabResponse, type ExplorerServerMessage, type LabSnapshot, type ServerControl } from "../../lib/protocol.ts";

/**
 * A real server (API + WebSockets, no pages) on a free port, for integration tests and benches. It
 * runs in the caller's process and logs warnings and errors only (NSLAB_LOG_LEVEL overrides): a
 * bench's figures would drown in its request log.
 */
export async function testServer(env: Record<string, string> = {}): Promise<NslabServer & { config: Config }> {
  log.level = process.env.NSLAB_LOG_LEVEL ?? "warn";
  const config = testConfig({ tag: "test", env });
  const s = await startServer(config, { pages: false });
  return Object.assign(s, { config });
}

export async function api(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function createLab(base: string, body: unknown = {}): Promise<CreateLabResponse> {
  const r = await api(base, "POST", "/api/labs", undefined, body);
  if (r.status !== 201) throw new Error(`create lab: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** A terminal client that acks everything and collects output and control messages. */
export class TermClient {
  output = "";
  controls: ServerControl[] = [];
  ws: WebSocket;
  opened: Promise<void>;
  bytes = 0;
  private waiters: (() => void)[] = [];

  /**
   * `lab` null: the socket that makes its lab (NEW_LAB_SOCKET; its first control message is the
   * lab's, `query` its whole query). `localAddress`: connect from this address (127.0.0.2: another
   * client than the test's others)
   */
  constructor(base: string, lab: CreateLabResponse | null, query = "", origin?: string, localAddress?: string) {
    const url = lab ? `${base.replace("http", "ws")}/api/labs/${lab.id}/terminals?token=${lab.token}${query}` : `${base.replace("http", "ws")}${NEW_LAB_SOCKET}?${query}`;
    this.ws = new WebSocket(url, { ...(origin ? { origin } : {}), ...(localAddress ? { localAddress } : {}) });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data, isBinary) => {
      if (isBinary) {
        const b = data as Buffer;
        this.output += b.toString("utf8");
        this.bytes += b.length;
        this.ws.send(JSON.stringify({ type: "ack", bytes: b.length }));
      } else this.controls.push(JSON.parse(data.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get ready() {
    return this.controls.find((c) => c.type === "ready") as Extract<ServerControl, { type: "ready" }> | undefined;
  }

  send(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  control(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Waits until the output (or a control message) satisfies `pred`. */
  async until(pred: (c: this) => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; output so far:\n${this.output.slice(-2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Runs a command and returns what it printed between two unique markers. */
  async run(cmd: string, ms = 10_000): Promise<string> {
    const tag = `M${Math.random().toString(36).slice(2, 10)}`;
    const start = this.output.length;
    // the quotes keep the echoed command line from matching the markers
    this.send(`echo ${tag}''B; ${cmd}; echo ${tag}''E\r`);
    await this.until((c) => c.output.indexOf(`${tag}E\r\n`, start) >= 0, `output of ${cmd}`, ms);
    const out = this.output.slice(start);
    const b = out.indexOf(`${tag}B\r\n`);
    const e = out.indexOf(`${tag}E\r\n`);
    return out.slice(b + tag.length + 3, e).replace(/\r\n/g, "\n");
  }

  close(): void {
    this.ws.close();
  }
}

/** An explorer client (WS /api/labs/:id/explorer) that keeps every message it gets, with its time. */
export class ExplorerClient {
  msgs: { at: number; msg: ExplorerServerMessage }[] = [];
  ws: WebSocket;
  opened: Promise<void>;
  closed: Promise<{ code: number }>;
  constructor(base: string, lab: { id: string; token: string }) {
    this.ws = new WebSocket(`${base.replace("http", "ws")}/api/labs/${lab.id}/explorer?token=${lab.token}`);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("unexpected-response", (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once("error", reject);
    });
    this.closed = new Promise((r) => this.ws.once("close", (code) => r({ code })));
    this.ws.on("message", (d) => this.msgs.push({ at: Date.now(), msg: JSON.parse(d.toString()) }));
  }
  of<T extends ExplorerServerMessage["type"]>(type: T) {
    return this.msgs.filter((m) => m.msg.type === type).map((m) => ({ at: m.at, ...(m.msg as Extract<ExplorerServerMessage, { type: T }>) }));
  }
  last(): LabSnapshot | undefined {
    return this.of("snapshot").at(-1)?.snapshot;
  }
  async until<T>(fn: () => T | undefined | null | false, what: string, ms = 5000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  send(v: unknown) {
    this.ws.send(typeof v === "string" ? v : JSON.stringify(v));
  }
}
