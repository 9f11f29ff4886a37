/**
 * The HTTP API on a real server with real labs: the token lookup, check and solve with real
 * scripts (one at a time, a full queue refused, a real time limit and output caps), a lab whose
 * init died, the HTTP layer's own refusals (405, 413, 415, bad JSON, bad percent-encoding) and
 * headers, X-Forwarded-For with and without a trusted proxy, the server's lab cap, a lab the
 * kernel refuses to build, closing one terminal, and the trace since a sequence number.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { CreateLabResponse, QueuedResponse, TraceEntry } from "../../lib/protocol.ts";
import { OUTPUT_MAX, FEEDBACK_MAX } from "../lessons/runner.ts";
import { MAX_WAITING, queued } from "../lessons/labqueue.ts";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";

if (process.getuid?.() !== 0) throw new Error("these tests need root: they create real namespaces");

const here = path.dirname(fileURLToPath(import.meta.url));
const LESSONS = path.join(here, "fixtures/lessons");
process.env.NSLAB_LESSONS_DIR = LESSONS;

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_LESSONS_DIR: LESSONS, NSLAB_LABS_PER_CLIENT: "20" });
});
after(async () => s.close());

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const step = (id: string) => ({ lesson: "api", step: id });

describe("the token lookup (http/auth.ts) on every lab route", () => {
  test("no token: 401 with WWW-Authenticate; a wrong token, another lab's token, an unknown lab: the same 404", async () => {
    const a = await createLab(s.url);
    const b = await createLab(s.url);
    const routes: [string, string, unknown?][] = [
      ["GET", `/api/labs/${a.id}`],
      ["GET", `/api/labs/${a.id}/trace`],
      ["GET", `/api/labs/${a.id}/processes`],
      ["POST", `/api/labs/${a.id}/check`, step("solve-me")],
      ["POST", `/api/labs/${a.id}/solve`, step("solve-me")],
      ["DELETE", `/api/labs/${a.id}/terminals/t1`],
      ["DELETE", `/api/labs/${a.id}`],
    ];
    for (const [method, p, body] of routes) {
      const none = await api(s.url, method, p, undefined, body);
      assert.deepEqual([none.status, none.json.error, none.headers.get("www-authenticate")], [401, "unauthorized", "Bearer"], `${method} ${p}`);
      const wrong = await api(s.url, method, p, "x".repeat(32), body);
      const others = await api(s.url, method, p, b.token, body);
      const unknown = await api(s.url, method, p.replace(a.id, "0".repeat(16)), a.token, body);
      for (const r of [wrong, others, unknown]) assert.deepEqual([r.status, r.json], [404, { error: "not_found", message: "No such lab, or the token does not belong to it." }], `${method} ${p}`);
    }
    // none of that touched lab A: its solution never ran
    assert.equal((await api(s.url, "POST", `/api/labs/${a.id}/check`, a.token, step("solve-me"))).json.passed, false);
  });
});

describe("check and solve with real scripts (lessons/runner.ts, labqueue.ts)", () => {
  test("/solve runs the step's solution in the lab, then its check, and returns the solution's output", async () => {
    const lab = await createLab(s.url);
    const before = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("solve-me"));
    assert.deepEqual([before.status, before.json], [200, { passed: false, feedback: "Not yet: /root/solved is missing." }]);
    const solved = await api(s.url, "POST", `/api/labs/${lab.id}/solve`, lab.token, step("solve-me"));
    assert.deepEqual([solved.status, solved.json], [200, { passed: true, feedback: "Solved.", output: "solution-ran\n" }]);
    assert.equal((await s.mgr.get(lab.id)!.exec("test -f /root/solved && echo there")).stdout, "there\n", "the solution changed the lab");
    const after = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("solve-me"));
    assert.deepEqual(after.json, { passed: true, feedback: "Solved." });
  });

  test("one script at a time per lab; while one runs and two wait, the next is refused with 429 busy", async () => {
    const lab = await createLab(s.url);
    const handle = s.mgr.get(lab.id)!;
    const pending = [0, 1, 2].map(() => api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("block")));
    // the event, not a sleep: the server holds all three (one running, MAX_WAITING waiting)
    await until(() => queued(handle) === MAX_WAITING + 1, "three checks held by the lab's queue");
    await until(async () => (await handle.exec("cat /tmp/blocked-checks 2>/dev/null")).stdout.trim().split("\n").filter(Boolean).length === 1, "the first check to start");
    const refused = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("block"));
    assert.deepEqual([refused.status, refused.json.error, refused.headers.get("retry-after")], [429, "busy", "2"]);
    assert.equal((await handle.exec("wc -l < /tmp/blocked-checks")).stdout.trim(), "1", "only one check has started");
    await handle.exec("touch /tmp/release");
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => [r.status, r.json.feedback]), [
      [200, "Released."],
      [200, "Released."],
      [200, "Released."],
    ]);
    assert.equal((await handle.exec("wc -l < /tmp/blocked-checks")).stdout.trim(), "3", "each ran once, after the one before");
    assert.equal(queued(handle), 0);
  });

  test("a check past its 10 s limit is killed: 'The check timed out.', and nothing of it keeps running", async () => {
    const lab = await createLab(s.url);
    const r = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("slow"));
    assert.deepEqual([r.status, r.json], [200, { passed: false, feedback: "The check timed out." }]);
    assert.equal((await s.mgr.get(lab.id)!.exec("pgrep -c -x sleep || true")).stdout.trim(), "0");
  });

  test("output caps: the feedback is the first line cut to 300 characters, a solution's output its last 4000", async () => {
    const lab = await createLab(s.url);
    const c = await api(s.url, "POST", `/api/labs/${lab.id}/check`, lab.token, step("loud"));
    assert.equal(c.json.passed, false);
    assert.equal(c.json.feedback, "x".repeat(FEEDBACK_MAX - 1) + "…");
    const sol = await api(s.url, "POST", `/api/labs/${lab.id}/solve`, lab.token, step("loud"));
    assert.equal(sol.json.output.length, OUTPUT_MAX);
    assert.match(sol.json.output, /^y+\nlast-line\n$/, "the end of what it printed");
    assert.doesNotMatch(sol.json.output, /first-line/);
  });
});

describe("lab.exec (labs/lab.ts) in a real lab", () => {
  test("its time limit kills the script and what it started in its process group", async () => {
    const lab = s.mgr.get((await createLab(s.url)).id)!;
    const r = await lab.exec("sleep 1000 & sleep 1001; echo never", { timeoutMs: 300 });
    assert.deepEqual([r.timedOut, r.code, r.signal, r.stdout], [true, null, "SIGKILL", ""]);
    assert.equal((await lab.exec("pgrep -c -x sleep || true")).stdout.trim(), "0", "the background sleep went with it");
  });

  test("it keeps at most 64 KiB of each stream", async () => {
    const lab = s.mgr.get((await createLab(s.url)).id)!;
    const r = await lab.exec("head -c 1000000 /dev/zero | tr '\\0' o; head -c 1000000 /dev/zero | tr '\\0' e >&2; echo done >&2");
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, 64 * 1024);
    assert.equal(r.stderr.length, 64 * 1024);
    assert.match(r.stdout, /^o+$/);
  });
});

describe("a lab whose init died", () => {
  test("409 lab_gone for scripts, state exited, a terminal socket closes with 4410", async () => {
    const lab = await createLab(s.url);
    const handle = s.mgr.get(lab.id)!;
    process.kill(handle.initPid, "SIGKILL");
    await until(() => !handle.running, "the exit of the lab's init");
    for (const p of ["check", "solve"]) {
      const r = await api(s.url, "POST", `/api/labs/${lab.id}/${p}`, lab.token, step("solve-me"));
      assert.deepEqual([r.status, r.json.error], [409, "lab_gone"], p);
    }
    assert.equal((await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).json.state, "exited");
    const t = new TermClient(s.url, lab);
    let code: number | null = null;
    t.ws.once("close", (c) => (code = c));
    await until(() => code !== null, "the terminal socket to close");
    assert.equal(code, 4410);
    assert.deepEqual(t.controls.at(-1), { type: "closed", reason: "lab-destroyed", message: "The lab is not running any more." });
    assert.equal((await api(s.url, "DELETE", `/api/labs/${lab.id}`, lab.token)).status, 204);
  });
});

describe("the HTTP layer (http/router.ts, server.ts)", () => {
  const raw = async (method: string, p: string, init: RequestInit = {}) => {
    const res = await fetch(s.url + p, { method, ...init });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
  };

  test("405 with Allow, 413, 415, bad JSON, bad percent-encoding and unknown endpoints: JSON errors, never a 500", async () => {
    const cases: [string, string, RequestInit, number, string][] = [
      ["PUT", "/api/labs", {}, 405, "method_not_allowed"],
      ["GET", "/api/labs", {}, 405, "method_not_allowed"],
      ["POST", "/api/labs", { headers: { "content-type": "application/json" }, body: JSON.stringify({ lesson: "a".repeat(70 * 1024) }) }, 413, "body_too_large"],
      ["POST", "/api/labs", { headers: { "content-type": "text/plain" }, body: "{}" }, 415, "unsupported_media_type"],
      ["POST", "/api/labs", { headers: { "content-type": "application/json" }, body: "{" }, 400, "bad_json"],
      ["GET", "/api/labs/%E0%A4%A", {}, 404, "not_found"],
      ["GET", "/api/lessons/%ZZ", {}, 404, "not_found"],
      ["GET", "/api/nothing-here", {}, 404, "not_found"],
    ];
    for (const [method, p, init, status, code] of cases) {
      const r = await raw(method, p, init);
      assert.deepEqual([r.status, r.json?.error], [status, code], `${method} ${p}`);
      assert.equal(typeof r.json.message, "string");
      assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(r.headers.get("cache-control"), "no-store");
    }
    assert.equal((await raw("PUT", "/api/labs")).headers.get("allow"), "POST");
    assert.equal((await raw("POST", "/api/health")).headers.get("allow"), "GET");
    assert.equal((await raw("GET", "/api/health")).status, 200, "and the server is fine");
  });

  test("security headers on every answer: nosniff, same-origin referrers, no framing by other sites", async () => {
    for (const [method, p] of [["GET", "/api/health"], ["GET", "/api/nothing"], ["PUT", "/api/labs"], ["GET", "/not-api"], ["GET", "/api/lessons"]]) {
      const r = await raw(method!, p!);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff", `${method} ${p}`);
      assert.equal(r.headers.get("referrer-policy"), "same-origin", `${method} ${p}`);
      assert.equal(r.headers.get("x-frame-options"), "SAMEORIGIN", `${method} ${p}`);
    }
  });
});

describe("the client's address (http/client.ts) and the lab caps (labs/manager.ts)", () => {
  const create = (base: string, xff?: string) =>
    fetch(`${base}/api/labs`, { method: "POST", headers: { "content-type": "application/json", ...(xff ? { "x-forwarded-for": xff } : {}) }, body: "{}" }).then(async (r) => ({
      status: r.status,
      headers: r.headers,
      json: (await r.json()) as { error?: string; message?: string; id?: string },
    }));

  test("without NSLAB_TRUST_PROXY, X-Forwarded-For is ignored: every request counts as the socket's address", async () => {
    const own = await testServer({ NSLAB_LABS_PER_CLIENT: "1" });
    try {
      assert.equal((await create(own.url, "10.0.0.1")).status, 201);
      const second = await create(own.url, "10.0.0.2");
      assert.deepEqual([second.status, second.json.error], [429, "too_many_labs"]);
      assert.match(second.json.message!, /already has 1 labs open/);
    } finally {
      await own.close();
    }
  });

  test("behind a trusted proxy, its first X-Forwarded-For hop is the client; past the server's own cap, a place in the queue", async () => {
    const own = await testServer({ NSLAB_TRUST_PROXY: "1", NSLAB_LABS_PER_CLIENT: "1", NSLAB_MAX_LABS: "3" });
    try {
      assert.equal((await create(own.url, "10.0.0.1")).status, 201);
      assert.equal((await create(own.url, "10.0.0.2, 10.9.9.9")).status, 201, "another client");
      const again = await create(own.url, "10.0.0.1, 10.0.0.2");
      assert.deepEqual([again.status, again.json.error], [429, "too_many_labs"], "10.0.0.1's one lab");
      assert.match(again.json.message!, /already has 1 labs open/);
      assert.equal((await create(own.url)).status, 201, "no header: the proxy's own address");
      const full = (await create(own.url, "10.0.0.3")) as unknown as { status: number; json: QueuedResponse };
      assert.equal(full.status, 202, "a fourth lab on a server capped at three");
      assert.deepEqual([full.json.queued, full.json.view.state, full.json.view.position], [true, "waiting", 1]);
      assert.equal(own.mgr.count, 3, "no lab made past the cap");
    } finally {
      await own.close();
    }
  });

  test("a lab the kernel refuses to build: 500 lab_create_failed, nothing left behind, and the next one works", async () => {
    const own = await testServer({});
    // the helper copies /etc from the server's template as the lab's own uid: unreadable, the copy fails
    const etc = path.join(own.config.stateDir, "etc");
    try {
      fs.chmodSync(etc, 0o700);
      const r = await create(own.url);
      assert.deepEqual([r.status, r.json.error], [500, "lab_create_failed"]);
      assert.match(r.json.message!, /could not be created/);
      assert.equal(own.mgr.count, 0, "no lab was registered");
      fs.chmodSync(etc, 0o755);
      assert.equal((await create(own.url)).status, 201);
    } finally {
      fs.chmodSync(etc, 0o755);
      await own.close();
    }
  });
});

describe("terminals and the trace", () => {
  test("DELETE /api/labs/:id/terminals/:tid closes that shell; its socket is told and closed; a second DELETE is 404", async () => {
    const lab = await createLab(s.url);
    const t = new TermClient(s.url, lab);
    await t.opened;
    await t.until((c) => !!c.ready, "ready");
    const tid = t.ready!.terminal;
    const shellPid = s.terminals.of(s.mgr.get(lab.id)!).get(tid)!.pid;
    let closed: number | null = null;
    t.ws.once("close", (c) => (closed = c));
    assert.equal((await api(s.url, "DELETE", `/api/labs/${lab.id}/terminals/${tid}`, lab.token)).status, 204);
    await until(() => closed !== null, "the terminal's socket to close");
    assert.equal(closed, 4000);
    assert.deepEqual(t.controls.find((c) => c.type === "closed"), { type: "closed", reason: "terminal-closed", message: "The terminal was closed." });
    await until(() => !fs.existsSync(`/proc/${shellPid}`), "the shell's end");
    assert.deepEqual((await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).json.terminals, []);
    for (const bad of [tid, "t99", "T1", "x%2F..%2Ft1"]) {
      const r = await api(s.url, "DELETE", `/api/labs/${lab.id}/terminals/${bad}`, lab.token);
      assert.deepEqual([r.status, r.json.error], [404, "not_found"], bad);
    }
  });

  test("GET trace?since=SEQ returns only what came after SEQ", async () => {
    // made without a page (no first shell started with it), so nothing is traced until a terminal opens
    const { lab: made, token } = await s.mgr.create();
    const lab: CreateLabResponse = { id: made.id, token, mode: made.mode, hostname: made.hostname };
    const all = (await api(s.url, "GET", `/api/labs/${lab.id}/trace`, lab.token)).json as TraceEntry[];
    assert.ok(all.length > 10);
    const seqs = all.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "oldest first");
    const mid = seqs[Math.floor(seqs.length / 2)]!;
    const since = (await api(s.url, "GET", `/api/labs/${lab.id}/trace?since=${mid}`, lab.token)).json as TraceEntry[];
    assert.deepEqual(since, all.filter((e) => e.seq > mid));
    // a terminal adds its own entries: since the last one seen, only those
    const last = seqs.at(-1)!;
    const t = new TermClient(s.url, lab);
    await t.opened;
    await t.until((c) => !!c.ready, "ready");
    t.close();
    const fresh = (await api(s.url, "GET", `/api/labs/${lab.id}/trace?since=${last}`, lab.token)).json as TraceEntry[];
    assert.ok(fresh.length > 0 && fresh.every((e) => e.seq > last && e.scope === "terminal:t1"), JSON.stringify(fresh.slice(0, 3)));
    for (const q of ["0", "-5", "abc", ""]) assert.equal(((await api(s.url, "GET", `/api/labs/${lab.id}/trace?since=${q}`, lab.token)).json as TraceEntry[]).length, all.length + fresh.length, `since=${q}: everything`);
  });

  test("a WebSocket without a token is refused with 401, terminal and explorer alike", async () => {
    const lab = await createLab(s.url);
    for (const kind of ["terminals", "explorer"]) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${s.url.replace("http", "ws")}/api/labs/${lab.id}/${kind}`);
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode!));
        ws.once("open", () => reject(new Error("opened without a token")));
      });
      assert.equal(status, 401, kind);
    }
  });
});
