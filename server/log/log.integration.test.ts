/**
 * The server's log, as a real server process writes it (debug level, everything it prints): JSON
 * lines with request ids, wrong codes and keys logged with the address, and no secret anywhere:
 * not a lab token (in bearer headers and in socket URLs), not a queue ticket, not the operator key,
 * not an access code, right or wrong, and for classes (create, join, lock, end: each logged) not a
 * join code, an instructor key or a learner key.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { WebSocket } from "ws";
import { api } from "../testing/harness.ts";
import { isolatedEnv, testConfig } from "../testing/instance.ts";

const REPO_ROOT = testConfig().root;

const CODE = "workshop-code-7781";
const WRONG = "guessed-code-1234";
const KEY = "operator-key-93f1c2aa71be4e0d";

test("a token, ticket, key or code never appears in the logs; request ids do", async () => {
  const proc = spawn(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "server/testing/api-server.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...isolatedEnv("logs"),
      NSLAB_LOG_LEVEL: "debug",
      NSLAB_ACCESS: "code",
      NSLAB_ACCESS_CODES: CODE,
      NSLAB_OPERATOR_KEY: KEY,
      NSLAB_MAX_LABS: "1",
      NSLAB_POOL: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise((r) => proc.once("exit", r));
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on("line", (l) => {
      try {
        const j = JSON.parse(l);
        if (j.url && !j.level) resolve(j.url);
      } catch {}
    });
    proc.once("exit", (c) => reject(new Error(`server exited ${c}:\n${out}`)));
  });
  const secrets: string[] = [CODE, WRONG, KEY];
  const requestIds: string[] = [];
  const call = async (method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const id = res.headers.get("x-request-id");
    if (id) requestIds.push(id);
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  try {
    assert.equal((await call("POST", "/api/labs", undefined, {})).status, 401, "code mode: no code");
    assert.equal((await call("POST", "/api/labs", undefined, { code: WRONG })).status, 403);
    const lab = await call("POST", "/api/labs", undefined, { code: CODE });
    assert.equal(lab.status, 201);
    secrets.push(lab.json.token);
    // the queue: the server holds one lab
    const q = await call("POST", "/api/labs", undefined, { code: CODE }, { "x-forwarded-for": "198.51.100.7" });
    assert.equal(q.status, 202);
    secrets.push(q.json.ticket);
    assert.equal((await call("GET", "/api/queue?wait=0", q.json.ticket)).json.position, 1);
    // the lab: bearer calls, a terminal socket with ?token=, a wrong token
    assert.equal((await call("GET", `/api/labs/${lab.json.id}`, lab.json.token)).status, 200);
    assert.equal((await call("POST", `/api/labs/${lab.json.id}/keepalive`, lab.json.token)).status, 200);
    assert.equal((await call("GET", `/api/labs/${lab.json.id}?token=${lab.json.token}`)).status, 200);
    assert.equal((await call("GET", `/api/labs/${lab.json.id}`, "A".repeat(16) + "b".repeat(16))).status, 404);
    const ws = new WebSocket(`${url.replace("http", "ws")}/api/labs/${lab.json.id}/terminals?token=${lab.json.token}`);
    await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
    ws.send(Buffer.from(`echo ${lab.json.token}\r`)); // the token typed into the shell, echoed back
    await new Promise((r) => setTimeout(r, 500));
    ws.close();
    // the operator: a wrong key, the right one, /metrics through a proxy with the key
    assert.equal((await call("GET", "/api/admin/labs", "wrong-operator-key-000")).status, 401);
    secrets.push("wrong-operator-key-000");
    const list = await call("GET", "/api/admin/labs", KEY);
    assert.equal(list.status, 200);
    assert.equal(list.json.list.length, 1);
    assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}`, "x-forwarded-for": "203.0.113.5" } })).status, 200);
    assert.equal((await call("DELETE", `/api/admin/labs/${lab.json.id}`, KEY)).status, 204);
    // the queued learner is served once the operator ended the lab
    let ready = await call("GET", "/api/queue?wait=0", q.json.ticket);
    for (let i = 0; i < 10 && (ready.json.state === "waiting" || ready.json.state === "starting"); i++) ready = await call("GET", `/api/queue?wait=10&seen=${ready.json.version}`, q.json.ticket);
    assert.equal(ready.json.state, "ready");
    secrets.push(ready.json.lab.token);
    const ended = await api(url, "GET", `/api/labs/${lab.json.id}`, lab.json.token);
    assert.deepEqual([ended.status, ended.json.reason], [410, "operator"]);

    // a class: made with the workshop code, joined with its own code, watched, locked, ended
    assert.equal((await call("DELETE", `/api/admin/labs/${ready.json.lab.id}`, KEY)).status, 204, "room for a class lab");
    const made = await call("POST", "/api/classes", undefined, { title: "Logged class", lessons: ["uts-namespaces"], accessCode: CODE });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const cls = made.json as { id: string; code: string; instructorKey: string };
    secrets.push(cls.instructorKey, cls.code);
    const joined = await call("POST", "/api/classes/join", undefined, { code: cls.code.toLowerCase(), name: "Ada" });
    assert.equal(joined.status, 201, JSON.stringify(joined.json));
    secrets.push(joined.json.key, joined.json.lab.token);
    for (const [p, token] of [[`learners/${joined.json.learnerId}/watch`, cls.instructorKey], ["broadcast", joined.json.key as string]] as const) {
      const w = new WebSocket(`${url.replace("http", "ws")}/api/classes/${cls.id}/${p}?token=${token}`);
      await new Promise((r, j) => (w.once("open", r), w.once("error", j)));
      w.close();
    }
    assert.equal((await call("GET", `/api/classes/${cls.id}`, cls.instructorKey)).status, 200);
    assert.equal((await call("PATCH", `/api/classes/${cls.id}`, cls.instructorKey, { locked: true, endsAt: Date.now() + 4 * 3600_000 })).status, 200);
    assert.equal((await call("DELETE", `/api/classes/${cls.id}?now=1`, cls.instructorKey)).status, 202);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    proc.kill("SIGTERM");
    await exited;
  }

  const lines = out.split("\n").filter(Boolean);
  assert.ok(lines.length > 20, `the server logged (${lines.length} lines)`);
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  });
  const notJson = lines.filter((_, i) => parsed[i] === null && !/^\{"url":/.test(lines[i]!));
  assert.deepEqual(notJson, [], "every line is JSON");
  for (const s of secrets) assert.equal(out.includes(s), false, `a secret (${s.slice(0, 4)}…) is in the log:\n${lines.filter((l) => l.includes(s)).join("\n")}`);
  for (const id of requestIds.slice(0, 5)) assert.ok(parsed.some((p) => p?.req === id), `request id ${id} is logged`);
  assert.ok(parsed.some((p) => p?.msg === "wrong access code" && p.ip), "a wrong code is logged, with the address");
  assert.ok(parsed.some((p) => p?.msg === "wrong operator key" && p.ip));
  assert.ok(parsed.some((p) => p?.msg === "request" && p.path?.startsWith("/api/labs/") && p.status === 200 && p.ms >= 0), "requests: path (no query), status, time");
  assert.ok(parsed.some((p) => p?.msg === "lab ended" && p.reason === "operator"));
  for (const msg of ["class created", "learner joined a class", "class locked", "class end moved", "class ending", "class ended"])
    assert.ok(parsed.some((p) => p?.msg === msg && typeof p.class === "string"), `"${msg}" is logged with the class id`);
});
