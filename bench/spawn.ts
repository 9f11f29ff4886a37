/**
 * bench/spawn: a learner's first prompt byte, end to end. Each round creates a lab over the API,
 * opens a terminal over the WebSocket and waits for the shell's first output byte; the lab is
 * deleted afterwards (not timed). The anchor, in the same run: bubblewrap (Debian's bubblewrap)
 * building a comparable sandbox (all namespaces, read-only /usr, fresh /proc and /dev, tmpfs)
 * and starting the same login shell, until its first output byte.
 *   npm run bench:spawn [-- ROUNDS]
 */
import { spawn, spawnSync } from "node:child_process";
import { WebSocket } from "ws";
import { testServer, api } from "../server/testing/harness.ts";
import { summary, ratio } from "./stats.ts";

const rounds = Number(process.argv[2] ?? 200);
const warmup = 10;

async function nslabRound(base: string): Promise<{ total: number; create: number }> {
  const t0 = performance.now();
  const created = await api(base, "POST", "/api/labs", undefined, {});
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.json)}`);
  const t1 = performance.now();
  const { id, token } = created.json;
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/labs/${id}/terminals?token=${token}`);
    ws.on("message", (_d, bin) => {
      if (bin) {
        ws.close();
        resolve();
      }
    });
    ws.on("error", reject);
  });
  const t2 = performance.now();
  await api(base, "DELETE", `/api/labs/${id}`, token);
  return { total: t2 - t0, create: t1 - t0 };
}

function bwrapRound(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn("bwrap", [
      "--unshare-all", "--uid", "0", "--gid", "0", "--hostname", "lab", "--die-with-parent",
      "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
      "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
      "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/root", "--chdir", "/root",
      "/bin/bash", "-lc", "printf x",
    ], { stdio: ["ignore", "pipe", "inherit"] });
    p.stdout.once("data", () => resolve(performance.now() - t0));
    p.on("error", reject);
  });
}

if (spawnSync("sh", ["-c", "command -v bwrap"]).status !== 0) {
  console.error("bench/spawn needs bubblewrap for its anchor: apt-get install bubblewrap");
  process.exit(1);
}
// cold: every lab built on request (NSLAB_POOL=0); warm: the default pool keeps labs ready, and
// the next one is prepared while the learner reads (here: a pause between rounds, like a person).
const cold = await testServer({ NSLAB_LABS_PER_CLIENT: "1000", NSLAB_POOL: "0" });
const warm = await testServer({ NSLAB_LABS_PER_CLIENT: "1000", NSLAB_POOL: "2" });
const coldTotal: number[] = [], coldCreate: number[] = [], warmTotal: number[] = [], bw: number[] = [];
for (let i = 0; i < warmup; i++) await nslabRound(cold.url);
for (let i = 0; i < rounds; i++) {
  const r = await nslabRound(cold.url);
  coldTotal.push(r.total);
  coldCreate.push(r.create);
  bw.push(await bwrapRound());
  while (warm.mgr.pooled < 2) await new Promise((res) => setTimeout(res, 5));
  warmTotal.push((await nslabRound(warm.url)).total);
}
await cold.close();
await warm.close();
console.log(`bench/spawn: ${rounds} rounds (after ${warmup} warm-up), ${new Date().toISOString()}, node ${process.version}, ${(await import("node:os")).cpus().length} cpus`);
summary("nslab cold: POST /api/labs (lab built)", coldCreate);
const b = summary("nslab cold: create + WS + first prompt byte", coldTotal);
const w = summary("nslab warm (pool): create + WS + first byte", warmTotal);
const c = summary("anchor: bwrap sandbox + bash, first byte", bw);
ratio("cold / bwrap (p50)", b.p50, c.p50);
ratio("cold / bwrap (p99)", b.p99, c.p99);
ratio("warm / bwrap (p50)", w.p50, c.p50);
ratio("warm / bwrap (p99)", w.p99, c.p99);
