/**
 * bench/scale: what the web tier costs (issue 15). One agent (NSLAB_ROLE=agent) and one web
 * replica (NSLAB_ROLE=web) in processes of their own on loopback; this process is the client.
 *
 *   1. keystroke echo: one byte to a shell at its prompt until its echo arrives (then a DEL,
 *      untimed), through web (spliced sockets) against direct to the agent (with the internal
 *      secret), interleaved key by key so both see the same machine;
 *   2. lab creation (NSLAB_POOL=0: a cold lab each time): POST /api/labs through web (access,
 *      admission, placement, POST /internal/labs on the agent, the directory) against
 *      POST /internal/labs direct to the agent, interleaved; each lab deleted after, untimed.
 * Goals: echo p50 ≤ +0.5 ms, creation p50 ≤ +5 ms through web.
 *
 *   npm run bench:scale [-- --keys 500 --labs 40]
 * Needs root (labs).
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { isolatedEnv } from "../server/testing/instance.ts";
import { intOption, summary } from "./stats.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const KEYS = intOption(args, "keys", 500);
const LABS = intOption(args, "labs", 40);
const SECRET = crypto.randomBytes(32).toString("base64url");
const H = "x-nslab-internal";
const now = () => performance.now();

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const children: ChildProcess[] = [];
async function serve(env: Record<string, string>, port: number): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "bench/scale-server.ts"], {
    cwd: REPO,
    env: { ...process.env, NODE_ENV: "production", HOST: "127.0.0.1", PORT: String(port), NSLAB_INTERNAL_SECRET: SECRET, NSLAB_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return url;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${env.NSLAB_ROLE} did not start`);
}

class Term {
  private out = "";
  private waiter: (() => void) | null = null;
  readonly ws: WebSocket;
  private readonly opened: Promise<void>;
  constructor(url: string, headers: Record<string, string>) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.opened = new Promise<void>((res, rej) => (this.ws.once("open", () => res()), this.ws.once("error", rej)));
    this.ws.on("message", (d, bin) => {
      if (!bin) return;
      const b = d as Buffer;
      this.out += b.toString("utf8");
      this.ws.send(JSON.stringify({ type: "ack", bytes: b.length }));
      this.waiter?.();
    });
  }
  async open(): Promise<void> {
    await this.opened;
    await this.until((o) => /[#$] $/.test(o));
  }
  until(pred: (out: string) => boolean, ms = 5000): Promise<void> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error("timed out")), ms);
      const check = () => {
        if (pred(this.out)) {
          clearTimeout(t);
          this.waiter = null;
          res();
        }
      };
      this.waiter = check;
      check();
    });
  }
  async key(): Promise<number> {
    this.out = "";
    const t0 = now();
    this.ws.send(Buffer.from("a"), { binary: true });
    await this.until((o) => o.includes("a"));
    const ms = now() - t0;
    this.out = "";
    this.ws.send(Buffer.from("\x7f"), { binary: true });
    await this.until((o) => o.length > 0);
    return ms;
  }
}

async function create(url: string, internal: boolean): Promise<{ id: string; token: string; ms: number }> {
  const t0 = now();
  const r = await fetch(internal ? `${url}/internal/labs` : `${url}/api/labs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(internal ? { [H]: SECRET } : {}) },
    body: internal ? JSON.stringify({ clientIp: "127.0.0.1" }) : "{}",
  });
  const body = (await r.json()) as { id: string; token: string };
  const ms = now() - t0;
  if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(body)}`);
  return { ...body, ms };
}

async function main(): Promise<void> {
  const agentPort = await freePort();
  const agent = await serve({ ...isolatedEnv("bench-agent"), NSLAB_ROLE: "agent", NSLAB_POOL: "0", NSLAB_MAX_LABS: "64", NSLAB_LABS_PER_CLIENT: "1000", NSLAB_LABS_PER_MINUTE: "100000" }, agentPort);
  const web = await serve({ NSLAB_ROLE: "web", NSLAB_AGENTS: `a1=${agent}`, NSLAB_LABS_PER_CLIENT: "1000", NSLAB_LABS_PER_MINUTE: "100000" }, await freePort());
  console.log(`bench/scale: agent ${agent}, web ${web} (loopback, separate processes)`);

  const lab = await create(web, false);
  const q = `/api/labs/${lab.id}/terminals?token=${lab.token}`;
  const viaWeb = new Term(web.replace("http", "ws") + q, {});
  const direct = new Term(agent.replace("http", "ws") + q, { [H]: SECRET });
  await viaWeb.open();
  await direct.open();
  for (let i = 0; i < 20; i++) (await viaWeb.key(), await direct.key());
  const w: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    d.push(await direct.key());
    w.push(await viaWeb.key());
  }
  console.log(`\n1. keystroke echo, ${KEYS} keystrokes each, interleaved`);
  const sd = summary("direct to the agent", d);
  const sw = summary("through web", w);
  console.log(`${"through web − direct".padEnd(44)} p50 ${(sw.p50 - sd.p50).toFixed(2)} ms (goal ≤ +0.5 ms)   p99 ${(sw.p99 - sd.p99).toFixed(2)} ms   ratio p50 ${(sw.p50 / sd.p50).toFixed(2)}x`);
  viaWeb.ws.close();
  direct.ws.close();

  const cw: number[] = [];
  const cd: number[] = [];
  const del = async (base: string, l: { id: string; token: string }, internal: boolean) =>
    (await fetch(internal ? `${base}/internal/labs/${l.id}` : `${base}/api/labs/${l.id}`, { method: "DELETE", headers: internal ? { [H]: SECRET } : { authorization: `Bearer ${l.token}` } })).body?.cancel();
  for (let i = 0; i < 3; i++) (await del(agent, await create(agent, true), true), await del(web, await create(web, false), false));
  for (let i = 0; i < LABS; i++) {
    const a = await create(agent, true);
    cd.push(a.ms);
    await del(agent, a, true);
    const b = await create(web, false);
    cw.push(b.ms);
    await del(web, b, false);
  }
  console.log(`\n2. lab creation (cold, NSLAB_POOL=0), ${LABS} each, interleaved`);
  const cs = summary("direct to the agent (POST /internal/labs)", cd);
  const ws = summary("through web (POST /api/labs)", cw);
  console.log(`${"through web − direct".padEnd(44)} p50 ${(ws.p50 - cs.p50).toFixed(2)} ms (goal ≤ +5 ms)   p99 ${(ws.p99 - cs.p99).toFixed(2)} ms   ratio p50 ${(ws.p50 / cs.p50).toFixed(2)}x`);
  await del(web, lab, false);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  });
