/**
 * bench/capacity: what one server holds and how fast it hands labs out, measured from outside the
 * server (each server is a process of its own: server/testing/api-server.ts).
 *
 *  1. idle labs: N labs (default 200), each with a shell that was opened and left (init + bash):
 *     the server's RSS, and the host's memory per lab (MemAvailable before and after);
 *  2. a burst: M learners (default 100), each from its own loopback address, arriving evenly within
 *     1 s: from each one's request to its first prompt byte; the pool on (NSLAB_POOL=2, the
 *     default) and off (0);
 *  3. one lab at a time to its first prompt byte, cold (pool empty) and warm (a pooled lab), against
 *     the anchor in the same run: bubblewrap building a comparable sandbox (every namespace,
 *     read-only /usr, fresh /proc, /dev and tmpfs) and running `bash -l -i -c true` to its end.
 *
 *   node --import tsx --import ./scripts/hooks.mjs bench/capacity.ts [--labs 200] [--burst 100] [--rounds 40] [--only 1,2,3]
 *
 * A lab is asked for as a lesson page's first visit asks (app/lib/early-lab.ts): one socket that
 * makes the lab (NEW_LAB_SOCKET; its first message is POST /api/labs's answer) and then is its
 * first terminal; in the queue, the answer 202, the queue, then the lab's own socket.
 *
 * Cold is measured three times: a lab asked for when the pool is empty (it may find the cgroups and
 * helper a lab's end makes ahead, one set at most); a second lab asked for at once while the first
 * runs, for which nothing was made ahead (a burst's second learner); and as the first, but by POST
 * /api/labs and then the lab's terminal socket (where the socket that makes its lab cannot be had).
 *
 * Section 3 also says where a cold lab's time goes: until the lab's answer (the lab made) and from
 * there to the prompt (its first shell started), and, from the lab's own trace (the helper's steps,
 * timed), the median of each step the server, the helper's child and the shell's start took.
 *
 * Goals (issue 9): 200 labs with server RSS ≤ 300 MB; burst p99 ≤ 2 s; cold ≤ 1× and warm ≤ 0.5×
 * of the anchor.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import { createInterface } from "node:readline";
import { WebSocket } from "ws";
import { NEW_LAB_SOCKET, type CreateLabResponse, type LabCreatedControl } from "../lib/protocol.ts";
import { isolatedEnv } from "../server/testing/instance.ts";
import { intOption, percentile, ratio, summary } from "./stats.ts";

const args = process.argv.slice(2);
const LABS = intOption(args, "labs", 200);
const BURST = intOption(args, "burst", 100);
const ROUNDS = intOption(args, "rounds", 40);
const ONLY = new Set((args.includes("--only") ? args[args.indexOf("--only") + 1] ?? "" : "1,2,3").split(",").map(Number));

if (process.getuid?.() !== 0) throw new Error("bench/capacity makes real labs: run it as root");
if (spawnSync("sh", ["-c", "command -v bwrap"]).status !== 0) throw new Error("the anchor needs bubblewrap: apt-get install bubblewrap");

interface Server {
  url: string;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** A server process of its own (so its RSS is its own), with the NSLAB_* settings given. */
