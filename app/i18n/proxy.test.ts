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
  assert.match(setCookie({ "sec-fetch-dest": "document", "sec-fetch-mode": "navigate" }), /nslab-lang=en/);
  assert.match(setCookie({}), /nslab-lang=en/, "a client that sends no Sec-Fetch-Dest");
});

test("a background fetch of ?lang= (Next's prefetch, or the browser's speculation) leaves the language alone", () => {
  // what the proxy sees of Next's prefetch: Next has already stripped Next-Router-Prefetch and RSC
  assert.equal(setCookie({ "sec-fetch-dest": "empty", "sec-fetch-mode": "cors" }), "");
  assert.equal(setCookie({ "sec-fetch-dest": "document", "sec-purpose": "prefetch;prerender" }), "");
  assert.equal(setCookie({ purpose: "prefetch" }), "");
});

test("the same language again sets nothing", () => {
  const res = proxy(new NextRequest("http://nslab.test/?lang=zh-CN", { headers: { cookie: "nslab-lang=zh-CN" } }));
  assert.equal(res.headers.get("set-cookie"), null);
});
