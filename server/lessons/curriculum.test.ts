/**
 * The course as issue 13 asks for it: at least 16 nslab lessons, each in English and Chinese,
 * each with at least two predictions and at least one Explorer step, and no lesson left out of
 * the catalogue. (lessons.e2e.test.ts proves, in a fresh lab, that every check, observation and
 * highlight works; this test counts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { testConfig } from "../testing/instance.ts";
import { loadCatalog } from "./library.ts";

const dir = testConfig().lessonsDir;

const MIN_LESSONS = 16;

test(`at least ${MIN_LESSONS} nslab lessons, each in en and zh-CN with two predictions and an Explorer step`, () => {
  const c = loadCatalog(dir);
  assert.deepEqual(c.leftOut, [], `lessons left out: ${c.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join("; ")}`);
  const nslab = [...c.lessons.values()].filter((l) => l.byLang.get("en")?.meta.format === "nslab");
  assert.ok(nslab.length >= MIN_LESSONS, `${nslab.length} nslab lessons`);
  const short: string[] = [];
  for (const l of nslab) {
    const steps = [...l.steps.values()];
    const predictions = steps.reduce((n, s) => n + s.predictions.length, 0);
    const explores = steps.reduce((n, s) => n + s.explores.length, 0);
    const langs = [...l.byLang.keys()].sort();
    if (predictions < 2 || explores < 1 || langs.join(",") !== "en,zh-CN") short.push(`${l.id}: ${predictions} predictions, ${explores} explore steps, languages ${langs.join(",")}`);
  }
  assert.deepEqual(short, []);
});

test("lesson orders are unique and every prerequisite comes earlier", () => {
  const c = loadCatalog(dir);
  const metas = [...c.lessons.values()].map((l) => l.byLang.get("en")!.meta).filter((m) => m.format === "nslab");
  const order = new Map(metas.map((m) => [m.id, m.order]));
  assert.equal(new Set(metas.map((m) => m.order)).size, metas.length, "two lessons share an order");
  for (const m of metas) for (const p of m.prerequisites) assert.ok((order.get(p) ?? Infinity) < m.order, `${m.id} needs ${p}, which comes later`);
});