async function server(env: Record<string, string>): Promise<Server> {
  const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "server/testing/api-server.ts"], {
    env: { ...process.env, NSLAB_LOG_LEVEL: "warn", ...isolatedEnv("capacity"), ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // a bench that dies (its output piped into head(1): EPIPE) takes its servers with it
  const orphaned = () => proc.kill("SIGKILL");
  process.once("exit", orphaned);
  proc.once("exit", () => process.off("exit", orphaned));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const { url, pid } = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on("line", (l) => {
      try {
        const j = JSON.parse(l);
        if (j.url && !j.level) resolve(j);
      } catch {}
    });
    proc.once("exit", (c) => reject(new Error(`server exited ${c}`)));
  });
  return {
    url,
    pid,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

function request(base: string, method: string, path: string, opts: { token?: string; from?: string } = {}): Promise<{ status: number; json: any }> {
  const u = new URL(base + path);
  return new Promise((resolve, reject) => {
    const body = method === "POST" ? "{}" : undefined;
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method, agent: false, localAddress: opts.from, headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) } },
      (res) => {
        let t = "";
        res.on("data", (d) => (t += d));
        res.on("end", () => resolve({ status: res.statusCode!, json: t ? JSON.parse(t) : null }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A lab to its first prompt byte, as a lesson page's first visit asks for it (app/lib/early-lab.ts):
 * the socket that makes its lab (NEW_LAB_SOCKET), whose first message is POST /api/labs's answer
 * and which then is the lab's first terminal; `via: "post"`, as where that socket cannot be had:
 * POST /api/labs, then the lab's terminal socket. Waits in the queue if it must (the answer 202,
 * then the lab's own socket). ms; createdMs: until the lab's answer.
 */
async function labToPrompt(base: string, from?: string, keep = false, via: "socket" | "post" = "socket"): Promise<{ ms: number; createdMs: number; lab: CreateLabResponse; ws?: WebSocket }> {
  const t0 = performance.now();
  let r: { status: number; json: any };
  if (via === "socket") {
    const ws = new WebSocket(`${base.replace("http", "ws")}${NEW_LAB_SOCKET}?cols=80&rows=24`, from ? { localAddress: from } : {});
    let createdMs = 0;
    const answer = await new Promise<LabCreatedControl>((resolve, reject) => {
      let answered: LabCreatedControl | null = null;
      ws.on("message", (d, bin) => {
        if (!answered && !bin) {
          answered = JSON.parse(d.toString()) as LabCreatedControl;
          createdMs = performance.now() - t0;
          if (answered.status !== 201) resolve(answered);
          return;
        }
        if (!bin) return;
        ws.send(JSON.stringify({ type: "ack", bytes: (d as Buffer).length }));
        resolve(answered!);
      });
      ws.on("error", reject);
      ws.on("close", (code) => !answered && reject(new Error(`new lab socket closed ${code}`)));
    });
    if (answer.status === 201) {
      const ms = performance.now() - t0;
      if (!keep) ws.close();
      return { ms, createdMs, lab: answer.body as CreateLabResponse, ws: keep ? ws : undefined };
    }
    r = { status: answer.status, json: answer.body };
  } else r = await request(base, "POST", "/api/labs", { from });
  if (r.status === 202) {
    const ticket = r.json.ticket;
    let v = r.json.view;
    while (v.state !== "ready") {
      if (v.state === "failed" || v.state === "gone") throw new Error(`queue: ${v.state}`);
      v = (await request(base, "GET", `/api/queue?seen=${v.version}`, { token: ticket, from })).json;
    }
    r = { status: 201, json: v.lab };
  }
  if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.json)}`);
  const lab = r.json as CreateLabResponse;
  const createdMs = performance.now() - t0;
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/labs/${lab.id}/terminals?token=${lab.token}`, from ? { localAddress: from } : {});
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (d, bin) => {
      if (!bin) return;
      ws.send(JSON.stringify({ type: "ack", bytes: (d as Buffer).length }));
      resolve();
    });
    ws.on("error", reject);
  });
  const ms = performance.now() - t0;
  if (!keep) ws.close();
  return { ms, createdMs, lab, ws: keep ? ws : undefined };
}

function rssMiB(pid: number): { rss: number; hwm: number } {
  const st = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(st)![1]) / 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}
const memAvailable = () => Number(/^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** the load average now, printed beside each section's figures (other work on the host skews them) */
const load = () => `load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`;

/** Waits until the server's warm pool holds `n` labs (read from /metrics). */
async function poolOf(base: string, n: number): Promise<void> {
  for (let i = 0; i < 600 && n > 0; i++) {
    const m = await (await fetch(`${base}/metrics`)).text();
    if (Number(/^nslab_pool_size (\S+)$/m.exec(m)?.[1] ?? 0) >= n) return;
    await sleep(25);
  }
}

function bwrapRound(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn(
      "bwrap",
      [
        "--unshare-all", "--uid", "0", "--gid", "0", "--hostname", "lab", "--die-with-parent",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--ro-bind", "/etc", "/etc",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/root", "--chdir", "/root",
        "--setenv", "HOME", "/root", "--setenv", "TERM", "xterm-256color",
        "/bin/bash", "-l", "-i", "-c", "true",
      ],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    p.on("exit", () => resolve(performance.now() - t0));
    p.on("error", reject);
  });
}

