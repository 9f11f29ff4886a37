/**
 * The terminal WebSocket against real labs: protocol errors answered without dropping the
 * connection, reattach without duplicated output, flow control, limits, origins.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_TERMINALS_PER_LAB: "3", NSLAB_LABS_PER_CLIENT: "6", NSLAB_GRACE_MS: "1500" });
});
after(async () => s.close());

const prompt = (t: TermClient) => t.until((c) => /[#$] $/.test(c.output), "prompt");

test("bad control messages get an error frame and the terminal keeps working", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await prompt(t);
  for (const bad of ["{", "[]", '{"type":"nope"}', '{"type":"resize","cols":0,"rows":0}', '{"type":"resize","cols":100000,"rows":100000}', '{"type":"resize","cols":-5,"rows":10}', '{"type":"ack","bytes":"x"}']) {
    const n = t.controls.length;
    t.control(bad);
    await t.until((c) => c.controls.length > n, `error for ${bad}`);
    assert.equal(t.controls.at(-1)!.type, "error", bad);
  }
  t.control({ type: "resize", cols: 123, rows: 45 });
  assert.equal((await t.run("stty size")).trim(), "45 123");
  t.close();
});

test("a reattach replays only what the client lacks, and a reload gets the whole scrollback", async () => {
  const lab = await createLab(s.url);
  const t1 = new TermClient(s.url, lab);
  await t1.opened;
  await prompt(t1);
  await t1.run("echo first-$((6*7))");
  const tid = t1.ready!.terminal;
  const had = t1.bytes;
  t1.ws.terminate(); // a network blip
  await new Promise((r) => setTimeout(r, 100));
  const t2 = new TermClient(s.url, lab, `&terminal=${tid}&offset=${had}`);
  await t2.opened;
  await t2.until((c) => !!c.ready, "ready");
  assert.equal(t2.ready!.offset, had, "the replay starts exactly where the client stopped");
  assert.equal(t2.ready!.reset, false);
  await t2.until((c) => c.bytes >= c.ready!.replayed, "the replay");
  assert.doesNotMatch(t2.output, /first-42/, "what the client had is not sent again");
  assert.equal(await t2.run("echo second"), "second\n");
  t2.close();
  await new Promise((r) => setTimeout(r, 100));
  const t3 = new TermClient(s.url, lab, `&terminal=${tid}&offset=0`);
  await t3.opened;
  await t3.until((c) => c.output.includes("second"), "replayed scrollback");
  assert.ok(t3.output.includes("first-42"));
  assert.equal(t3.output.split("first-42").length - 1, 1, "the output once: nothing duplicated");
  assert.equal((await t3.run("history | grep -c 'echo second'")).trim(), "2", "same shell, with its history");
  t3.close();
});

test("only one client drives a terminal at a time", async () => {
  const lab = await createLab(s.url);
  const a = new TermClient(s.url, lab);
  await a.opened;
  await prompt(a);
  const b = new TermClient(s.url, lab, `&terminal=${a.ready!.terminal}&offset=${a.bytes}`);
  await b.opened;
  await new Promise<void>((r) => a.ws.once("close", () => r()));
  assert.equal(await b.run("echo b-drives"), "b-drives\n");
  b.close();
});

test("a stalled client stops the pty being read; Ctrl-C gets through at once", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await prompt(t);
  // stop acking: the server must stop after ~FLOW_HIGH_WATER unacked bytes
  t.ws.removeAllListeners("message");
  let got = 0;
  t.ws.on("message", (d, bin) => {
    if (bin) got += (d as Buffer).length;
  });
  t.send("yes\r");
  await new Promise((r) => setTimeout(r, 1500));
  const stalled = got;
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(stalled < 400_000, `received ${stalled} bytes without acking`);
  assert.ok(got - stalled < 70_000, "no more output while nothing is acked");
  // acking resumes the flow; Ctrl-C stops yes
  t.ws.send(JSON.stringify({ type: "ack", bytes: got }));
  t.send("\x03");
  let text = "";
  t.ws.on("message", (d, bin) => {
    if (bin) {
      text += (d as Buffer).toString();
      t.ws.send(JSON.stringify({ type: "ack", bytes: (d as Buffer).length }));
    }
  });
  const deadline = Date.now() + 5000;
  while (!/\^C[\s\S]*[#$] $/.test(text.slice(-2000)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(text.slice(-2000), /[#$] $/, "the prompt is back after Ctrl-C");
  t.close();
});

test("limits: terminals per lab, labs per client, frame size, origin, token", async () => {
  const lab = await createLab(s.url);
  const ts = [new TermClient(s.url, lab), new TermClient(s.url, lab), new TermClient(s.url, lab)];
  await Promise.all(ts.map((t) => t.opened));
  const extra = new TermClient(s.url, lab);
  await extra.opened;
  await extra.until((c) => c.controls.some((m) => m.type === "error"), "too many terminals");
  assert.equal((extra.controls.find((m) => m.type === "error") as { code: string }).code, "too_many_terminals");
  await Promise.all(ts.map((t) => t.until((c) => !!c.ready, "ready")));
  const tid = ts[0]!.ready!.terminal;
  for (const t of ts) t.close();

  const big = new TermClient(s.url, lab, `&terminal=${tid}`);
  await big.opened;
  const closed = new Promise<number>((r) => big.ws.once("close", (code) => r(code)));
  big.ws.send(Buffer.alloc(s.config.maxFrameBytes + 1), { binary: true });
  assert.equal(await closed, 1009, "an oversized frame closes that socket (1009), nothing else");

  await assert.rejects(new TermClient(s.url, lab, "", "https://evil.example").opened, /403/);
  await assert.rejects(new TermClient(s.url, { ...lab, token: "x".repeat(32) }).opened, /404/);
  const sameOrigin = new TermClient(s.url, lab, `&terminal=${tid}`, s.url);
  await sameOrigin.opened;
  sameOrigin.close();

  const made = [];
  let last;
  for (let i = 0; i < 8; i++) {
    last = await api(s.url, "POST", "/api/labs", undefined, {});
    if (last.status !== 201) break;
    made.push(last.json);
  }
  assert.equal(last!.status, 429);
  assert.equal(last!.json.error, "too_many_labs");
  assert.match(last!.json.message, /labs open/);
  for (const l of made) await api(s.url, "DELETE", `/api/labs/${l.id}`, l.token);
});

test("after the grace period a detached terminal is closed and says so", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await prompt(t);
  const tid = t.ready!.terminal;
  t.close();
  await new Promise((r) => setTimeout(r, 2200));
  const again = new TermClient(s.url, lab, `&terminal=${tid}&offset=0`);
  await again.opened;
  await again.until((c) => c.controls.some((m) => m.type === "closed"), "closed message");
  const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.equal(st.json.terminals.length, 0);
});
