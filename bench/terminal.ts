/**
 * bench/terminal: the terminal path under load, nslab against wetty in the same run.
 *
 *   1. keystroke echo: one printable byte to a shell at its prompt until its echo arrives
 *      (then a DEL, untimed, so the line stays empty); with 1 terminal, and with 50 terminals
 *      all typing back to back (one keystroke in flight each: a saturation test, where latency is
 *      mostly queueing), then the same 50 typing 10 keys/s each, like people;
 *   2. flood throughput to a client that acks every chunk as it arrives
 *      (`head -c 200000000 /dev/zero | tr '\0' x`); the anchor is the same command on a bare pty
 *      read by a python3 loop, the ceiling any pty-reading server has on this machine;
 *   3. Ctrl-C to quiet during `yes`: the time of the last byte after \x03 was sent, once nothing
 *      has arrived for 100 ms;
 *   4. server RSS growth while a client stalls during `yes`: (a) the client pauses its TCP socket,
 *      (b) the client keeps reading but stops acking; VmRSS sampled every 100 ms for 5 s, growth
 *      against the idle server just before `yes` started.
 *
 * Each server runs in a process of its own (bench/terminal-server.ts; wetty's main.js), so
 * neither shares the client's event loop, and each section opens fresh terminals. wetty (npm
 * `wetty`, socket.io) is installed into a temp dir on first use (WETTY_DIR, default
 * $TMPDIR/nslab-bench-wetty) and runs `bash -l` on a local pty, as nslab runs `bash -l` in a lab.
 * wetty 3 has flow control of its own (the client emits `commit`; the server pauses the pty above
 * 2 MiB uncommitted and resumes below 512 KiB): this client commits every chunk to wetty exactly
 * as it acks every chunk to nslab. Notes: nslab's shell runs in the lab's cgroup (50% of a CPU
 * by default), wetty's does not; wetty batches output for 2 ms before sending it.
 *
 *   npm run bench:terminal [-- --no-wetty --terminals 50 --keys 500 --sections echo1,flood,ctrlc,stall,many]
 * Needs root (nslab labs). Talks to 127.0.0.1 only. To profile the nslab server, pass node flags in
 * NSLAB_BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { CreateLabResponse } from "../lib/protocol.ts";
import { intOption, percentile } from "./stats.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name: string, def: number) => intOption(args, name, def);
const WANT_WETTY = !args.includes("--no-wetty");
const SECTIONS = ["echo1", "flood", "ctrlc", "stall", "many"];
const only = args.indexOf("--sections") >= 0 ? (args[args.indexOf("--sections") + 1] ?? "").split(",") : SECTIONS;
const want = (name: string) => only.includes(name);
const MANY = opt("terminals", 50);
const KEYS = opt("keys", 500); // timed keystrokes with one terminal
const KEYS_MANY = Math.max(10, Math.ceil(KEYS / MANY) * 2); // per terminal with MANY (≥ 2×KEYS in all)
const PACE_MS = 100; // the paced variant: each of the MANY terminals types 10 keys/s, like a person
const FLOOD_BYTES = 200_000_000;
const FLOOD_REPS = 3;
const CTRLC_REPS = 20;
const STALL_MS = 5_000;
const WETTY_DIR = process.env.WETTY_DIR || path.join(os.tmpdir(), "nslab-bench-wetty");

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------ a terminal connection */

type Chunk = Buffer | string;

interface Wire {
  write(s: string): void;
  /** acknowledge `units` of output (nslab: bytes; wetty: string length, as its server counts) */
  ack(units: number): void;
  pause(): void;
  resume(): void;
  close(): void;
}

/** One terminal as the benchmark sees it: output chunks with arrival times, and acking. */
class Term {
  received = 0; // bytes
  lastAt = 0;
  autoAck = true;
  private pending = 0;
  private listeners = new Set<(c: Chunk, at: number) => void>();
  private onClose = new Set<(why: string) => void>();
  /** why the connection ended, once it has */
  closed: string | null = null;
  wire!: Wire;

