/**
 * The lesson page's inline script (earlyLabScript), run as the browser runs it, in a context of its
 * own with a recording fetch and WebSocket: which request a first visit, a return visit, a stored
 * workshop code and a site without the socket that makes its lab (a cluster's web replica) send,
 * and what the page is handed when that socket answers or fails. The real sockets and pages are in
 * app/e2e/terminal.browser.test.ts and server/http/new-lab-socket.integration.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";
import { NEW_LAB_SOCKET } from "../../lib/protocol.ts";
import { CODE_KEY, earlyLabScript, labKey } from "./early-lab.ts";

class FakeSocket {
  static made: FakeSocket[] = [];
  binaryType = "blob";
  onmessage: ((m: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  close() {
    this.closed = true;
  }
}

function run(o: { stored?: Record<string, string>; newLabSocket?: boolean } = {}) {
  FakeSocket.made = [];
  const fetched: { path: string; method: string; body: string | null }[] = [];
  const w: Record<string, unknown> = {
    localStorage: { getItem: (k: string) => o.stored?.[k] ?? null },
    location: { protocol: "https:", host: "nslab.example" },
    fetch: (path: string, init: { method: string; body: string | null }) => {
      fetched.push({ path, method: init.method, body: init.body });
      return Promise.resolve(new Response(JSON.stringify({ id: "0123456789abcdef", token: "t".repeat(32) }), { status: 201 }));
    },
    WebSocket: FakeSocket,
    Response,
    JSON,
    Promise,
    setTimeout: () => 0,
    encodeURIComponent,
  };
  w.window = w;
  vm.runInNewContext(earlyLabScript("uts-namespaces", { newLabSocket: o.newLabSocket ?? true }), w);
  const early = w.__nslabEarlyLab as { method: string; path: string; body: string; res: Promise<Response> };
  return { w, early, fetched, sockets: FakeSocket.made };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

test("a first visit opens the socket that makes its lab, POSTs nothing, and hands its answer to the page as POST's Response", async () => {
  const { w, early, fetched, sockets } = await run();
  assert.deepEqual(fetched, []);
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0]!.url, `wss://nslab.example${NEW_LAB_SOCKET}?lesson=uts-namespaces&cols=80&rows=24`);
  // the page's useLab will ask POST /api/labs {lesson}: the answer is taken as that request's
  assert.deepEqual([early.method, early.path, early.body], ["POST", "/api/labs", JSON.stringify({ lesson: "uts-namespaces" })]);
  const lab = { id: "0123456789abcdef", token: "k".repeat(32), mode: "root", hostname: "lab-012345" };
  sockets[0]!.onmessage!({ data: JSON.stringify({ type: "lab", status: 201, body: lab }) });
  sockets[0]!.onmessage!({ data: JSON.stringify({ type: "ready", terminal: "t1" }) });
  const res = await early.res;
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), lab);
  const terminal = w.__nslabEarlyTerminal as { lab: string; queue: { data: string }[] };
  assert.equal(terminal.lab, lab.id, "the socket waits for the page's first terminal");
  assert.deepEqual([...terminal.queue].map((m) => JSON.parse(m.data).type), ["ready"], "what came after the answer is kept for it");
});

test("a refusal on that socket is handed over as POST's answer, with its Retry-After; no terminal waits", async () => {
  const { w, early, sockets } = await run();
  sockets[0]!.onmessage!({ data: JSON.stringify({ type: "lab", status: 429, body: { error: "rate_limited", message: "wait" }, retryAfter: "42" }) });
  const res = await early.res;
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "42");
  assert.equal(((await res.json()) as { error: string }).error, "rate_limited");
  assert.equal(w.__nslabEarlyTerminal, undefined);
});

test("where that socket fails before it answers, the script POSTs instead (once)", async () => {
  const { early, fetched, sockets } = await run();
  sockets[0]!.onerror!();
  sockets[0]!.onclose!();
  const res = await early.res;
  assert.equal(res.status, 201);
  assert.deepEqual(fetched, [{ path: "/api/labs", method: "POST", body: JSON.stringify({ lesson: "uts-namespaces" }) }]);
});

test("a site without that socket (a web replica), a stored code and a stored lab: the requests as before", async () => {
  const web = await run({ newLabSocket: false });
  assert.deepEqual(web.fetched.map((f) => f.method + " " + f.path), ["POST /api/labs"]);
  await web.early.res;
  await tick();
  assert.deepEqual(web.sockets.map((s) => s.url), ["wss://nslab.example/api/labs/0123456789abcdef/terminals?token=" + "t".repeat(32) + "&cols=80&rows=24"], "then the lab's first terminal");

  const coded = await run({ stored: { [CODE_KEY]: JSON.stringify("workshop-2026") } });
  assert.deepEqual(coded.fetched, [{ path: "/api/labs", method: "POST", body: JSON.stringify({ lesson: "uts-namespaces", code: "workshop-2026" }) }], "a workshop code goes in POST's body, never a URL");

  const back = await run({ stored: { [labKey("uts-namespaces")]: JSON.stringify({ id: "0123456789abcdef", token: "t".repeat(32) }) } });
  assert.deepEqual(back.fetched.map((f) => f.method + " " + f.path), ["GET /api/labs/0123456789abcdef"]);
  assert.equal(back.sockets.length, 0, "a return visit reattaches from the page");
});
