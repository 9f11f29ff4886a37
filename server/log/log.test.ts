import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, scrub } from "./log.ts";

const TOKEN = "q3Xr0vYHc2m-8kLw_uTzA9bNfE4pJs1D"; // 24 random bytes in base64url, as nslab makes them

test("scrub: token parameters, bearer headers and token-shaped strings; not lab ids or words", () => {
  assert.equal(scrub(`/api/labs/0123456789abcdef/terminals?token=${TOKEN}&cols=80`), "/api/labs/0123456789abcdef/terminals?token=[redacted]&cols=80");
  assert.equal(scrub(`Authorization: Bearer ${TOKEN}`), "Authorization: Bearer [redacted]");
  assert.equal(scrub(`echo ${TOKEN}`), "echo [redacted]");
  assert.equal(scrub("code=linux-2026 ok"), "code=[redacted] ok");
  assert.equal(scrub("lab 0123456789abcdef ended"), "lab 0123456789abcdef ended");
  assert.equal(scrub("abcdefghijklmnopqrstuvwxyzabcdef"), "abcdefghijklmnopqrstuvwxyzabcdef", "one case only: a word, not a token");
});

test("the logger scrubs messages and fields, and redacts secret-named fields", () => {
  let out = "";
  const sink = new Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  const log = createLogger({ level: "debug", destination: sink });
  log.info({ url: `/x?token=${TOKEN}`, token: "plain", nested: { authorization: "Bearer abc", note: `t ${TOKEN}` } }, `hello %s`, TOKEN);
  log.error({ err: new Error(`failed with ${TOKEN}`) }, "boom");
  assert.equal(out.includes(TOKEN), false, out);
  const [a, b] = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(a.msg, "hello [redacted]");
  assert.equal(a.token, "[redacted]");
  assert.equal(a.nested.authorization, "[redacted]");
  assert.equal(a.level, "info");
  assert.match(b.err.message, /failed with \[redacted\]/);
});
