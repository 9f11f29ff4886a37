/**
 * bench/explorer-idle: what the live explorer costs the server when nothing changes. 50 labs, each
 * with an explorer socket open (as 50 learners with the panel visible), measured against the same
 * 50 labs with nobody watching. Prints the server's CPU use (user+system) in each state.
 *   node --import tsx --import ./scripts/hooks.mjs bench/explorer-idle.ts [LABS] [SECONDS]
 */
import { WebSocket } from "ws";
import { createLab, testServer } from "../server/testing/harness.ts";

const labs = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 10);

async function cpuPercent(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
}

const s = await testServer({ NSLAB_LABS_PER_CLIENT: String(labs + 10), NSLAB_MAX_LABS: String(labs + 10) });
const made = [];
for (let i = 0; i < labs; i++) made.push(await createLab(s.url));
await new Promise((r) => setTimeout(r, 1000));
const unwatched = await cpuPercent(seconds * 1000);

const sockets: WebSocket[] = [];
let snapshots = 0;
await Promise.all(
  made.map(
    (lab) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`${s.url.replace("http", "ws")}/api/labs/${lab.id}/explorer?token=${lab.token}`);
        ws.on("message", (d) => {
          if (String(d).startsWith('{"type":"snapshot"')) snapshots++;
          resolve();
        });
        ws.on("error", reject);
        sockets.push(ws);
      }),
  ),
);
await new Promise((r) => setTimeout(r, 7000)); // first snapshots and trace pushed, then quiet
const before = snapshots;
const watched = await cpuPercent(seconds * 1000);
const sentWhileIdle = snapshots - before;
for (const ws of sockets) ws.close();
await s.close();
console.log(`bench/explorer-idle: ${labs} labs, ${seconds} s per state, ${new Date().toISOString()}`);
console.log(`server CPU, ${labs} labs, nobody watching:        ${unwatched.toFixed(2)} % of one core`);
console.log(`server CPU, ${labs} labs, ${labs} explorers open, idle: ${watched.toFixed(2)} % of one core`);
console.log(`snapshots sent while idle:                  ${sentWhileIdle} (only changes are sent)`);
