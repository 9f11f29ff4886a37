/**
 * bench/trace: what tracing the learner's namespace calls costs (seccomp user notification,
 * native/src/tracer.c). In a terminal of a lab, with tracing on and with it off (two servers, the
 * same machine, the same run): `unshare -U true` and `unshare -m true` 1,000 times each (every
 * iteration makes one notified call), and a plain fork+exec loop (`/bin/true` 1,000 times: no
 * call of it is notified, so it must not be slower). Prints the time per iteration and on/off.
 *   npm run bench:trace [-- ITERATIONS] [ROUNDS]
 */
import { createLab, testServer, TermClient } from "../server/testing/harness.ts";
import { ratio, summary } from "./stats.ts";

const iterations = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const LOOPS: Record<string, string> = {
  "unshare -U true": `for i in $(seq ${iterations}); do unshare -U true; done`,
  "unshare -m true": `for i in $(seq ${iterations}); do unshare -m true; done`,
  "fork+exec /bin/true": `for i in $(seq ${iterations}); do /bin/true; done`,
};

async function terminal(traced: boolean) {
  const s = await testServer({ NSLAB_TRACE_SYSCALLS: traced ? "1" : "0" });
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "the first prompt");
  return { s, t };
}

const on = await terminal(true);
const off = await terminal(false);
const per: Record<string, { on: number[]; off: number[] }> = {};
try {
  for (let r = 0; r < rounds; r++) {
    for (const [name, loop] of Object.entries(LOOPS)) {
      for (const [mode, term] of [["on", on], ["off", off]] as const) {
        const t0 = performance.now();
        await term.t.run(loop, 300_000);
        ((per[name] ??= { on: [], off: [] })[mode]).push(((performance.now() - t0) * 1000) / iterations);
      }
    }
  }
  const lab = on.s.mgr.list()[0]!;
  const traced = lab.trace().filter((e) => e.who === "learner").length;
  console.log(`bench/trace: ${rounds} rounds of ${iterations} iterations, ${new Date().toISOString()}, node ${process.version}, ${(await import("node:os")).cpus().length} cpus; ${traced} learner calls traced in the "on" lab`);
  for (const [name, v] of Object.entries(per)) {
    const a = summary(`${name}: tracing on (per iteration)`, v.on, "us");
    const b = summary(`${name}: tracing off (per iteration)`, v.off, "us");
    ratio(`${name}: on / off (p50)`, a.p50, b.p50);
  }
} finally {
  on.t.close();
  off.t.close();
  await on.s.close();
  await off.s.close();
}
