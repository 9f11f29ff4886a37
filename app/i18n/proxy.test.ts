/**
 * The language cookie follows what the learner chose, and only that: `?lang=` on a page they open
 * sets it; a prefetch of the language switch's other link does not (it used to, and a Chinese
 * learner's next page came out in English whenever the prefetch won the race).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NextRequest } from "next/server";
import { proxy } from "../../proxy.ts";

const setCookie = (headers: Record<string, string>) =>
  proxy(new NextRequest("http://nslab.test/?lang=en", { headers: { cookie: "nslab-lang=zh-CN", ...headers } })).headers.get("set-cookie") ?? "";

test("opening a page with ?lang= remembers that language", () => {
  assert.match(setCookie({}), /nslab-lang=en/);
});

test("a prefetch of ?lang= (Next's router, or the browser's speculation) leaves the language alone", () => {
  assert.equal(setCookie({ "next-router-prefetch": "1", rsc: "1" }), "");
  assert.equal(setCookie({ "sec-purpose": "prefetch;prerender" }), "");
  assert.equal(setCookie({ purpose: "prefetch" }), "");
});

test("the same language again sets nothing", () => {
  const res = proxy(new NextRequest("http://nslab.test/?lang=zh-CN", { headers: { cookie: "nslab-lang=zh-CN" } }));
  assert.equal(res.headers.get("set-cookie"), null);
});