console.log(`bench/capacity: ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cpus, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, kernel ${os.release()}, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);

/* ---------------------------------------------------------------- 1. idle labs */
if (ONLY.has(1)) {
  const s = await server({ NSLAB_POOL: "0", NSLAB_MAX_LABS: String(LABS + 10), NSLAB_LABS_PER_CLIENT: String(LABS + 10), NSLAB_LABS_PER_MINUTE: "100000" });
  await sleep(1000);
  const before = { ...rssMiB(s.pid), avail: memAvailable() };
  const labs: CreateLabResponse[] = [];
  const t0 = performance.now();
  for (let i = 0; i < LABS; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, LABS - i) }, () => labToPrompt(s.url)));
    labs.push(...batch.map((b) => b.lab));
  }
  const made = (performance.now() - t0) / 1000;
  await sleep(3000); // let the shells settle and the server's garbage be collected
  const after = { ...rssMiB(s.pid), avail: memAvailable() };
  console.log(`\n1. ${LABS} idle labs (each: init + a login shell, its socket closed), made in ${made.toFixed(1)} s`);
  console.log(`   server RSS: ${before.rss.toFixed(0)} MiB with no lab, ${after.rss.toFixed(0)} MiB with ${LABS} (peak ${after.hwm.toFixed(0)} MiB)   goal ≤ 300 MB: ${after.rss * 1.048576 <= 300 ? "met" : "MISSED"}`);
  console.log(`   server RSS per lab: ${(((after.rss - before.rss) * 1024) / LABS).toFixed(0)} KiB`);
  console.log(`   host memory per lab (MemAvailable): ${(((before.avail - after.avail) * 1024) / LABS).toFixed(0)} KiB`);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  const cg = /^nslab_lab_memory_bytes\{stat="p50"\} (\S+)$/m.exec(metrics)?.[1];
  if (cg) console.log(`   a lab's own cgroup memory (p50): ${(Number(cg) / 1024).toFixed(0)} KiB`);
  console.log(`   ${load()}`);
  await s.stop();
}

/* ---------------------------------------------------------------- 2. a burst */
for (const pool of ONLY.has(2) ? ["2", "0"] : []) {
  const s = await server({ NSLAB_POOL: pool, NSLAB_MAX_LABS: String(BURST + 20) });
  await poolOf(s.url, Number(pool));
  const times: number[] = [];
  const sockets: WebSocket[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      await sleep((i * 1000) / BURST);
      const from = `127.0.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`;
      const r = await labToPrompt(s.url, from, true);
      times.push(r.ms);
      sockets.push(r.ws!);
    }),
  );
  const all = (performance.now() - t0) / 1000;
  console.log(`\n2. a burst of ${BURST} learners within 1 s (each from its own address), pool ${pool === "0" ? "off" : `on (NSLAB_POOL=${pool})`}: all had a prompt after ${all.toFixed(2)} s`);
  const r = summary(`   request to first prompt byte, pool ${pool === "0" ? "off" : "on "}`, times);
  console.log(`   goal p99 ≤ 2 s: ${r.p99 <= 2000 ? "met" : "MISSED"}   (${load()})`);
  for (const w of sockets) w.close();
  await s.stop();
}

