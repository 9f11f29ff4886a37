/**
 * bench/classroom: the classroom under a full room.
 *
 *   1. broadcast latency: the instructor types into their demo terminal (one printable byte at a
 *      time, waiting for every viewer before the next, a DEL untimed after each); the time from
 *      sending the byte on the instructor's terminal socket until each of 100 learners' broadcast
 *      sockets receives the frame with its echo. Anchor: the instructor's own echo (same run).
 *   2. the same with 5 more viewers that never read (their TCP sockets paused), after a flood of
 *      output on the instructor's terminal has filled their connections: the others' p99 against
 *      (1), and server RSS growth (VmRSS before the stalled viewers joined, against the most seen
 *      during the flood and the keystrokes).
 *   3. server CPU while 100 learners work (each runs a command every 10 s and a step check every
 *      20 s), without and then with the instructor's dashboard open on all 100; and the time from
 *      a learner's passing check to the dashboard's push showing it.
 *
 * The server runs in a process of its own (bench/terminal-server.ts): its CPU and RSS are read
 * from /proc. Needs root (real labs). Talks to 127.0.0.1 only.
 *   npm run bench:classroom [-- --viewers 100 --keys 200 --work-s 30]
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { JoinResponse } from "../lib/classes.ts";
import type { CreateLabResponse } from "../lib/protocol.ts";
import { intOption, percentile, ratio, summary } from "./stats.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number) => intOption(args, name, def);
const VIEWERS = opt("viewers", 100);
const KEYS = opt("keys", 200);
const WORK_S = opt("work-s", 30);
const STALLED = 5;
const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------ the server */

const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "bench/terminal-server.ts"], {
  cwd: REPO,
  env: { ...process.env, NSLAB_POOL: "0", NSLAB_MAX_LABS: String(VIEWERS + 20), NSLAB_CLASS_MAX_LEARNERS: String(VIEWERS + 10) },
  stdio: ["pipe", "pipe", "inherit"],
});
const { url, pid } = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
  let buf = "";
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    const nl = buf.indexOf("\n");
    if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
  });
  child.once("exit", (c) => reject(new Error(`server exited ${c}`)));
});
const cleanup = () => child.stdin!.end();
process.on("exit", cleanup);

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}
function cpuTicks(): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime
}
const HZ = 100;