  markClosed(why: string): void {
    if (this.closed) return;
    this.closed = why;
    for (const f of this.onClose) f(why);
  }

  feed(c: Chunk): void {
    const at = now();
    this.received += typeof c === "string" ? Buffer.byteLength(c) : c.length;
    this.lastAt = at;
    for (const l of this.listeners) l(c, at);
    if (this.autoAck) this.wire.ack(c.length);
    else this.pending += c.length;
  }

  flushAcks(): void {
    if (this.pending) this.wire.ack(this.pending);
    this.pending = 0;
  }

  write(s: string): void {
    this.wire.write(s);
  }

  /** Resolves with the arrival time of the first chunk that satisfies `pred`. */
  next(pred: (c: Chunk) => boolean, ms: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`the terminal connection ended (${this.closed}) before ${what}`));
      const l = (c: Chunk, at: number) => {
        if (!pred(c)) return;
        done();
        resolve(at);
      };
      const gone = (why: string) => (done(), reject(new Error(`the terminal connection ended (${why}) before ${what}`)));
      const t = setTimeout(() => (done(), reject(new Error(`timed out after ${ms} ms waiting for ${what}`))), ms);
      const done = () => (clearTimeout(t), this.listeners.delete(l), this.onClose.delete(gone));
      this.listeners.add(l);
      this.onClose.add(gone);
    });
  }

  on(l: (c: Chunk, at: number) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async receivedAtLeast(bytes: number, ms: number, what: string): Promise<void> {
    const deadline = now() + ms;
    while (this.received < bytes) {
      if (this.closed) throw new Error(`the terminal connection ended (${this.closed}) before ${what}`);
      if (now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
      await sleep(5);
    }
  }

  /** Waits until output has been quiet for `ms` (after at least one byte if `needOutput`). */
  async quiet(ms: number, max: number, needOutput = false): Promise<boolean> {
    const deadline = now() + max;
    while (now() < deadline) {
      if (this.closed) throw new Error(`the terminal connection ended (${this.closed})`);
      if ((!needOutput || this.received > 0) && now() - this.lastAt >= ms) return true;
      await sleep(Math.min(10, ms / 4));
    }
    return false;
  }
}

interface Target {
  name: string;
  pid: number;
  /** opens `n` terminals, each at its prompt */
  open(n: number): Promise<Term[]>;
  /** closes terminals opened by open() (and their labs) */
  release(terms: Term[]): Promise<void>;
}

async function atPrompt(terms: Term[]): Promise<void> {
  const ok = await Promise.all(terms.map((t) => t.quiet(300, 60_000, true)));
  if (ok.some((x) => !x)) throw new Error(`${ok.filter((x) => !x).length} of ${terms.length} shells never went quiet at a prompt`);
}

/* ------------------------------------------------------------------ nslab */

async function startNslab(): Promise<{ url: string; pid: number; proc: ChildProcess }> {
  const nodeArgs = (process.env.NSLAB_BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "--import", "./scripts/hooks.mjs", "bench/terminal-server.ts"], {
    cwd: REPO,
    env: {
      ...process.env,
      NSLAB_POOL: "0",
      NSLAB_LABS_PER_CLIENT: "100",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(proc);
  return new Promise((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => reject(new Error("the nslab bench server did not start within 60 s")), 60_000);
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(t);
      try {
        resolve({ ...JSON.parse(buf.slice(0, nl)), proc });
      } catch {
        reject(new Error(`unexpected output from the nslab bench server: ${buf.slice(0, 200)}`));
      }
    });
    proc.on("exit", (code) => (clearTimeout(t), reject(new Error(`the nslab bench server exited (${code})`))));
  });
}

async function createLab(base: string): Promise<CreateLabResponse> {
  const res = await fetch(base + "/api/labs", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`create lab: ${res.status} ${text}`);
  return JSON.parse(text);
}