/* ---------------------------------------------------------------- 3. one lab, cold and warm, against bwrap */
if (ONLY.has(3)) {
  const cold = await server({ NSLAB_POOL: "0", NSLAB_LABS_PER_MINUTE: "100000" });
  const warm = await server({ NSLAB_POOL: "2", NSLAB_LABS_PER_MINUTE: "100000" });
  const c: number[] = [];
  /** cold labs made while the previous one still runs: nothing made ahead for them (as in a burst) */
  const c0: number[] = [];
  /** cold labs asked for as where the socket that makes its lab cannot be had: POST, then a socket */
  const cp: number[] = [];
  const w: number[] = [];
  const b: number[] = [];
  const createdC: number[] = [];
  const createdW: number[] = [];
  /** per traced step ("who sys"), its duration in each cold lab, ms */
  const steps = new Map<string, number[]>();
  const pooled = () => poolOf(warm.url, 2);
  /** cold labs whose cgroups were made before they were asked for (when the previous lab ended) */
  let cgroupsAhead = 0;
  /** and whose helper had started (native nslab_lab_prepare) */
  let helperAhead = 0;
  /** `via`: how the round's first cold lab is asked for (rounds alternate, so each way finds the host as idle) */
  const round = async (record: boolean, via: "socket" | "post") => {
    const asked = Date.now();
    const x = await labToPrompt(cold.url, undefined, false, via);
    if (record && via === "socket") {
      const trace = (await request(cold.url, "GET", `/api/labs/${x.lab.id}/trace`, { token: x.lab.token })).json as { who: string; scope: string; sys: string; durNs: number; at: string }[];
      if (trace.some((e) => e.scope === "lab" && e.who === "server" && e.sys === "mkdir" && Date.parse(e.at) < asked)) cgroupsAhead++;
      if (trace.some((e) => e.scope === "lab" && e.who === "server" && e.sys === "posix_spawn" && Date.parse(e.at) < asked)) helperAhead++;
      const sums = new Map<string, number>();
      for (const e of trace) {
        if (e.durNs < 0 || e.who === "learner") continue;
        const k = `${e.scope === "lab" ? "lab" : "terminal"} ${e.who} ${e.sys}`;
        sums.set(k, (sums.get(k) ?? 0) + e.durNs / 1e6);
      }
      for (const [k, v] of sums) steps.set(k, [...(steps.get(k) ?? []), v]);
    }
    // the next lab at once, while x runs: the one set a lab's end makes ahead is x's, so this one
    // has its cgroups and helper made on request, as the second learner of a burst has
    const x0 = await labToPrompt(cold.url);
    await request(cold.url, "DELETE", `/api/labs/${x0.lab.id}`, { token: x0.lab.token });
    await request(cold.url, "DELETE", `/api/labs/${x.lab.id}`, { token: x.lab.token });
    await pooled();
    const y = await labToPrompt(warm.url);
    await request(warm.url, "DELETE", `/api/labs/${y.lab.id}`, { token: y.lab.token });
    // the warm server's refill (a lab made in the background) must not run beside the anchor or
    // the next cold lab: each is measured on an otherwise idle host
    await pooled();
    const z = await bwrapRound();
    if (record) b.push(z);
    if (record && via === "post") cp.push(x.ms);
    if (record && via === "socket") (c.push(x.ms), c0.push(x0.ms), w.push(y.ms), createdC.push(x.createdMs), createdW.push(y.createdMs));
  };
  for (let i = 0; i < 5; i++) await round(false, "socket");
  for (let i = 0; i < 2 * ROUNDS; i++) await round(true, i % 2 ? "post" : "socket");
  console.log(`\n3. one lab to its first prompt byte, ${2 * ROUNDS} rounds (after 5 warm-up), interleaved with the anchor; the first cold lab of every other round by POST, then a socket`);
  const cs = summary("   nslab cold (pool empty)", c);
  const c0s = summary("   nslab cold, nothing made ahead (2nd lab)", c0);
  const cps = summary("   nslab cold, by POST and then a socket", cp);
  const ws = summary("   nslab warm (a pooled lab)", w);
  const bs = summary("   anchor: bwrap + bash -l -i -c true", b);
  ratio("   cold / anchor (p50)   goal ≤ 1", cs.p50, bs.p50);
  ratio("   cold, nothing ahead / anchor (p50)", c0s.p50, bs.p50);
  ratio("   cold by POST, then a socket / anchor (p50)", cps.p50, bs.p50);
  ratio("   warm / anchor (p50)   goal ≤ 0.5", ws.p50, bs.p50);
  ratio("   cold / anchor (p99)", cs.p99, bs.p99);
  ratio("   warm / anchor (p99)", ws.p99, bs.p99);
  console.log(`   cold ${cs.p50 / bs.p50 <= 1 ? "met" : "MISSED"} (with nothing made ahead: ${c0s.p50 / bs.p50 <= 1 ? "met" : "MISSED"}), warm ${ws.p50 / bs.p50 <= 0.5 ? "met" : "MISSED"} (p50 ratios)   (${load()})`);
  console.log("\n   where the time goes (p50 of each part; parts overlap in time only where noted)");
  summary("   cold: socket open to the lab's answer (the lab made)", createdC);
  summary("   cold: the answer to the first prompt byte", c.map((x, i) => x - createdC[i]!));
  summary("   warm: socket open to the lab's answer (a pooled lab handed out)", createdW);
  summary("   warm: the answer to the first prompt byte", w.map((x, i) => x - createdW[i]!));
  const ranked = [...steps].map(([k, v]) => [k, percentile(v, 50)] as const).sort((a, b) => b[1] - a[1]);
  console.log(`   cold labs whose cgroups / helper a lab's end had made / started before they were asked for: ${cgroupsAhead} / ${helperAhead} of ${ROUNDS}`);
  console.log("   traced steps of a cold lab (sum per lab; lab = building it, terminal = its first shell):");
  for (const [k, v] of ranked.slice(0, 16)) console.log(`     ${k.padEnd(48)} p50 ${v.toFixed(3).padStart(8)} ms`);
  await cold.stop();
  await warm.stop();
}
