/**
 * bench/attacks: how the service answers while one lab attacks it. For each attack of issue 12
 * the core contains, a fresh lab runs it in the background while the bench samples
 * GET /api/health (the server's event loop) and `echo` in another lab (a bystander learner);
 * the same samples with every lab idle are the anchor. The containment itself is asserted by
 * server/labs/hardening.integration.test.ts; this prints the figures.
 *   npm run bench:attacks [-- SECONDS_PER_ATTACK]
 */
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import { api, createLab, ExplorerClient, testServer } from "../server/testing/harness.ts";
import { installAttack } from "../server/testing/attack.ts";
import type { Lab } from "../server/labs/lab.ts";
import { ratio, summary } from "./stats.ts";

const seconds = Number(process.argv[2] ?? 5);

/** While an attack runs, the attacker may also pull on the server (`pull`, stopped by `stop()`). */
type Pull = (lab: Lab, token: string) => { stop(): Promise<void> };

/** The lab follows its own storm in the explorer and asks GET /mounts for it in a loop (finding 1, the server's side). */
const readMounts: Pull = (lab, token) => {
  let done = false;
  const x = new ExplorerClient(s.url, { id: lab.id, token });
  void x.opened.then(() => x.send({ type: "mounts", pid: lab.initPid }), () => {});
  const loop = (async () => {
    while (!done) await api(s.url, "GET", `/api/labs/${lab.id}/mounts?pid=${lab.initPid}`, token);
  })();
  return {
    async stop() {
      done = true;
      await loop;
      x.ws.close();
    },
  };
};

/** The attacker's address: the bench samples from 127.0.0.1, so per-address caps are the attacker's own. */
const ATTACKER = "127.0.0.2";

/** `n` connections from the attacker's address, reopened a second after each closes: `first` writes what each sends. */
function flood(n: number, first: (u: URL) => string): { stop(): Promise<void> } {
  const u = new URL(s.url);
  const open = new Set<net.Socket>();
  let done = false;
  const one = (): void => {
    if (done) return;
    const c = net.connect({ host: u.hostname, port: Number(u.port), localAddress: ATTACKER });
    open.add(c);
    c.on("connect", () => c.write(first(u)));
    c.once("data", () => c.pause()); // and never read again
    c.on("error", () => {});
    c.on("close", () => {
      open.delete(c);
      setTimeout(one, 1000).unref();
    });
  };
  for (let i = 0; i < n; i++) one();
  return {
    async stop() {
      done = true;
      for (const c of open) c.destroy();
    },
  };
}

/** 1,500 requests whose headers never end, from one address (finding 8). */
const halfSent: Pull = () => flood(1500, (u) => `GET /api/health HTTP/1.1\r\nHost: ${u.host}\r\nX-Slow: `);

/** 300 explorer sockets on the lab's token that never read, while the lab churns (finding 7). */
const neverReading: Pull = (lab, token) =>
  flood(
    300,
    (u) =>
      `GET /api/labs/${lab.id}/explorer?token=${token} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );

const ATTACKS: { name: string; script: string; pull?: Pull }[] = [
  { name: "fork bomb (pids limit)", script: "while :; do sleep 60 & done" },
  { name: "memory hog (memory limit)", script: "while :; do head -c 2G /dev/zero | tail; done" },
  { name: "user namespaces drained (finding 3)", script: "/root/attack userns 0 hold" },
  { name: "inotify instances drained (finding 3)", script: "/root/attack inotify hold" },
  { name: "TCP buffers filled (finding 5)", script: "/root/attack tcp 256 hold" },
  { name: "keyrings, io_uring, vsock... (seccomp)", script: "while :; do /root/attack syscalls >/dev/null; done" },
  {
    name: "mount storm, long paths, read by the explorer and GET /mounts (finding 1)",
    script:
      "mkdir -p /tmp/a && mount -t tmpfs t /tmp/a && d=/tmp/a/$(head -c 200 /dev/zero | tr '\\0' x) && mkdir $d && i=0; while [ $i -lt 16 ] && mount --rbind /tmp/a $d; do i=$((i+1)); done; sleep 3600",
    pull: readMounts,
  },
  { name: "1,500 half-sent requests from one address (finding 8)", script: "true", pull: halfSent },
  {
    name: "300 never-reading explorer sockets, a churning lab (finding 7)",
    script: "L=$(head -c 180 /dev/zero | tr '\\0' a); for i in $(seq 150); do sleep 100000 $L & done; while :; do sleep 0.05 & sleep 0.05 & wait $!; done",
    pull: neverReading,
  },
];

const s = await testServer({ NSLAB_LABS_PER_CLIENT: "100", NSLAB_MEMORY_MAX: "768M" });
const load = () => (fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "));

async function sample(bystander: Lab, ms: number): Promise<{ health: number[]; echo: number[] }> {
  const until = performance.now() + ms;
  const health: number[] = [];
  const echo: number[] = [];
  await Promise.all([
    (async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const r = await api(s.url, "GET", "/api/health");
        if (r.status !== 200) throw new Error(`health answered ${r.status}`);
        health.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })(),
    (async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const r = await bystander.exec("echo ok");
        if (r.stdout !== "ok\n") throw new Error(`the bystander lab answered ${JSON.stringify(r)}`);
        echo.push(performance.now() - t0);
      }
    })(),
  ]);
  return { health, echo };
}

try {
  const bystander = s.mgr.get((await createLab(s.url)).id)!;
  console.log(`bench/attacks: ${seconds} s per attack, ${new Date().toISOString()}, node ${process.version}, ${(await import("node:os")).cpus().length} cpus, load ${load()}`);
  const idle = await sample(bystander, seconds * 1000);
  const h0 = summary("idle: GET /api/health", idle.health);
  const e0 = summary("idle: echo in another lab", idle.echo);
  for (const a of ATTACKS) {
    const made = await createLab(s.url);
    const lab = s.mgr.get(made.id)!;
    await installAttack(lab);
    await lab.exec(`setsid -f sh -c '${a.script.replace(/'/g, "'\\''")}' </dev/null >/dev/null 2>&1`);
    await new Promise((r) => setTimeout(r, 500)); // let it get going
    const pull = a.pull?.(lab, made.token);
    const m = await sample(bystander, seconds * 1000);
    await pull?.stop();
    console.log(`-- ${a.name}`);
    const h = summary("  GET /api/health", m.health);
    console.log(`  server RSS ${Math.round(process.memoryUsage.rss() / 1024 ** 2)} MB (the server runs in the bench's process)`);
    const e = summary("  echo in another lab", m.echo);
    ratio("  health p50 / idle", h.p50, h0.p50);
    ratio("  health p99 / idle", h.p99, h0.p99);
    ratio("  echo p50 / idle", e.p50, e0.p50);
    console.log(`  load ${load()}`);
    await s.mgr.destroy(lab.id);
  }
} finally {
  await s.close();
}
