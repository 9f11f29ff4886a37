/**
 * /metrics on a real server: every family the issue names is there, and each moves when what it
 * counts happens (labs by state, creations, failures by step, create latency, time to first
 * prompt, pool size, terminals, sockets, bytes in and out, evictions, queue length, per-lab cgroup
 * usage summarised). Plus /healthz and /readyz.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { api, createLab, TermClient, testServer } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_POOL: "1", NSLAB_MAX_LABS: "3", NSLAB_IDLE_TIMEOUT: "5s", NSLAB_EXPIRY_WARNING: "3s", NSLAB_CLASS_END_WARNING_MS: "1500" });
});
after(async () => s?.close());

/** Parses the text format into "name{labels}" -> value (histograms by their _count and _sum). */
async function scrape(): Promise<{ families: Set<string>; samples: Map<string, number> }> {
  const res = await fetch(`${s.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = new Set<string>();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    const h = /^# TYPE (\S+) /.exec(line);
    if (h) families.add(h[1]!);
    const m = /^([a-z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1]!, Number(m[2]));
  }
  return { families, samples };
}

/** The families a lab's life moves: made from the pool, a failure, a terminal, a queue, cgroup usage. */
const LAB_FAMILIES = [
  "nslab_labs", // by state
  "nslab_lab_creations_total",
  "nslab_lab_create_failures_total",
  "nslab_lab_create_seconds",
  "nslab_first_prompt_seconds",
  "nslab_pool_size",
  "nslab_terminals",
  "nslab_sockets",
  "nslab_terminal_bytes_total",
  "nslab_lab_evictions_total",
  "nslab_queue_length",
  "nslab_queue_wait_seconds",
  "nslab_lab_memory_bytes",
  "nslab_lab_pids",
  "nslab_lab_cpu_seconds",
];

const FAMILIES = [
  ...LAB_FAMILIES,
  "nslab_admission_refusals_total",
  "nslab_process_resident_memory_bytes",
  "nslab_access_denied_total",
  "nslab_classes", // by state
  "nslab_class_learners",
  "nslab_class_joins_total",
  "nslab_broadcast_viewers",
  "nslab_broadcast_bytes_total",
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

test("/healthz and /readyz", async () => {
  assert.deepEqual(await (await fetch(`${s.url}/healthz`)).json(), { ok: true });
  const r = await fetch(`${s.url}/readyz`);
  assert.equal(r.status, 200);
  s.ops.admission.drain(true);
  const d = await fetch(`${s.url}/readyz`);
  assert.deepEqual([d.status, (await d.json()).reason], [503, "draining"]);
  s.ops.admission.drain(false);
  const viaProxy = await fetch(`${s.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } });
  assert.equal(viaProxy.status, 404, "through a proxy, /metrics needs the operator key");
});