function nslabTarget(url: string, pid: number): Target {
  const labs = new Map<Term, CreateLabResponse>();
  const openOne = async (): Promise<Term> => {
    const lab = await createLab(url);
    const term = new Term();
    const ws = new WebSocket(`${url.replace("http", "ws")}/api/labs/${lab.id}/terminals?token=${lab.token}&cols=80&rows=24`, { perMessageDeflate: false });
    term.wire = {
      write: (s) => ws.send(Buffer.from(s), { binary: true }),
      ack: (n) => ws.send(JSON.stringify({ type: "ack", bytes: n })),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      close: () => ws.close(),
    };
    ws.on("message", (data, isBinary) => {
      if (isBinary) term.feed(data as Buffer);
    });
    ws.on("error", (e) => console.error("nslab ws:", e.message));
    ws.on("close", (code, reason) => term.markClosed(`WebSocket closed ${code} ${reason.toString()}`));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_q, r) => reject(new Error(`terminal socket: HTTP ${r.statusCode}`)));
      ws.once("error", reject);
    });
    labs.set(term, lab);
    return term;
  };
  return {
    name: "nslab",
    pid,
    async open(n) {
      const terms: Term[] = [];
      for (let i = 0; i < n; i += 5) terms.push(...(await Promise.all(Array.from({ length: Math.min(5, n - i) }, openOne))));
      await atPrompt(terms);
      return terms;
    },
    async release(terms) {
      for (const t of terms) t.wire.close();
      await Promise.all(
        terms.map(async (t) => {
          const lab = labs.get(t);
          labs.delete(t);
          if (lab) await fetch(`${url}/api/labs/${lab.id}`, { method: "DELETE", headers: { authorization: `Bearer ${lab.token}` } }).then((r) => r.text());
        }),
      );
    },
  };
}

/* ------------------------------------------------------------------ wetty */

interface IoSocket {
  on(ev: string, fn: (...a: any[]) => void): IoSocket;
  once(ev: string, fn: (...a: any[]) => void): IoSocket;
  emit(ev: string, ...a: unknown[]): IoSocket;
  close(): void;
  io: { engine: { transport: { ws?: WebSocket } } };
}
type IoFn = (url: string, opts: Record<string, unknown>) => IoSocket;

function wettyInstalled(): boolean {
  return fs.existsSync(path.join(WETTY_DIR, "node_modules/wetty/build/main.js")) && fs.existsSync(path.join(WETTY_DIR, "node_modules/socket.io-client/package.json"));
}

function howToInstall(): string {
  return `  mkdir -p ${WETTY_DIR} && cd ${WETTY_DIR} && npm init -y && npm install wetty@3 socket.io-client@4\n` + `  (or set WETTY_DIR to a directory where wetty is installed; --no-wetty skips it)`;
}

/** Installs wetty into WETTY_DIR (outside the repository) if missing. Returns why not, or null. */
function ensureWetty(): string | null {
  if (!wettyInstalled()) {
    console.log(`bench/terminal: installing wetty into ${WETTY_DIR} (once; set WETTY_DIR to use another install)`);
    fs.mkdirSync(WETTY_DIR, { recursive: true });
    if (!fs.existsSync(path.join(WETTY_DIR, "package.json")))
      fs.writeFileSync(path.join(WETTY_DIR, "package.json"), JSON.stringify({ name: "nslab-bench-wetty", private: true }, null, 2));
    const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "wetty@3", "socket.io-client@4"], { cwd: WETTY_DIR, stdio: "inherit", timeout: 600_000 });
    if (r.status !== 0 || !wettyInstalled()) return `npm install wetty failed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  // node-pty is a native addon: it must load (and spawn) under this node
  const probe = spawnSync(process.execPath, ["-e", "const p=require('node-pty');const t=p.spawn('/bin/true',[],{});t.onExit(()=>process.exit(0));setTimeout(()=>process.exit(3),5000)"], { cwd: WETTY_DIR, encoding: "utf8", timeout: 10_000 });
  if (probe.status !== 0) return `wetty's node-pty does not work under node ${process.version}: ${(probe.stderr || probe.error?.message || "").trim().split("\n").slice(0, 3).join(" ")}`;
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startWetty(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(WETTY_DIR, "node_modules/wetty/build/main.js"), "--host", "127.0.0.1", "--port", String(port), "--command", "bash -l", "--log-level", "warn"], {
    cwd: WETTY_DIR,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`wetty exited (${proc.exitCode}) at start`);
    try {
      const r = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
      await r.text();
      if (r.ok) return { url, pid: proc.pid! };
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error("wetty did not answer on its socket.io path within 30 s");
}

