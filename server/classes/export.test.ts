import assert from "node:assert/strict";
import { test } from "node:test";
import { csvField } from "./export.ts";
import { RateLimiter } from "./ratelimit.ts";

test("CSV fields: formulas become text, quotes and line breaks are quoted", () => {
  assert.equal(csvField("=1+1"), "'=1+1");
  assert.equal(csvField("+SUM(A1)"), "'+SUM(A1)");
  assert.equal(csvField("-2"), "'-2");
  assert.equal(csvField("@cmd"), "'@cmd");
  assert.equal(csvField("\t=x"), "'\t=x");
  assert.equal(csvField("＝1+1"), "'＝1+1");
  assert.equal(csvField('a "b", c'), '"a ""b"", c"');
  assert.equal(csvField("=a,b"), `"'=a,b"`);
  assert.equal(csvField(-2), "-2");
  assert.equal(csvField("Ada"), "Ada");
});

test("rate limiter: a burst, then the refill rate", () => {
  const r = new RateLimiter(3, 60);
  const t = 1_000_000;
  assert.deepEqual([r.take("a", t), r.take("a", t), r.take("a", t), r.take("a", t)], [true, true, true, false]);
  assert.equal(r.take("b", t), true, "per key");
  assert.equal(r.retryAfter("a", t), 1);
  assert.equal(r.take("a", t + 1000), true);
});