test("every family is present, and each moves", async () => {
  await until(() => s.mgr.pooled === 1, "the pool filled");
  const first = await scrape();
  for (const f of FAMILIES) assert.ok(first.families.has(f), `${f} is present`);
  const seen = new Map(first.samples);
  const moved = new Set<string>();
  const note = async () => {
    const now = await scrape();
    for (const [k, v] of now.samples) if (seen.get(k) !== v) moved.add(k.replace(/\{.*$/, "").replace(/_(count|sum|bucket)$/, ""));
    for (const [k, v] of now.samples) seen.set(k, v);
    return now;
  };

  // a pooled lab and a cold one, a terminal with typing, an explorer socket, some CPU and memory
  const a = await createLab(s.url);
  const b = await createLab(s.url);
  const t = new TermClient(s.url, a);
  await t.opened;
  await t.until((c) => /[#$] $/.test(c.output), "a prompt");
  const ex = new WebSocket(`${s.url.replace("http", "ws")}/api/labs/${a.id}/explorer?token=${a.token}`);
  await new Promise((r, j) => (ex.once("open", r), ex.once("error", j)));
  const cpu0 = (await scrape()).samples.get('nslab_lab_cpu_seconds{stat="sum"}') ?? 0;
  await t.run("head -c 16M /dev/zero > /dev/shm/fill; timeout 1 sh -c 'while :; do :; done'; echo done");
  let mid = await note();
  assert.equal(mid.samples.get('nslab_sockets{kind="terminal"}'), 1);
  assert.equal(mid.samples.get('nslab_sockets{kind="explorer"}'), 1);
  assert.ok((mid.samples.get('nslab_labs{state="active"}') ?? 0) >= 2);
  assert.ok((mid.samples.get('nslab_lab_memory_bytes{stat="max"}') ?? 0) >= 16 * 1024 ** 2, "the 16 MiB in /dev/shm counts");
  assert.ok(mid.samples.get('nslab_lab_cpu_seconds{stat="sum"}')! > cpu0, "a busy loop's CPU time counts");

  // full (3 labs: two learners' and the pool's refill stops below the limit): the next waits in the queue
  const c = await createLab(s.url);
  const queued = await api(s.url, "POST", "/api/labs", undefined, {});
  assert.equal(queued.status, 202);
  mid = await note();
  assert.equal(mid.samples.get("nslab_queue_length"), 1);

  // a lab nobody touches is put away (an eviction), and the queued learner gets its slot
  t.close();
  ex.close();
  await until(async () => (await scrape()).samples.get('nslab_lab_evictions_total{reason="idle"}')! >= 1, "an idle eviction", 20_000);
  const ticket = queued.json.ticket as string;
  await until(async () => {
    const r = await fetch(`${s.url}/api/queue?wait=0`, { headers: { authorization: `Bearer ${ticket}` } });
    return (await r.json()).state === "ready";
  }, "the queued learner served", 20_000);
  await note();

  // a failed creation, at its native step: the staging directory vanished under the server
  for (const l of s.mgr.list()) await s.mgr.destroy(l.id);
  const staging = path.join(s.config.stateDir, "root");
  fs.rmdirSync(staging);
  try {
    const failed = await api(s.url, "POST", "/api/labs", undefined, {});
    assert.equal(failed.status, 500);
  } finally {
    fs.mkdirSync(staging, { mode: 0o755 });
  }
  const last = await note();
  const failures = [...last.samples].filter(([k, v]) => k.startsWith("nslab_lab_create_failures_total{") && v > 0);
  assert.ok(failures.length > 0, "a failure, labelled with its step");
  assert.match(failures[0]![0], /step="[a-z_-]+"/);

  for (const f of LAB_FAMILIES)
    assert.ok(moved.has(f), `${f} moved`);
  assert.ok(last.samples.get('nslab_lab_creations_total{source="pool"}')! >= 1);
  assert.ok(last.samples.get('nslab_lab_creations_total{source="cold"}')! >= 1);
  assert.ok(last.samples.get('nslab_terminal_bytes_total{direction="in"}')! > 0);
  assert.ok(last.samples.get('nslab_terminal_bytes_total{direction="out"}')! > last.samples.get('nslab_terminal_bytes_total{direction="in"}')!);
  await api(s.url, "DELETE", `/api/labs/${b.id}`, b.token);
  await api(s.url, "DELETE", `/api/labs/${c.id}`, c.token);
});

test("the classroom's families: classes by state, learners, joins, broadcast viewers and bytes", async () => {
  const before = (await scrape()).samples;
  const made = await api(s.url, "POST", "/api/classes", undefined, { title: "Metrics", lessons: ["uts-namespaces"] });
  assert.equal(made.status, 201);
  const c = made.json as { id: string; code: string; instructorKey: string };
  const ada = (await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Ada" })).json;
  await api(s.url, "POST", "/api/classes/join", undefined, { code: c.code, name: "Ada", key: ada.key });
  let m = (await scrape()).samples;
  assert.equal(m.get('nslab_classes{state="open"}'), (before.get('nslab_classes{state="open"}') ?? 0) + 1);
  assert.equal(m.get("nslab_class_learners"), (before.get("nslab_class_learners") ?? 0) + 1);
  assert.equal(m.get('nslab_class_joins_total{kind="new"}'), (before.get('nslab_class_joins_total{kind="new"}') ?? 0) + 1);
  assert.equal(m.get('nslab_class_joins_total{kind="rejoin"}'), (before.get('nslab_class_joins_total{kind="rejoin"}') ?? 0) + 1);

  // the instructor looks over Ada's shoulder; Ada has the class's broadcast open
  const t = new TermClient(s.url, ada.lab);
  const sockets: WebSocket[] = [t.ws];
  const ws = (p: string, token: string) => {
    const w = new WebSocket(`${s.url.replace("http", "ws")}/api/classes/${c.id}/${p}?token=${token}`);
    sockets.push(w);
    return w;
  };
  try {
    await t.opened;
    await t.until((x) => /[#$] $/.test(x.output), "a prompt");
    const ctl = ws("learner", ada.key);
    await new Promise((r, j) => (ctl.once("open", r), ctl.once("error", j)));
    ctl.send(JSON.stringify({ type: "position", lesson: "uts-namespaces", step: null, terminal: t.ready!.terminal }));
    const watch = ws(`learners/${ada.learnerId}/watch`, c.instructorKey);
    const stage = ws("broadcast", ada.key);
    await Promise.all([watch, stage].map((w) => new Promise((r, j) => (w.once("open", r), w.once("error", j)))));
    await t.run("echo watched-$((2*21))");
    await until(async () => ((await scrape()).samples.get("nslab_broadcast_bytes_total") ?? 0) > (before.get("nslab_broadcast_bytes_total") ?? 0), "bytes to the watcher");
    m = (await scrape()).samples;
    assert.equal(m.get('nslab_broadcast_viewers{kind="watch"}'), 1);
    assert.equal(m.get('nslab_broadcast_viewers{kind="stage"}'), 1);
    watch.close();
    stage.close();
    await until(async () => (await scrape()).samples.get('nslab_broadcast_viewers{kind="watch"}') === 0, "the watcher gone");

    // the end: "ending" during the warning, then gone
    assert.equal((await api(s.url, "DELETE", `/api/classes/${c.id}`, c.instructorKey)).status, 202);
    assert.equal((await scrape()).samples.get('nslab_classes{state="ending"}'), 1);
    await until(async () => (await scrape()).samples.get('nslab_classes{state="ending"}') === 0, "the class ended");
    m = (await scrape()).samples;
    assert.equal(m.get('nslab_classes{state="open"}'), before.get('nslab_classes{state="open"}') ?? 0);
  } finally {
    // an open socket would keep this test's process alive after a failure
    for (const w of sockets) w.terminate();
  }
});
