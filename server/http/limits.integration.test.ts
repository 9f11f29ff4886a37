/**
 * Connections and lab sockets against a hostile client (issue 12, findings 7 and 8): a real server
 * (in a process of its own, so its file descriptors and memory are its own), real labs, and an
 * attacker on 127.0.0.1 while the rest of the world (a learner, the health probe) comes from
 * 127.0.0.2. Nothing here asserts a time: each waits for what the server does, with generous
 * deadlines.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { after, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { CreateLabResponse, ExplorerServerMessage, LabSnapshot } from "../../lib/protocol.ts";
import type { ExplorerHub } from "../inspect/watch.ts";
import type { LabHandle } from "../labs/types.ts";
import { createLab, ExplorerClient, testServer, TermClient } from "../testing/harness.ts";
import { ExplorerSockets } from "./explorer-socket.ts";
import { isolatedEnv } from "../testing/instance.ts";
import { killServerProcesses, startServerProcess, type ServerProcess } from "../testing/server-process.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");
after(killServerProcesses);

const ELSEWHERE = "127.0.0.2";

/** A request from 127.0.0.2, not the attacker's address; rejects if the server does not answer. */
function fromElsewhere(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname + u.search,
        method,
        localAddress: ELSEWHERE,
        agent: false,
        timeout: 60_000,
        headers: data ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(data)) } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => {
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode!, text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} from ${ELSEWHERE}: no answer`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** One counter of the server's /metrics (read from 127.0.0.2: loopback, so allowed). */
async function metric(base: string, name: string, labels: string): Promise<number> {
  const r = await fromElsewhere(base, "GET", "/metrics");
  const line = r.text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

async function until<T>(fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

describe("connection exhaustion (finding 8: per-address cap, request timeouts)", () => {
  test("thousands of half-sent requests from one address: /api/health from another still answers and a lab can be made; the server answers 408 to the slow ones", async () => {
    // few descriptors, as on a host nobody tuned: without the cap, the attack takes them all
    const srv: ServerProcess = await startServerProcess(
      { ...isolatedEnv("conns"), NSLAB_POOL: "0", NSLAB_CONNECTIONS_PER_ADDRESS: "256", NSLAB_HEADERS_TIMEOUT: "3s", NSLAB_REQUEST_TIMEOUT: "10s" },
      { wrap: (argv) => ["prlimit", "--nofile=1024:1024", "--", ...argv] },
    );
    const u = new URL(srv.url);
    let stopping = false;
    let got408 = 0;
    const open = new Set<net.Socket>();
    // the attacker keeps 1,500 requests open, each with its headers never finished
    const halfSend = (): void => {
      if (stopping) return;
      const s = net.connect({ host: u.hostname, port: Number(u.port) });
      open.add(s);
      s.on("connect", () => s.write(`GET /api/health HTTP/1.1\r\nHost: ${u.host}\r\nX-Slow: `));
      s.on("data", (d) => {
        if (d.toString("latin1").startsWith("HTTP/1.1 408")) got408++;
      });
      s.on("error", () => {});
      s.on("close", () => {
        open.delete(s);
        setTimeout(halfSend, 1000).unref();
      });
    };
    try {
      for (let i = 0; i < 1500; i++) halfSend();
      const cap = await until(async () => (await metric(srv.url, "nslab_connections_refused_total", 'reason="connections_per_address"')) >= 1000, "the per-address cap to refuse most of them", 120_000);
      assert.ok(cap);
      // during the attack: health and a new lab, from another address
      for (let i = 0; i < 3; i++) {
        const h = await fromElsewhere(srv.url, "GET", "/api/health");
        assert.equal(h.status, 200);
        assert.equal(h.json.ok, true);
      }
      const made = await fromElsewhere(srv.url, "POST", "/api/labs", {});
      assert.equal(made.status, 201, made.text);
      const lab = made.json as CreateLabResponse;
      // and the lab works: its terminal, from that address
      const t = new TermClient(srv.url, lab, "", undefined, ELSEWHERE);
      await t.opened;
      await t.until((c) => /[#$] $/.test(c.output), "the new lab's prompt", 60_000);
      assert.equal((await t.run("echo alive", 60_000)).trim(), "alive");
      t.close();
      // the requests that were let in wait for their headers only NSLAB_HEADERS_TIMEOUT
      await until(() => got408 > 0, "408 Request Timeout for a half-sent request", 60_000);
    } finally {
      stopping = true;
      for (const s of open) s.destroy();
      await srv.stop();
    }
  });
});

/**
 * A WebSocket handshake on a raw socket that then never reads again (the attacker's client):
 * resolves with the status line's code once the server answered.
 */
function neverReading(base: string, lab: CreateLabResponse): Promise<{ status: number; body: string; socket: net.Socket }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    const key = crypto.randomBytes(16).toString("base64");
    s.on("error", () => {});
    s.once("connect", () =>
      s.write(
        `GET /api/labs/${lab.id}/explorer?token=${lab.token} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    s.once("data", (d) => {
      s.pause(); // from here on the socket is never read: the server's frames pile up
      const text = d.toString("latin1");
      resolve({ status: Number(text.slice(9, 12)), body: text.slice(text.indexOf("\r\n\r\n") + 4), socket: s });
    });
    s.once("close", () => reject(new Error("closed before the handshake answered")));
  });
}

