import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ExecResult } from "../labs/types.ts";
import { LessonLibrary } from "../lessons/library.ts";
import { LessonRunner } from "../lessons/runner.ts";
import { fakeLab } from "../testing/fakelab.ts";
import { lessonRoutes } from "./lessons.ts";
import { Router } from "./router.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const lessons = new LessonLibrary(path.join(here, "../lessons/fixtures/catalog"));

/** What the fake lab's scripts do; tests replace it. */
let behaviour: (script: string) => Partial<ExecResult> | Promise<Partial<ExecResult>> = () => ({});
const lab = fakeLab((s) => behaviour(s));
let base = "";
let server: http.Server;

before(async () => {
  const router = new Router();
  lessonRoutes(router, {
    lessons,
    runner: new LessonRunner(lessons),
    // the real token lookup, busy queue and time limits: api.integration.test.ts
    labFor: () => lab,
  });
  server = http.createServer((req, res) => void router.handle(req, res, "127.0.0.1"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function call(method: string, p: string, body?: unknown) {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: "Bearer t", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("GET /api/lessons", () => {
  test("the catalogue, sorted by order, in a language", async () => {
    const r = await call("GET", "/api/lessons");
    assert.equal(r.status, 200);
    assert.deepEqual((r.json as unknown as { id: string }[]).map((m) => m.id), ["alpha", "gamma"]);
    const zh = await call("GET", "/api/lessons?lang=zh-CN");
    assert.equal((zh.json as unknown as { title: string }[])[0]!.title, "Alpha：测试课程");
  });

  test("a bad lang is a 400", async () => {
    for (const q of ["?lang=fr", "?lang=EN", "?lang=en&lang=zh-CN", "?lang="]) {
      const r = await call("GET", `/api/lessons${q}`);
      assert.deepEqual([r.status, r.json.error], [400, "bad_request"], q);
    }
  });
});

describe("GET /api/lessons/:id", () => {
  test("a lesson, falling back to English", async () => {
    const r = await call("GET", "/api/lessons/alpha?lang=zh-CN");
    assert.deepEqual([r.status, r.json.lang, (r.json.meta as { id: string }).id], [200, "zh-CN", "alpha"]);
    const g = await call("GET", "/api/lessons/gamma?lang=zh-CN");
    assert.deepEqual([g.status, g.json.lang], [200, "en"]);
    assert.equal(JSON.stringify(r.json).includes("/root/setup-log"), false, "scripts stay on the server");
  });

  test("unknown lessons are 404, bad languages 400", async () => {
    for (const id of ["nope", "ALPHA", "..%2F..%2Fetc", "a".repeat(101)]) {
      const r = await call("GET", `/api/lessons/${id}`);
      assert.deepEqual([r.status, r.json.error], [404, "unknown_lesson"], id);
    }
    assert.equal((await call("GET", "/api/lessons/alpha?lang=de")).status, 400);
  });
});

describe("POST /api/labs/:id/check and /solve", () => {
  const check = (body: unknown) => call("POST", `/api/labs/${lab.id}/check`, body);

  test("runs the check in the lab", async () => {
    behaviour = (s) => (s.startsWith("test -f") ? { code: 1, stdout: "Create /root/first.\n" } : {});
    const r = await check({ lesson: "alpha", step: "first" });
    assert.deepEqual([r.status, r.json], [200, { passed: false, feedback: "Create /root/first." }]);
  });

  test("solve runs the solution, then the check", async () => {
    let solved = false;
    behaviour = (s) => {
      if (s === "touch /root/first") return (solved = true), { code: 0, stdout: "made it\n" };
      return solved ? { code: 0, stdout: "Yes: found it.\n" } : { code: 1 };
    };
    const r = await call("POST", `/api/labs/${lab.id}/solve`, { lesson: "alpha", step: "first" });
    assert.deepEqual([r.status, r.json], [200, { passed: true, feedback: "Yes: found it.", output: "made it\n" }]);
  });

  test("hostile bodies are 400 with a clear message", async () => {
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      ["null", /JSON object/],
      ['"alpha"', /JSON object/],
      [{}, /lesson is missing/],
      [{ lesson: "alpha" }, /step is missing/],
      [{ lesson: "alpha", step: "first", extra: 1 }, /Unknown field "extra"/],
      [{ lesson: 5, step: "first" }, /lesson must be an id/],
      [{ lesson: "alpha", step: "First" }, /step must be an id/],
      [{ lesson: "alpha", step: "" }, /step must be an id/],
      [{ lesson: "alpha", step: "x".repeat(101) }, /step must be an id/],
      [{ lesson: "../etc", step: "first" }, /lesson must be an id/],
      [{ lesson: ["alpha"], step: "first" }, /lesson must be an id/],
    ];
    for (const [body, re] of cases) {
      const r = await check(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error, "bad_request");
      assert.match(String(r.json.message), re, JSON.stringify(body));
    }
    const notJson = await fetch(`${base}/api/labs/${lab.id}/check`, { method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body: "{" });
    assert.equal(notJson.status, 400);
  });

  test("unknown lessons, steps and missing solutions are 404s", async () => {
    behaviour = () => ({});
    const expect = async (p: string, body: unknown, code: string) => {
      const r = await call("POST", p, body);
      assert.deepEqual([r.status, r.json.error], [404, code], JSON.stringify(body));
    };
    await expect(`/api/labs/${lab.id}/check`, { lesson: "nope", step: "first" }, "unknown_lesson");
    await expect(`/api/labs/${lab.id}/check`, { lesson: "alpha", step: "nope" }, "unknown_step");
    await expect(`/api/labs/${lab.id}/solve`, { lesson: "gamma", step: "step2" }, "no_solution");
  });
});

describe("the widget routes: check with lang and answer, observe, highlight", () => {
  let base = "";
  let server: http.Server;
  let behaviour: (script: string) => Partial<ExecResult> = () => ({});
  const lab = fakeLab((s) => behaviour(s));
  before(async () => {
    const library = new LessonLibrary(path.join(here, "../lessons/fixtures/widgets"));
    const router = new Router();
    lessonRoutes(router, { lessons: library, runner: new LessonRunner(library), labFor: () => lab });
    server = http.createServer((req, res) => void router.handle(req, res, "127.0.0.1"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${base}/api/labs/${lab.id}/${p}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  test("check passes the language and the answer on", async () => {
    behaviour = () => ({ code: 0, stdout: "对。\n" });
    const r = await post("check", { lesson: "widgets", step: "explore", lang: "zh-CN", answer: "4026531838" });
    assert.deepEqual([r.status, r.json], [200, { passed: true, feedback: "对。" }]);
    assert.match(lab.preludes.at(-1)!, /^NSLAB_LANG=zh-CN;.* NSLAB_ANSWER='4026531838';/);
  });

  test("solve hands the solution's last line to the check as the answer", async () => {
    behaviour = (s) => (s.startsWith("stat") ? { code: 0, stdout: "4026531838\n" } : { code: 0, stdout: "Right.\n" });
    const r = await post("solve", { lesson: "widgets", step: "explore", lang: "en" });
    assert.deepEqual([r.status, r.json], [200, { passed: true, feedback: "Right.", output: "4026531838\n" }]);
    assert.match(lab.preludes.at(-1)!, /NSLAB_ANSWER='4026531838'/);
  });

  test("observe and highlight", async () => {
    behaviour = () => ({ code: 0, stdout: "2\n它打印出实验环境的名字。\n" });
    assert.deepEqual((await post("observe", { lesson: "widgets", step: "predict", index: 0, lang: "zh-CN" })).json, { observed: true, answer: "2", text: "它打印出实验环境的名字。" });
    behaviour = () => ({ code: 0, stdout: "pid 1\n" });
    assert.deepEqual((await post("highlight", { lesson: "widgets", step: "explore", index: 0 })).json, { found: true, message: "", targets: [{ kind: "pid", pid: 1 }] });
    const none = await post("highlight", { lesson: "widgets", step: "explore", index: 3 });
    assert.deepEqual([none.status, none.json.error], [404, "unknown_widget"]);
  });

  test("hostile fields are 400s", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["check", { lesson: "widgets", step: "explore", lang: "fr" }, /lang must be one of en, zh-CN/],
      ["check", { lesson: "widgets", step: "explore", answer: 5 }, /answer must be text/],
      ["check", { lesson: "widgets", step: "explore", answer: "x".repeat(201) }, /at most 200 characters/],
      ["check", { lesson: "widgets", step: "explore", answer: "a\nb" }, /on one line/],
      ["check", { lesson: "widgets", step: "explore", index: 0 }, /Unknown field "index"/],
      ["solve", { lesson: "widgets", step: "explore", answer: "1" }, /Unknown field "answer"/],
      ["observe", { lesson: "widgets", step: "predict", index: -1 }, /index must be a whole number/],
      ["observe", { lesson: "widgets", step: "predict", index: 1.5 }, /index must be a whole number/],
      ["highlight", { lesson: "widgets", step: "explore", index: "0" }, /index must be a whole number/],
    ];
    for (const [p, body, re] of cases) {
      const r = await post(p, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(String(r.json.message), re, JSON.stringify(body));
    }
  });
});