function wettyTarget(url: string, pid: number): Target {
  const io = (createRequire(path.join(WETTY_DIR, "package.json"))("socket.io-client") as { io: IoFn }).io;
  const openOne = async (): Promise<Term> => {
    const term = new Term();
    const s = io(url, { path: "/socket.io", transports: ["websocket"], forceNew: true, multiplex: false, reconnection: false });
    const raw = () => s.io.engine.transport.ws;
    term.wire = {
      write: (d) => s.emit("input", d),
      ack: (n) => s.emit("commit", n),
      pause: () => raw()?.pause(),
      resume: () => raw()?.resume(),
      close: () => s.close(),
    };
    s.on("data", (d: string) => term.feed(d));
    s.on("disconnect", (reason: string) => term.markClosed(`socket.io disconnect: ${reason}`));
    s.on("logout", () => term.markClosed("wetty: logout (the shell exited)"));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("wetty: no login event within 30 s")), 30_000);
      s.once("connect_error", (e: Error) => (clearTimeout(t), reject(e)));
      s.once("login", () => (clearTimeout(t), resolve()));
    });
    s.emit("resize", { cols: 80, rows: 24 });
    return term;
  };
  return {
    name: "wetty",
    pid,
    async open(n) {
      // each `bash -l` on this host costs ~0.5 s of CPU to start: open in small batches
      const terms: Term[] = [];
      for (let i = 0; i < n; i += 5) {
        const batch = await Promise.all(Array.from({ length: Math.min(5, n - i) }, openOne));
        terms.push(...batch);
        await atPrompt(batch);
      }
      await atPrompt(terms);
      return terms;
    },
    async release(terms) {
      for (const t of terms) t.wire.close();
      await sleep(300);
    },
  };
}

/* ------------------------------------------------------------------ measurements */

/** Keystroke echo round trips on one terminal: `n` timed after `warm` untimed. */
async function typeLoop(t: Term, n: number, warm: number, out: number[], deadline: number, intervalMs: number): Promise<number> {
  let failures = 0;
  const start = now() + Math.random() * intervalMs; // paced typists start out of phase
  for (let i = 0; i < warm + n && now() < deadline; i++) {
    if (intervalMs > 0) {
      const wait = start + i * intervalMs - now();
      if (wait > 0) await sleep(wait);
    }
    try {
      const echoed = t.next((c) => c.includes("a"), 2_000, "the echo of a keystroke");
      const t0 = now();
      t.write("a");
      const at = await echoed;
      if (i >= warm) out.push(at - t0);
      const erased = t.next(() => true, 2_000, "the echo of DEL");
      t.write("\x7f");
      await erased;
    } catch {
      failures++;
      t.write("\x15"); // kill the line and go on
      await t.quiet(200, 2_000);
      if (failures > 5) throw new Error("too many lost echoes");
    }
  }
  return failures;
}

/** Every terminal types `warm` + `perTerm` keystrokes: back to back (one in flight each), or one every `intervalMs`. */
async function echoBench(terms: Term[], perTerm: number, warm: number, intervalMs = 0): Promise<number[]> {
  const samples: number[] = [];
  const deadline = now() + 120_000;
  await Promise.all(terms.map((t) => typeLoop(t, perTerm, warm, samples, deadline, intervalMs)));
  return samples;
}