async function api(method: string, p: string, token?: string, body?: unknown) {
  const res = await fetch(url + p, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/* ------------------------------------------------------------------ sockets */

/** A socket that acks terminal output (when it is a terminal) and notes when bytes arrive. */
class Sock {
  ws: WebSocket;
  opened: Promise<void>;
  waiting: { byte: number; resolve: (t: number) => void } | null = null;
  msgs: Record<string, unknown>[] = [];
  text: { want: string; seen: string; resolve: () => void } | null = null;
  onJson: ((m: Record<string, unknown>) => void) | null = null;
  constructor(p: string, token: string, readonly terminal = false) {
    this.ws = new WebSocket(`${url.replace("http", "ws")}${p}${p.includes("?") ? "&" : "?"}token=${token}`, { perMessageDeflate: false });
    this.opened = new Promise((res, rej) => {
      this.ws.once("open", () => res());
      this.ws.once("error", rej);
    });
    this.ws.on("message", (d, bin) => {
      if (bin) {
        const b = d as Buffer;
        if (this.terminal) this.ws.send(JSON.stringify({ type: "ack", bytes: b.length }));
        if (this.text) {
          this.text.seen = (this.text.seen + b.toString("latin1")).slice(-4096);
          if (this.text.seen.includes(this.text.want)) {
            const t = this.text;
            this.text = null;
            t.resolve();
          }
        }
        if (this.waiting && b.includes(this.waiting.byte)) {
          const w = this.waiting;
          this.waiting = null;
          w.resolve(now());
        }
      } else {
        const m = JSON.parse(d.toString()) as Record<string, unknown>;
        this.onJson?.(m);
      }
    });
  }
  /** Resolves once the output contains `want` (a string the command line's own echo does not hold). */
  expectText(want: string): Promise<void> {
    return new Promise((resolve) => (this.text = { want, seen: "", resolve }));
  }
  expect(byte: number): Promise<number> {
    return new Promise((resolve) => (this.waiting = { byte, resolve }));
  }
  send(s: string) {
    this.ws.send(Buffer.from(s), { binary: true });
  }
}

/* ------------------------------------------------------------------ set-up: a class of VIEWERS learners */

console.log(`bench/classroom: ${VIEWERS} learners, ${KEYS} keystrokes per run, server pid ${pid}`);
const klass = (await api("POST", "/api/classes", undefined, { title: "bench", lessons: ["uts-namespaces"], maxLearners: VIEWERS + 10 })) as { id: string; code: string; instructorKey: string };
const IK = klass.instructorKey;
const t0 = now();
const learners: JoinResponse[] = [];
for (let i = 0; i < VIEWERS; i += 10) {
  const batch = await Promise.all(Array.from({ length: Math.min(10, VIEWERS - i) }, (_, j) => api("POST", "/api/classes/join", undefined, { code: klass.code, name: `learner ${i + j + 1}` })));
  learners.push(...(batch as JoinResponse[]));
}
console.log(`joined ${VIEWERS} learners (a lab each) in ${((now() - t0) / 1000).toFixed(1)} s`);

const { lab: ilab } = (await api("POST", `/api/classes/${klass.id}/instructor-lab`, IK, {})) as { lab: CreateLabResponse };
const instr = new Sock(`/api/labs/${ilab.id}/terminals?cols=100&rows=30`, ilab.token, true);
await instr.opened;
const prompt = instr.expect("#".charCodeAt(0));
await prompt;
await sleep(300);
await api("POST", `/api/classes/${klass.id}/stage`, IK, { source: "instructor", terminal: "t1" });

const viewers = learners.map((l) => new Sock(`/api/classes/${klass.id}/broadcast`, l.key));
await Promise.all(viewers.map((v) => v.opened));
await sleep(500);

/** Types KEYS printable bytes; per key, the latency to the instructor's echo and to every viewer. */
async function keystrokes(label: string): Promise<{ p50: number; p99: number }> {
  const own: number[] = [];
  const all: number[] = [];
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (let k = 0; k < KEYS; k++) {
    const c = letters[k % letters.length]!;
    const byte = c.charCodeAt(0);
    const mine = instr.expect(byte);
    const theirs = viewers.map((v) => Promise.race([v.expect(byte), sleep(5000).then(() => NaN)]));
    const sent = now();
    instr.send(c);
    own.push((await mine) - sent);
    for (const at of await Promise.all(theirs)) all.push(at - sent);
    // erase it again (untimed), so the line stays short
    const del = instr.expect(0x08);
    instr.send("\x7f");
    await Promise.race([del, sleep(1000)]);
    await sleep(5);
  }
  const lost = all.filter((x) => Number.isNaN(x)).length;
  if (lost) console.log(`  ${lost} viewer frames never came`);
  summary(`${label}: instructor's own echo (anchor)`, own);
  const r = summary(`${label}: keystroke -> ${viewers.length} viewers' frame`, all.filter((x) => !Number.isNaN(x)));
  ratio(`${label}: viewers p50 / own echo p50`, r.p50, percentile(own, 50));
  return r;
}

console.log("\n1. broadcast latency");
const base = await keystrokes("100 viewers");

console.log(`\n2. with ${STALLED} viewers that never read`);
const rss0 = rssMiB();
let rssMax = rss0;
const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMiB())), 100);
const stalled: WebSocket[] = [];
for (let i = 0; i < STALLED; i++) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/api/classes/${klass.id}/broadcast?token=${learners[i]!.key}`, { perMessageDeflate: false });
  await new Promise((r) => ws.once("open", r));
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  stalled.push(ws);
}
// a flood on the instructor's terminal fills the stalled viewers' connections
const flooded = instr.expectText("FLOOD42DONE");
instr.send("seq 1 3000000; echo FLOOD$((40+2))DONE\r");
await Promise.race([flooded, sleep(120_000)]);
await sleep(1500); // the stream's rate cap: the fresh screen after the flood
instr.send("clear\r");
await sleep(500);
const withStalled = await keystrokes(`100 viewers + ${STALLED} stalled`);
clearInterval(sampler);
console.log(`${"server RSS growth with stalled viewers".padEnd(44)} ${(rssMax - rss0).toFixed(1)} MiB (${rss0.toFixed(0)} -> max ${rssMax.toFixed(0)} MiB)`);
for (const ws of stalled) ws.terminate();
await sleep(500);
// the machine is shared: the same run again without them tells noise from effect
const after = await keystrokes("100 viewers again, stalled ones gone");
const without = (base.p99 + after.p99) / 2;
ratio("p99 with stalled / without (mean of both)", withStalled.p99, without);
for (const v of viewers) v.ws.close();

console.log("\n3. server CPU while learners work");
// every learner: a control socket (as the page has), a terminal, a command every 10 s, a check every 20 s
const controls = learners.map((l) => new Sock(`/api/classes/${klass.id}/learner`, l.key));
await Promise.all(controls.map((c) => c.opened));
const terms = learners.map((l) => new Sock(`/api/labs/${l.lab.id}/terminals?cols=100&rows=30`, l.lab.token, true));
await Promise.all(terms.map((t) => t.opened));
await sleep(1000);
for (const c of controls) c.ws.send(JSON.stringify({ type: "position", lesson: "uts-namespaces", step: "read-the-names", terminal: "t1" }));
let stop = false;
let checks = 0;
// without the dashboard the checks are of a step no one passes (the same work: a check per 20 s);
// with it, of the step the commands pass: each learner's first pass is timed to the dashboard
let step = "own-hostname";
const firstPassSent = new Map<string, number>();
const work = learners.map(async (l, i) => {
  await sleep((i * 10_000) / learners.length); // spread over the 10 s
  let n = 0;
  while (!stop) {
    terms[i]!.send(n % 2 ? "uname -a\r" : "ls /proc | wc -l\r");
    if (n % 2 === 1) {
      const s = step;
      const sent = now();
      const r = await api("POST", `/api/labs/${l.lab.id}/check`, l.lab.token, { lesson: "uts-namespaces", step: s }).catch(() => null);
      if (r?.passed && s === "read-the-names" && !firstPassSent.has(l.learnerId)) firstPassSent.set(l.learnerId, sent);
      checks++;
    }
    n++;
    await sleep(10_000);
  }
});
async function cpuOver(seconds: number): Promise<number> {
  const a = cpuTicks();
  await sleep(seconds * 1000);
  return ((cpuTicks() - a) / HZ / seconds) * 100;
}
const idle = await cpuOver(WORK_S);
console.log(`${"server CPU, 100 learners working, no dashboard".padEnd(44)} ${idle.toFixed(1)} % of a core`);
const dash = new Sock(`/api/classes/${klass.id}/dashboard`, IK);
const onDashboard = new Map<string, number>();
let pushes = 0;
let pushBytes = 0;
dash.ws.on("message", (d) => {
  pushes++;
  pushBytes += (d as Buffer).length;
});
dash.onJson = (m) => {
  if (m.type !== "learners") return;
  for (const l of m.learners as { id: string; passed: unknown[] }[]) if (l.passed.length > 0 && !onDashboard.has(l.id)) onDashboard.set(l.id, now());
};
await dash.opened;
step = "read-the-names";
const withDash = await cpuOver(WORK_S);
console.log(`${"server CPU, 100 learners working, dashboard".padEnd(44)} ${withDash.toFixed(1)} % of a core`);
ratio("dashboard CPU / no dashboard", withDash, idle);
console.log(`${"dashboard pushes".padEnd(44)} ${(pushes / WORK_S).toFixed(1)}/s, ${(pushBytes / WORK_S / 1024).toFixed(1)} KiB/s`);
stop = true;
await Promise.all(work);
const toDashboard = [...firstPassSent].flatMap(([id, sent]) => (onDashboard.has(id) ? [onDashboard.get(id)! - sent] : []));
if (toDashboard.length) summary("passing check sent -> pass on the dashboard", toDashboard);
console.log(`(${checks} checks ran)`);
for (const s of [...controls, ...terms, dash]) s.ws.close();
await api("DELETE", `/api/classes/${klass.id}?now=1`, IK);
child.stdin!.end();
await new Promise((r) => child.once("exit", r));
