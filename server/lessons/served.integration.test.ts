/**
 * Through the real server and real labs: with a broken lesson folder beside good ones, the good
 * ones are served and run, and a Killercoda scenario with only title, details and backend runs
 * (its lab is made, its check fails, its solution makes the check pass).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { api, testServer } from "../testing/harness.ts";

const mixed = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/mixed");

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_LESSONS_DIR: mixed });
});
after(async () => {
  await s?.close();
});

test("the catalogue lists the good lessons only", async () => {
  const r = await api(s.url, "GET", "/api/lessons");
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.map((m: { id: string }) => m.id), ["good", "kc-minimal"]);
  assert.equal((await api(s.url, "GET", "/api/lessons/broken")).status, 404);
  assert.equal((await api(s.url, "POST", "/api/labs", undefined, { lesson: "broken" })).status, 400);
});

for (const [lesson, step] of [["good", "name"], ["kc-minimal", "step1"]] as const) {
  test(`${lesson}: a lab for it runs, its check fails, then passes after its solution`, async () => {
    const lab = await api(s.url, "POST", "/api/labs", undefined, { lesson });
    assert.equal(lab.status, 201, JSON.stringify(lab.json));
    try {
      const before = await api(s.url, "POST", `/api/labs/${lab.json.id}/check`, lab.json.token, { lesson, step });
      assert.deepEqual([before.status, before.json.passed], [200, false]);
      const solved = await api(s.url, "POST", `/api/labs/${lab.json.id}/solve`, lab.json.token, { lesson, step });
      assert.deepEqual([solved.status, solved.json.passed], [200, true], JSON.stringify(solved.json));
    } finally {
      await api(s.url, "DELETE", `/api/labs/${lab.json.id}`, lab.json.token);
    }
  });
}