/** MB/s (10^6 bytes) of a flood to a client that acks every chunk. */
async function floodBench(t: Term, bytes: number): Promise<number> {
  await t.quiet(300, 10_000);
  let tail = "";
  let got = 0;
  const ended = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error("flood did not finish within 120 s"))), 120_000);
    const off = t.on((c, at) => {
      got += typeof c === "string" ? Buffer.byteLength(c) : c.length;
      const head = typeof c === "string" ? c.slice(0, 8) : c.subarray(0, 8).toString("latin1");
      if (c.includes("ZZEND") || (tail + head).includes("ZZEND")) {
        clearTimeout(timer);
        off();
        resolve(at);
      }
      tail = typeof c === "string" ? c.slice(-8) : c.subarray(-8).toString("latin1");
    });
  });
  const t0 = now();
  t.write(`head -c ${bytes} /dev/zero | tr '\\0' x; echo ZZ''END\r`);
  try {
    const t1 = await ended;
    return got / 1e6 / ((t1 - t0) / 1000);
  } catch (e) {
    t.write("\x03");
    await t.quiet(300, 10_000);
    throw e;
  }
}

/** Time from \x03 to the last byte, once output has been quiet for 100 ms. */
async function ctrlcOnce(t: Term): Promise<number> {
  await t.quiet(200, 10_000);
  const start = t.received;
  t.write("yes | head -c 4000000000\r");
  await t.receivedAtLeast(start + 1_000_000, 10_000, "1 MB of yes");
  const tc = now();
  t.write("\x03");
  if (!(await t.quiet(100, 20_000))) throw new Error("output did not stop within 20 s of Ctrl-C");
  return Math.max(0, t.lastAt - tc);
}

/** The anchor for the flood: the same command on a bare pty read by a tight python3 loop (no server, no network). */
function rawPtyFlood(bytes: number): number | undefined {
  const py = [
    "import os, pty, sys, time",
    "pid, fd = pty.fork()",
    "if pid == 0:",
    "    os.execvp('sh', ['sh', '-c', sys.argv[1]])",
    "n = 0",
    "t0 = time.time()",
    "while True:",
    "    try:",
    "        d = os.read(fd, 65536)",
    "    except OSError:",
    "        break",
    "    if not d:",
    "        break",
    "    n += len(d)",
    "print(n / 1e6 / (time.time() - t0))",
  ].join("\n");
  const r = spawnSync("python3", ["-c", py, `head -c ${bytes} /dev/zero | tr '\\0' x`], { encoding: "utf8", timeout: 120_000 });
  const v = Number(r.stdout?.trim());
  return r.status === 0 && Number.isFinite(v) ? v : undefined;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Max RSS growth (MB) of the server while the client stalls during `yes`. */
async function stallBench(target: Target, t: Term, mode: "pause" | "noack"): Promise<{ growthMB: number; base: number; stalledBytes: number }> {
  await t.quiet(300, 10_000);
  await sleep(500);
  const base = rssKiB(target.pid);
  const start = t.received;
  t.write("yes | head -c 4000000000\r");
  await t.receivedAtLeast(start + 1_000_000, 10_000, "1 MB of yes");
  t.autoAck = false;
  if (mode === "pause") t.wire.pause();
  const atStall = t.received;
  let max = base;
  const end = now() + STALL_MS;
  while (now() < end) {
    max = Math.max(max, rssKiB(target.pid));
    await sleep(100);
  }
  const stalledBytes = t.received - atStall;
  // recover: read and ack everything, stop yes, back to the prompt
  if (mode === "pause") t.wire.resume();
  t.autoAck = true;
  t.flushAcks();
  t.write("\x03");
  if (!(await t.quiet(300, 30_000))) throw new Error("the terminal did not go quiet after a stall");
  return { growthMB: (max - base) / 1024, base: base / 1024, stalledBytes };
}

/* ------------------------------------------------------------------ report */

const fmt = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(d));
const p = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), n: xs.length });

