/**
 * bench/connections: what a connection flood from one address costs the server (issue 12,
 * finding 8). The server runs in a process of its own (its CPU time is read from /proc), the
 * flood in another (a real attacker is not on the server's event loop), and this process samples
 * GET /api/health from another address every 10 ms. The anchor is the same sampling with no
 * flood, in the same run.
 *
 * The flood: N requests whose headers never end from 127.0.0.2, each reopened a second after it
 * is closed (as bench/attacks), so the server keeps NSLAB_CONNECTIONS_PER_ADDRESS of them open
 * (until the headers timeout) and refuses the rest, about N - cap a second.
 *   npm run bench:connections [-- SECONDS] [--flood N]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { startServerProcess } from "../server/testing/server-process.ts";
import { intOption, ratio, summary } from "./stats.ts";

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 10);
const floodN = intOption(args, "flood", 1500);
const ATTACKER = "127.0.0.2";

/** The attacker, in a process of its own. */
const FLOOD = `
const net = require("node:net");
const [host, port, n, local] = process.argv.slice(1);
let done = false;
function one() {
  if (done) return;
  const c = net.connect({ host, port: Number(port), localAddress: local });
  c.on("connect", () => c.write("GET /api/health HTTP/1.1\\r\\nHost: x\\r\\nX-Slow: "));
  c.on("error", () => {});
  c.on("close", () => setTimeout(one, 1000).unref());
}
for (let i = 0; i < Number(n); i++) one();
setInterval(() => {}, 1 << 30);
process.on("SIGTERM", () => process.exit(0));
`;

const srv = await startServerProcess({ NSLAB_POOL: "0", NSLAB_LOG_LEVEL: "warn" });

/** The server's CPU time so far (user + system), in ms. */
function serverCpuMs(): number {
  const f = fs.readFileSync(`/proc/${srv.pid}/stat`, "latin1");
  const x = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return ((Number(x[11]) + Number(x[12])) * 1000) / 100;
}

async function refusedSoFar(): Promise<number> {
  const r = await fetch(`${srv.url}/metrics`);
  const m = /^nslab_connections_refused_total\{reason="connections_per_address"\} (\d+)/m.exec(await r.text());
  return m ? Number(m[1]) : 0;
}

async function health(): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${srv.url}/api/health`);
  await r.text();
  if (r.status !== 200) throw new Error(`health answered ${r.status}`);
  return performance.now() - t0;
}

async function sample(ms: number): Promise<{ health: number[]; cpuMs: number; refused: number }> {
  const until = performance.now() + ms;
  const xs: number[] = [];
  const cpu0 = serverCpuMs();
  const r0 = await refusedSoFar();
  while (performance.now() < until) {
    xs.push(await health());
    await new Promise((r) => setTimeout(r, 10));
  }
  return { health: xs, cpuMs: serverCpuMs() - cpu0, refused: (await refusedSoFar()) - r0 };
}

try {
  console.log(`bench/connections: ${seconds} s per phase, flood ${floodN}, ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cpus, load ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  await sample(1000); // warm up
  const idle = await sample(seconds * 1000);
  const h0 = summary("idle: GET /api/health", idle.health);
  console.log(`idle: server CPU ${((idle.cpuMs / seconds) | 0)} ms/s`);
  const u = new URL(srv.url);
  const attacker = spawn(process.execPath, ["-e", FLOOD, u.hostname, u.port, String(floodN), ATTACKER], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 3000)); // the flood reaches its steady state
    const m = await sample(seconds * 1000);
    console.log(`-- ${floodN} half-sent requests from one address, reopened 1 s after each close`);
    const h = summary("  GET /api/health", m.health);
    ratio("  health p50 / idle", h.p50, h0.p50);
    ratio("  health p99 / idle", h.p99, h0.p99);
    const perSec = m.refused / seconds;
    console.log(`  refused ${perSec.toFixed(0)} connections/s; server CPU ${(m.cpuMs / seconds).toFixed(0)} ms/s (idle ${(idle.cpuMs / seconds).toFixed(0)})`);
    if (m.refused) console.log(`  server CPU per refused connection ≈ ${(((m.cpuMs - idle.cpuMs) / m.refused) * 1000).toFixed(0)} µs (the extra CPU over idle / refused)`);
    console.log(`  load ${fs.readFileSync("/proc/loadavg", "utf8").trim()}`);
  } finally {
    attacker.kill("SIGTERM");
  }
} finally {
  await srv.stop();
}