describe("explorer sockets (finding 7: caps, one serialization, slow readers closed)", () => {
  test("never-reading explorer sockets: capped per lab and per address, closed by the server; its memory stays bounded; other learners are fine", async () => {
    const srv: ServerProcess = await startServerProcess({
      ...isolatedEnv("sockets"),
      NSLAB_POOL: "0",
      NSLAB_SOCKETS_PER_ADDRESS: "12",
      NSLAB_EXPLORERS_PER_LAB: "8",
    });
    const sockets: net.Socket[] = [];
    try {
      const make = async () => {
        const r = await fromElsewhere(srv.url, "POST", "/api/labs", {});
        assert.equal(r.status, 201, r.text);
        return r.json as CreateLabResponse;
      };
      const [a, b, c] = [await make(), await make(), await make()];
      // lab A changes all the time and has big snapshots: 150 processes with 180-character command lines, and churn
      const ta = new TermClient(srv.url, a, "", undefined, ELSEWHERE);
      await ta.opened;
      await ta.until((x) => /[#$] $/.test(x.output), "lab A's prompt", 60_000);
      ta.send(`L=$(head -c 180 /dev/zero | tr '\\0' a); for i in $(seq 150); do sleep 100000 $L & done; while :; do sleep 0.05 & sleep 0.05 & wait $!; done &\r`);
      // the bystander: another learner's terminal, from another address
      const tc = new TermClient(srv.url, c, "", undefined, ELSEWHERE);
      await tc.opened;
      await tc.until((x) => /[#$] $/.test(x.output), "the bystander's prompt", 60_000);
      const others = async () => {
        assert.equal((await tc.run("echo alive", 60_000)).trim(), "alive");
        const h = await fromElsewhere(srv.url, "GET", "/api/health");
        assert.equal(h.status, 200);
      };
      await others();
      const rss0 = rssBytes(srv.pid);

      // 30 sockets on lab A: 8 let in (per lab), the rest 429
      const onA = await Promise.all(Array.from({ length: 30 }, () => neverReading(srv.url, a)));
      sockets.push(...onA.map((r) => r.socket));
      assert.equal(onA.filter((r) => r.status === 101).length, 8, "explorers per lab");
      assert.ok(onA.filter((r) => r.status === 429).every((r) => JSON.parse(r.body).error === "sockets_per_lab"));
      // 30 on lab B from the same address: 4 more (12 per address), the rest 429
      const onB = await Promise.all(Array.from({ length: 30 }, () => neverReading(srv.url, b)));
      sockets.push(...onB.map((r) => r.socket));
      assert.equal(onB.filter((r) => r.status === 101).length, 4, "sockets per address");
      assert.ok(onB.filter((r) => r.status === 429).every((r) => JSON.parse(r.body).error === "sockets_per_address"));

      // none of them reads while A's snapshots keep coming: the server closes them (the explorer's
      // stall rule once its buffer stays above the high-water mark, or the heartbeat, whichever
      // comes first); meanwhile everyone else is served and the server's memory stays bounded
      let peak = rss0;
      await until(
        async () => {
          peak = Math.max(peak, rssBytes(srv.pid));
          await others();
          return (await metric(srv.url, "nslab_sockets", 'kind="explorer"')) === 0;
        },
        "the server to close the never-reading explorers",
        180_000,
      );
      peak = Math.max(peak, rssBytes(srv.pid));
      assert.ok(peak - rss0 < 200 * 1024 ** 2, `the server grew by ${Math.round((peak - rss0) / 1024 ** 2)} MB`);
      // their places are free again: a reading explorer on lab A is let in and served
      const x = new ExplorerClient(srv.url, a);
      await x.opened;
      await x.until(() => x.last(), "a snapshot for a reading explorer", 60_000);
      x.ws.close();
      await others();
      ta.close();
      tc.close();
    } finally {
      for (const s of sockets) s.destroy();
      await srv.stop();
    }
  });

  test("a snapshot is serialized once for all of a lab's explorers (the same frame buffer goes to each socket)", async () => {
    const s = await testServer();
    const sent: { socket: WebSocket; data: unknown }[] = [];
    const orig = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket & { _isServer?: boolean }, data: unknown, ...rest: unknown[]) {
      if (this._isServer) sent.push({ socket: this, data });
      return (orig as (...a: unknown[]) => void).call(this, data, ...rest);
    } as typeof orig;
    try {
      const lab = await createLab(s.url);
      const xs = Array.from({ length: 5 }, () => new ExplorerClient(s.url, lab));
      for (const x of xs) await x.opened;
      for (const x of xs) await x.until(() => x.last(), "first snapshot", 30_000);
      await s.mgr.get(lab.id)!.exec("setsid -f sleep 4242 </dev/null >/dev/null 2>&1");
      for (const x of xs) await x.until(() => x.last()?.processes.some((p) => p.cmdline === "sleep 4242"), "the new process", 30_000);
      const frames = sent.filter((e) => Buffer.isBuffer(e.data) ? e.data.includes("sleep 4242") && e.data.includes('"type":"snapshot"') : String(e.data).includes("sleep 4242"));
      const first = new Map<WebSocket, unknown>();
      for (const f of frames) if (!first.has(f.socket)) first.set(f.socket, f.data);
      assert.equal(first.size, 5, "each explorer got the snapshot");
      const [one, ...rest] = [...first.values()];
      assert.ok(Buffer.isBuffer(one), "sent as a buffer ws does not copy");
      for (const d of rest) assert.equal(d, one, "the very same buffer");
      for (const x of xs) x.ws.close();
    } finally {
      WebSocket.prototype.send = orig;
      await s.close();
    }
  });

  test("an explorer socket that stays above the high-water mark is closed (the stall rule, on a real loopback socket)", async () => {
    // the socket layer alone, fed by a stand-in for the hub so that it can be fed faster than any
    // lab changes: 256 KiB snapshots, each a new message, until the server gives up on the reader
    let send: ((m: ExplorerServerMessage) => void) | null = null;
    const hub = { subscribe: (_lab: LabHandle, s: (m: ExplorerServerMessage) => void) => ((send = s), Object.assign(() => (send = null), { mounts() {} })) };
    let stalled = 0;
    const sockets = new ExplorerSockets(hub as unknown as ExplorerHub, { stallMs: 1000, onStalled: () => stalled++ });
    const server = http.createServer();
    server.on("upgrade", (req, socket, head) => sockets.upgrade(req, socket, head, {} as LabHandle));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const client = await neverReading(base, { id: "0123456789abcdef", token: "x" } as CreateLabResponse);
    assert.equal(client.status, 101);
    const big = "p".repeat(256 * 1024);
    const snapshot = (n: number): ExplorerServerMessage => ({ type: "snapshot", snapshot: { at: n, processes: [], namespaces: [], userMaps: [], big } as unknown as LabSnapshot });
    try {
      let n = 0;
      await until(() => {
        for (let i = 0; i < 8 && send; i++) send(snapshot(n++));
        return stalled > 0 || send === null ? true : null;
      }, "the stalled socket to be closed", 120_000);
      assert.equal(stalled, 1, "closed as a slow reader");
      await until(() => send === null, "the subscription to end with the socket", 30_000);
    } finally {
      client.socket.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
