/**
 * deploy/Caddyfile with a real Caddy in front of a real nslab server: the API over TLS, a lab
 * terminal's WebSocket passed through (surviving Caddy's request timeouts, scaled down here so the
 * test is short) and X-Forwarded-For set to the real client whatever the client claims, so
 * per-address limits cannot be dodged. Needs root (a real server makes real labs); the rest of
 * deploy/ is checked by deploy.test.ts. CI installs caddy (.ci/run); where it is missing here,
 * the test says so and is skipped.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { testServer } from "../server/testing/harness.ts";
import { caddyHome, missing } from "./test-tools.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("deploy/Caddyfile in front of a real server", { skip: missing("caddy", "caddy") }, () => {
  const procs: ChildProcess[] = [];
  const home = caddyHome();
  const tmp = home.dir;
  after(() => {
    for (const p of procs) p.kill("SIGKILL");
    home.remove();
  });
  const caddyEnv = home.env;

  test("a real Caddy in front of a real server: TLS, a lab terminal through it, the client's real address", async () => {
    const s = await testServer({ NSLAB_TRUST_PROXY: "1", NSLAB_LABS_PER_CLIENT: "1" });
    try {
      const [httpPort, httpsPort, adminPort] = await freePorts(3);
      // the shipped file with its request timeouts cut to 1-2 s: a WebSocket must outlive them
      const file = path.join(tmp, "Caddyfile");
      fs.writeFileSync(
        file,
        fs
          .readFileSync(path.join(here, "Caddyfile"), "utf8")
          .replace(/read_header \d+s/, "read_header 1s")
          .replace(/read_body \d+s/, "read_body 2s")
          .replace(/idle \d+m/, "idle 2s"),
      );
      const caddy = spawn("caddy", ["run", "--config", file], {
        env: caddyEnv({
          NSLAB_DOMAIN: "localhost",
          NSLAB_UPSTREAM: new URL(s.url).host,
          NSLAB_HTTP_PORT: String(httpPort),
          NSLAB_HTTPS_PORT: String(httpsPort),
          NSLAB_CADDY_ADMIN: `localhost:${adminPort}`,
        }),
        stdio: ["ignore", "ignore", "pipe"],
      });
      procs.push(caddy);
      let log = "";
      caddy.stderr!.on("data", (d) => (log += d));
      const base = `https://localhost:${httpsPort}`;
      await until(async () => (await get(`${base}/api/health`).catch(() => null))?.status === 200, () => `Caddy did not serve ${base}:\n${log}`);

      // a lab, asked for from "6.6.6.6": Caddy replaces the claim with the real address, so the
      // second lab from "7.7.7.7" is the same client's second (NSLAB_LABS_PER_CLIENT=1)
      const first = await post(`${base}/api/labs`, {}, { "x-forwarded-for": "6.6.6.6" });
      assert.equal(first.status, 201, first.body);
      const second = await post(`${base}/api/labs`, {}, { "x-forwarded-for": "7.7.7.7" });
      assert.notEqual(second.status, 201, "a spoofed X-Forwarded-For does not make a new client");
      const lab = JSON.parse(first.body);

      const ws = new WebSocket(`wss://localhost:${httpsPort}/api/labs/${lab.id}/terminals?token=${lab.token}`, {
        rejectUnauthorized: false,
        origin: base,
      });
      let out = "";
      ws.on("message", (d, binary) => {
        if (!binary) return;
        out += String(d);
        ws.send(JSON.stringify({ type: "ack", bytes: (d as Buffer).length }));
      });
      let closed: number | null = null;
      ws.on("close", (code) => (closed = code));
      await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
      ws.send(Buffer.from("echo through-$((6*7))\r"));
      await until(() => out.includes("through-42"), () => `no shell output through Caddy:\n${out}`);
      // idle longer than every request timeout of the (scaled) Caddyfile
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(closed, null, "the terminal's WebSocket outlives Caddy's request timeouts");
      ws.send(Buffer.from("echo still-$((6*7))\r"));
      await until(() => out.includes("still-42"), () => `the socket went quiet after idling:\n${out}`);
      ws.close();
    } finally {
      await s.close();
    }
  });
});

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((r) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => r(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function request(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, rejectUnauthorized: false, headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) } }, (res) => {
      let b = "";
      res.on("data", (d) => (b += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const get = (url: string) => request(url, "GET");
const post = (url: string, body: unknown, headers: Record<string, string> = {}) => request(url, "POST", JSON.stringify(body), headers);

async function until(pred: () => boolean | Promise<boolean>, what: () => string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(what());
    await new Promise((r) => setTimeout(r, 100));
  }
}
