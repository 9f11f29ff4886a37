/**
 * bench/page: how soon a learner on a first visit has a prompt, and how much JavaScript the lesson
 * page makes them download.
 *
 *   1. first visit: a fresh browser profile (no cache, no storage) opens a lesson; the time from
 *      the start of navigation to the lab's prompt on the terminal's screen (the terminal's buffer,
 *      polled every animation frame). Also when the document arrived, when the lab request started
 *      and ended, and the JavaScript the page loaded (transferred, decoded, files) by then.
 *   2. the anchor, in the same run: the same lab and prompt without a page: POST /api/labs, the
 *      terminal WebSocket, until the shell's prompt arrives (Node, loopback). The page adds the rest.
 *
 * The server runs in a process of its own (this file with --server), with the default pool of
 * ready labs, as `npm start` runs it; each visit's lab is deleted afterwards and the pool is given
 * time to refill. Goals (issue 14): first-visit prompt ≤ 1.0 s on this machine, ≤ 250 KB of JS
 * transferred.
 *
 *   npm run bench:page [-- --runs 20 --lesson pid-namespaces]
 * Needs root (labs), a production build (npm run build) and Chromium (/usr/bin/chromium).
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { CreateLabResponse } from "../lib/protocol.ts";
import { intOption, percentile, ratio, summary } from "./stats.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);

if (args.includes("--server")) {
  const { startAppServer } = await import("../app/e2e/browser.ts");
  // every visit and its anchor make a lab from this one address: above the per-address rate, the
  // anchor would get a place in the queue (202), not a lab
  const s = await startAppServer({ NSLAB_POOL: process.env.NSLAB_POOL ?? "2", NSLAB_LABS_PER_MINUTE: "100000" });
  process.stdout.write(JSON.stringify({ url: s.url }) + "\n");
  const stop = async () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    await s.close().catch(() => {});
    process.exit(0);
  };
  process.stdin.on("end", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.stdin.resume();
} else {
  await main();
}

async function main() {
  const RUNS = intOption(args, "runs", 20);
  const li = args.indexOf("--lesson");
  const LESSON = li >= 0 ? args[li + 1]! : "pid-namespaces";
  const { chromium } = await import("playwright-core");
  const { CHROMIUM } = await import("../app/e2e/browser.ts");

  const child = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "bench/page.ts", "--server"], {
    cwd: REPO,
    stdio: ["pipe", "pipe", "inherit"],
    env: process.env,
  });
  const url = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on("line", (l) => {
      try {
        resolve((JSON.parse(l) as { url: string }).url);
      } catch {
        /* log lines */
      }
    });
    child.on("exit", (c) => reject(new Error(`server exited (${c})`)));
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"] });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const load = () => os.loadavg()[0]!.toFixed(1);
  console.log(`bench/page: ${RUNS} first visits of /lessons/${LESSON} (fresh profile each), server pool 2, ${new Date().toISOString()}, load average ${load()} on ${os.availableParallelism()} CPUs`);
  const prompt: number[] = [];
  const docAt: number[] = [];
  const labStart: number[] = [];
  const labEnd: number[] = [];
  const jsKB: number[] = [];
  const jsRawKB: number[] = [];
  const jsFiles: number[] = [];
  const anchor: number[] = [];
  const jsEnd: number[] = [];
  const marks = new Map<string, number[]>();
  const longMs: number[] = [];
  const longest: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const warm = i < 2; // the first two warm the server's page cache and Next's compiled routes
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await ctx.newPage();
    // the main thread's long tasks (> 50 ms), from the very start of the page
    await page.addInitScript(`window.__nslabLong = []; try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__nslabLong.push([e.startTime, e.duration]); }).observe({ type: "longtask", buffered: true }); } catch (e) {}`);
    await page.goto(`${url}/lessons/${LESSON}`, { waitUntil: "commit" });
    const handle = await page.waitForFunction(
      `(() => {
        const el = document.querySelector("[data-testid=terminal][data-terminal-index='1']");
        return el && el.nslabText && /# $/m.test(el.nslabText()) ? performance.now() : false;
      })()`,
      undefined,
      { polling: "raf", timeout: 60_000 },
    );
    const t = (await handle.jsonValue()) as number;
    const m = (await page.evaluate(`(() => {
      const res = performance.getEntriesByType("resource");
      const js = res.filter((r) => /\\.js(\\?|$)/.test(r.name));
      const lab = res.find((r) => /\\/api\\/labs(\\/[0-9a-f]{16})?$/.test(r.name));
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        doc: nav ? nav.responseEnd : 0,
        labStart: lab ? lab.startTime : -1,
        labEnd: lab ? lab.responseEnd : -1,
        js: js.reduce((n, r) => n + r.transferSize, 0),
        jsRaw: js.reduce((n, r) => n + r.decodedBodySize, 0),
        files: js.length,
        jsEnd: js.reduce((n, r) => Math.max(n, r.responseEnd), 0),
        marks: Object.fromEntries(performance.getEntriesByType("mark").filter((m) => m.name.startsWith("nslab:")).map((m) => [m.name.slice(6), m.startTime])),
        long: window.__nslabLong.filter(([s]) => s < ${t}),
        creds: Object.entries(localStorage).filter(([k]) => k.startsWith("nslab:lab:")).map(([, v]) => v),
      };
    })()`)) as {
      doc: number;
      labStart: number;
      labEnd: number;
      js: number;
      jsRaw: number;
      files: number;
      jsEnd: number;
      marks: Record<string, number>;
      long: [number, number][];
      creds: string[];
    };
    await ctx.close();
    for (const c of m.creds) {
      const lab = JSON.parse(c) as CreateLabResponse;
      await fetch(`${url}/api/labs/${lab.id}`, { method: "DELETE", headers: { authorization: `Bearer ${lab.token}` } }).catch(() => {});
    }
    const a = await apiPrompt(url);
    if (!warm) {
      prompt.push(t);
      docAt.push(m.doc);
      labStart.push(m.labStart);
      labEnd.push(m.labEnd);
      jsKB.push(m.js / 1024);
      jsRawKB.push(m.jsRaw / 1024);
      jsFiles.push(m.files);
      anchor.push(a);
      jsEnd.push(m.jsEnd);
      for (const [k, v] of Object.entries(m.marks)) marks.set(k, [...(marks.get(k) ?? []), v]);
      longMs.push(m.long.reduce((n, [, d]) => n + d, 0));
      longest.push(Math.max(0, ...m.long.map(([, d]) => d)));
    }
    await sleep(1500); // the pool refills
  }
  await browser.close();
  child.stdin!.end();

  console.log("\nfirst visit, from the start of navigation:");
  summary("  document received", docAt);
  summary("  lab request started", labStart);
  summary("  lab request answered", labEnd);
  summary("  last script loaded", jsEnd);
  // the app's own marks (app/lib/marks.ts), in the order they happened
  for (const [k, v] of [...marks].sort((x, y) => percentile(x[1], 50) - percentile(y[1], 50))) summary(`  ${k}${v.length < prompt.length ? ` (${v.length} runs)` : ""}`, v);
  const p = summary("  prompt on the screen", prompt);
  console.log("main thread before the prompt:");
  summary("  long tasks (> 50 ms), total", longMs);
  summary("  the longest task", longest);
  const an = summary("anchor: API lab + WebSocket to the prompt", anchor);
  ratio("prompt on the page / anchor (p50)", p.p50, an.p50);
  console.log("\nJavaScript loaded by the time of the prompt:");
  summary("  transferred", jsKB, "KB");
  summary("  decoded", jsRawKB, "KB");
  summary("  files", jsFiles, "");
  const ok = (x: boolean) => (x ? "met" : "NOT met");
  console.log(`\nload average at the end: ${load()} (the times mean little when it is far above the CPU count)`);
  console.log(`\ngoals: prompt p50 ${p.p50.toFixed(0)} ms ≤ 1000 ms: ${ok(p.p50 <= 1000)}; JS ${percentile(jsKB, 50).toFixed(0)} KB ≤ 250 KB: ${ok(percentile(jsKB, 50) <= 250)}`);
}

/** The anchor: a lab from the API and its terminal's prompt over the WebSocket, no page. */
async function apiPrompt(base: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/labs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const lab = (await res.json()) as CreateLabResponse;
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/labs/${lab.id}/terminals?token=${encodeURIComponent(lab.token)}&cols=80&rows=24`);
  let text = "";
  const took = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no prompt")), 30_000);
    ws.on("message", (d, binary) => {
      if (!binary) return;
      text += d.toString();
      if (/# $/m.test(text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g, ""))) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
    ws.on("error", reject);
  });
  ws.close();
  await fetch(`${base}/api/labs/${lab.id}`, { method: "DELETE", headers: { authorization: `Bearer ${lab.token}` } }).catch(() => {});
  return took;
}