function line(name: string, xs: number[], unit: string): void {
  const s = p(xs);
  console.log(`  ${name.padEnd(46)} n=${String(s.n).padStart(4)}  p50 ${fmt(s.p50).padStart(8)} ${unit}  p99 ${fmt(s.p99).padStart(8)} ${unit}`);
}

interface Results {
  echo1: number[];
  echoMany: number[];
  echoPaced: number[];
  flood: number[];
  ctrlc: number[];
  stallPause: number;
  stallNoack: number;
}

const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;
/** CPU time (user + system, ms) of a process so far. */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/* ------------------------------------------------------------------ main */

const children: ChildProcess[] = [];
const killChildren = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
};
process.on("exit", killChildren);
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });

if (process.getuid?.() !== 0) {
  console.error("bench/terminal: nslab labs need root: run it as root.");
  process.exit(1);
}

let wettyWhyNot: string | null = WANT_WETTY ? ensureWetty() : "skipped (--no-wetty)";
if (wettyWhyNot && WANT_WETTY) console.error(`bench/terminal: wetty is not available: ${wettyWhyNot}\nTo install it by hand:\n${howToInstall()}\nRunning nslab alone.`);

const [ns, we] = await Promise.all([
  startNslab(),
  wettyWhyNot ? Promise.resolve(null) : startWetty().catch((e: Error) => ((wettyWhyNot = e.message), null)),
]);
const nslab = nslabTarget(ns.url, ns.pid);
const wetty = we ? wettyTarget(we.url, we.pid) : null;
if (WANT_WETTY && !wetty) console.error(`bench/terminal: wetty did not start: ${wettyWhyNot}`);
const targets = [nslab, wetty].filter((t): t is Target => t !== null);

const load0 = os.loadavg();
console.log(
  `bench/terminal: ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cpus, load ${load0.map((x) => x.toFixed(2)).join(" ")}` +
    `\n  nslab pid ${ns.pid} ${ns.url}` +
    (we ? `\n  wetty ${JSON.parse(fs.readFileSync(path.join(WETTY_DIR, "node_modules/wetty/package.json"), "utf8")).version} pid ${we.pid} ${we.url} (bash -l on a local pty)` : `\n  wetty: not run (${wettyWhyNot})`),
);

const R = new Map<string, Results>(targets.map((t) => [t.name, { echo1: [], echoMany: [], echoPaced: [], flood: [], ctrlc: [], stallPause: NaN, stallNoack: NaN }]));

/** Runs `fn` on `n` fresh terminals of `t`, closed afterwards; a failure is reported and the run goes on. */
async function section(t: Target, what: string, n: number, fn: (terms: Term[]) => Promise<void>): Promise<void> {
  let terms: Term[] = [];
  try {
    terms = await t.open(n);
    await fn(terms);
  } catch (e) {
    console.error(`  ${t.name}: ${what} failed: ${(e as Error).message}`);
  } finally {
    if (terms.length) await t.release(terms);
  }
}

let cpuNote = "";
/** Runs `fn`, noting the server's and this client's CPU use meanwhile in `cpuNote` (printed by note()). */
async function cpu<T>(t: Target, fn: () => Promise<T>): Promise<T> {
  const s0 = cpuMs(t.pid);
  const c0 = process.cpuUsage();
  const w0 = now();
  const r = await fn();
  const wall = now() - w0;
  const c = process.cpuUsage(c0);
  cpuNote = `  ${"".padEnd(46)} (meanwhile ${t.name} server CPU ${fmt((100 * (cpuMs(t.pid) - s0)) / wall, 0)}%, bench client ${fmt((c.user + c.system) / 10 / wall, 0)}%, of one core)`;
  return r;
}
const note = () => console.log(cpuNote);

const raw: number[] = [];
if (want("echo1")) {
  console.log(`\n1. keystroke echo, 1 terminal (${KEYS} keystrokes after 20 warm-up)`);
  for (const t of targets)
    await section(t, "echo", 1, async (terms) => {
      const xs = await cpu(t, () => echoBench(terms, KEYS, 20));
      R.get(t.name)!.echo1 = xs;
      line(`${t.name}: echo, 1 terminal`, xs, "ms");
      note();
    });
}

if (want("flood")) {
  console.log(`\n2. flood to an acking client (${FLOOD_REPS} × ${FLOOD_BYTES / 1e6} MB after a 20 MB warm-up; MB = 10^6 bytes)`);
  for (let i = 0; i < FLOOD_REPS; i++) {
    const x = rawPtyFlood(FLOOD_BYTES);
    if (x !== undefined) raw.push(x);
  }
  if (raw.length) console.log(`  ${"anchor: bare pty, python3 read loop".padEnd(46)} ${raw.map((x) => fmt(x, 1)).join(", ")} MB/s (median ${fmt(percentile(raw, 50), 1)})`);
  else console.log("  anchor: bare pty: not measured (python3 missing or failed)");
  for (const t of targets)
    await section(t, "flood", 1, async ([term]) => {
      await floodBench(term!, 20_000_000);
      const xs: number[] = [];
      await cpu(t, async () => {
        for (let i = 0; i < FLOOD_REPS; i++) xs.push(await floodBench(term!, FLOOD_BYTES));
      });
      R.get(t.name)!.flood = xs;
      console.log(`  ${(t.name + ": flood").padEnd(46)} ${xs.map((x) => fmt(x, 1)).join(", ")} MB/s (median ${fmt(percentile(xs, 50), 1)})`);
      note();
    });
}

if (want("ctrlc")) {
  console.log(`\n3. Ctrl-C to quiet during \`yes\` (${CTRLC_REPS} after 2 warm-up)`);
  for (const t of targets)
    await section(t, "ctrl-c", 1, async ([term]) => {
      const xs: number[] = [];
      await cpu(t, async () => {
        for (let i = 0; i < CTRLC_REPS + 2; i++) {
          const x = await ctrlcOnce(term!);
          if (i >= 2) xs.push(x);
        }
      });
      R.get(t.name)!.ctrlc = xs;
      line(`${t.name}: Ctrl-C to last byte`, xs, "ms");
      note();
    });
}

if (want("stall")) {
  console.log(`\n4. server RSS growth while the client stalls during \`yes\` (${STALL_MS / 1000} s, sampled every 100 ms)`);
  for (const mode of ["pause", "noack"] as const)
    for (const t of targets)
      await section(t, `stall (${mode})`, 1, async ([term]) => {
        const r = await stallBench(t, term!, mode);
        const res = R.get(t.name)!;
        if (mode === "pause") res.stallPause = r.growthMB;
        else res.stallNoack = r.growthMB;
        const how = mode === "pause" ? "socket paused" : "reading, no acks";
        console.log(`  ${`${t.name}: ${how}`.padEnd(46)} RSS ${fmt(r.base, 1)} MB before, max growth ${fmt(r.growthMB, 1)} MB; the client got ${r.stalledBytes} bytes after it stalled`);
      });
}

if (want("many")) {
  console.log(`\n5. keystroke echo, ${MANY} terminals typing at once (${KEYS_MANY} keystrokes each after 3 warm-up): back to back, then paced`);
  for (const t of targets)
    await section(t, `echo × ${MANY}`, MANY, async (terms) => {
      const xs = await cpu(t, () => echoBench(terms, KEYS_MANY, 3));
      R.get(t.name)!.echoMany = xs;
      line(`${t.name}: echo, ${MANY} terminals`, xs, "ms");
      note();
      const paced = await cpu(t, () => echoBench(terms, KEYS_MANY, 3, PACE_MS));
      R.get(t.name)!.echoPaced = paced;
      line(`${t.name}: echo, ${MANY} terminals at ${1000 / PACE_MS} keys/s each`, paced, "ms");
      note();
    });
}

/* the table */
const n = R.get("nslab")!;
const w = wetty ? R.get("wetty") : undefined;
type Row = [string, number | undefined, number | undefined, number | undefined, number | undefined, string, boolean | undefined];
const rows: Row[] = [];
const pr = (name: string, a: number[], b: number[] | undefined, goal: string, ok?: (s: { p50: number; p99: number }) => boolean) => {
  const sa = p(a);
  const sb = b ? p(b) : undefined;
  rows.push([name, sa.n ? sa.p50 : undefined, sa.n ? sa.p99 : undefined, sb?.n ? sb.p50 : undefined, sb?.n ? sb.p99 : undefined, goal, sa.n && ok ? ok(sa) : undefined]);
};
pr("echo, 1 terminal (ms)", n.echo1, w?.echo1, "");
pr(`echo, ${MANY} terminals, back to back (ms)`, n.echoMany, w?.echoMany, "p50 ≤ 1, p99 ≤ 5", (s) => s.p50 <= 1 && s.p99 <= 5);
pr(`echo, ${MANY} terminals, ${1000 / PACE_MS} keys/s each (ms)`, n.echoPaced, w?.echoPaced, "(same, for reference)", (s) => s.p50 <= 1 && s.p99 <= 5);
const med = (xs: number[]) => (xs.length ? percentile(xs, 50) : undefined);
rows.push(["flood, acking client (MB/s, median)", med(n.flood), undefined, w ? med(w.flood) : undefined, undefined, "≥ 100", n.flood.length ? med(n.flood)! >= 100 : undefined]);
rows.push(["stall RSS growth, socket paused (MB)", n.stallPause, undefined, w?.stallPause, undefined, "≤ 16", Number.isFinite(n.stallPause) ? n.stallPause <= 16 : undefined]);
rows.push(["stall RSS growth, no acks (MB)", n.stallNoack, undefined, w?.stallNoack, undefined, "≤ 16", Number.isFinite(n.stallNoack) ? n.stallNoack <= 16 : undefined]);
pr("Ctrl-C to quiet (ms)", n.ctrlc, w?.ctrlc, "≤ 200 (p99)", (s) => s.p99 <= 200);

const ratioOf = (a?: number, b?: number, floor = 0) => {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return "n/a";
  if (Math.abs(a) < floor && Math.abs(b) < floor) return `both < ${floor}`; // noise: a ratio would mean nothing
  return b === 0 ? "n/a" : `${(a / b).toFixed(2)}x`;
};
const load1 = os.loadavg();
if (raw.length)
  console.log(`\nflood ceiling of a bare pty on this machine in this run: ${fmt(percentile(raw, 50), 1)} MB/s (nslab reaches ${n.flood.length ? fmt((100 * percentile(n.flood, 50)) / percentile(raw, 50), 0) : "n/a"}% of it${w?.flood.length ? `, wetty ${fmt((100 * percentile(w.flood, 50)) / percentile(raw, 50), 0)}%` : ""})`);
console.log(`\nsummary (nslab / wetty ratios: below 1 is nslab faster or smaller, except flood where above 1 is better); load ${load1.map((x) => x.toFixed(2)).join(" ")}`);
const hdr = ["metric", "nslab p50", "p99", "wetty p50", "p99", "ratio p50", "ratio p99", "nslab goal", ""];
const widths = [44, 10, 9, 10, 9, 10, 10, 22, 5];
const row = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" "));
row(hdr);
for (const [name, a50, a99, b50, b99, goal, ok] of rows) {
  const one = a99 === undefined && b99 === undefined; // single-value metric
  row([name, fmt(a50, 2), one ? "" : fmt(a99, 2), fmt(b50, 2), one ? "" : fmt(b99, 2), ratioOf(a50, b50, name.includes("(MB)") ? 1 : 0), one ? "" : ratioOf(a99, b99), goal, ok === undefined ? "" : ok ? "ok" : "MISS"]);
}
killChildren();
await sleep(500);
process.exit(0);
