/**
 * The terminal WebSocket against real labs: protocol errors answered without dropping the
 * connection, reattach without duplicated output, flow control, limits, origins.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { FLOW_HIGH_WATER } from "../../lib/protocol.ts";
import { api, createLab, testServer, TermClient } from "../testing/harness.ts";

let s: Awaited<ReturnType<typeof testServer>>;
before(async () => {
  s = await testServer({ NSLAB_TERMINALS_PER_LAB: "3", NSLAB_LABS_PER_CLIENT: "12", NSLAB_GRACE_MS: "1500" });
});
after(async () => s.close());

const prompt = (t: TermClient) => t.until((c) => /[#$] $/.test(c.output), "prompt");

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The server's view of a terminal: attached to a client or not. */
async function attached(lab: { id: string; token: string }, tid: string): Promise<boolean | undefined> {
  const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  return (st.json.terminals as { id: string; attached: boolean }[]).find((x) => x.id === tid)?.attached;
}

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
  await until(async () => (await attached(lab, tid)) === false, "the server to notice the blip");
  const t2 = new TermClient(s.url, lab, `&terminal=${tid}&offset=${had}`);
  await t2.opened;
  await t2.until((c) => !!c.ready, "ready");
  assert.equal(t2.ready!.offset, had, "the replay starts exactly where the client stopped");
  assert.equal(t2.ready!.reset, false);
  await t2.until((c) => c.bytes >= c.ready!.replayed, "the replay");
  assert.doesNotMatch(t2.output, /first-42/, "what the client had is not sent again");
  assert.equal(await t2.run("echo second"), "second\n");
  t2.close();
  await until(async () => (await attached(lab, tid)) === false, "the server to see the client go");
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
  let pongs = 0;
  t.ws.on("message", (d, bin) => {
    if (bin) got += (d as Buffer).length;
    else if (JSON.parse(String(d)).type === "pong") pongs++;
  });
  /** Everything the server sent before this point has arrived (one ordered stream). */
  const barrier = async () => {
    const n = pongs;
    t.ws.send(JSON.stringify({ type: "ping", t: n }));
    await until(() => pongs > n, "a pong");
  };
  t.send("yes\r");
  // the event that shows the server stopped reading: yes blocks in write(2) on a full pty
  const handle = s.mgr.get(lab.id)!;
  const WRITE = process.arch === "arm64" ? 64 : 1;
  const blocked = async () => {
    for (const pid of await handle.hostPids()) {
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "yes") continue;
        const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1];
        if (state === "S" && Number(fs.readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0]) === WRITE) return true;
      } catch {}
    }
    return false;
  };
  await until(() => got > FLOW_HIGH_WATER, "the window's worth of output");
  await until(blocked, "yes to block on the full pty");
  await barrier();
  const stalled = got;
  assert.ok(stalled < FLOW_HIGH_WATER + 128 * 1024, `received ${stalled} bytes without acking`);
  assert.ok(await blocked(), "still blocked");
  await barrier();
  assert.equal(got, stalled, "no more output while nothing is acked");
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
  await until(() => /\^C[\s\S]*[#$] $/.test(text.slice(-2000)), "the prompt after Ctrl-C");
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
  for (let i = 0; i < 20; i++) {
    last = await api(s.url, "POST", "/api/labs", undefined, {});
    if (last.status !== 201) break;
    made.push(last.json);
  }
  assert.equal(last!.status, 429);
  assert.equal(last!.json.error, "too_many_labs");
  assert.match(last!.json.message, /labs open/);
  for (const l of made) await api(s.url, "DELETE", `/api/labs/${l.id}`, l.token);
});

test("after the grace period a detached terminal is closed; a reattach is told so and closed with 4404", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await prompt(t);
  const tid = t.ready!.terminal;
  t.close();
  // NSLAB_GRACE_MS: the event is the terminal's disposal, seen in the lab's status
  await until(async () => (await attached(lab, tid)) === undefined, "the grace period to end the terminal");
  const again = new TermClient(s.url, lab, `&terminal=${tid}&offset=0`);
  const code = new Promise<number>((r) => again.ws.once("close", (c) => r(c)));
  await again.opened;
  assert.equal(await code, 4404);
  assert.deepEqual(again.controls, [{ type: "closed", reason: "terminal-closed", message: "That terminal no longer exists." }]);
  const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.equal(st.json.terminals.length, 0);
});

test("a reattach to a terminal that never existed: closed with 4404, nothing opened", async () => {
  const lab = await createLab(s.url);
  // the lab's first shell starts with it (prestart): wait for it, so the list below cannot change by itself
  const terminals = async () => (await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token)).json.terminals;
  for (let i = 0; i < 500 && (await terminals()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const before = await terminals();
  for (const tid of ["t7", "t0", "bogus"]) {
    const c = new TermClient(s.url, lab, `&terminal=${tid}`);
    const code = new Promise<number>((r) => c.ws.once("close", (x) => r(x)));
    await c.opened;
    assert.equal(await code, 4404, tid);
  }
  assert.deepEqual(await terminals(), before, "no terminal opened, none attached");
});

test("when the shell exits, the client gets an exit message with its status; the lab's status shows it", async () => {
  const lab = await createLab(s.url);
  const t = new TermClient(s.url, lab);
  await t.opened;
  await prompt(t);
  const tid = t.ready!.terminal;
  t.send("exit 3\r");
  await t.until((c) => c.controls.some((m) => m.type === "exit"), "the exit message");
  assert.deepEqual(t.controls.find((m) => m.type === "exit"), { type: "exit", code: 3, signal: null });
  const st = await api(s.url, "GET", `/api/labs/${lab.id}`, lab.token);
  assert.deepEqual(st.json.terminals.find((x: { id: string }) => x.id === tid), { id: tid, attached: true, exited: true, exitCode: 3 });
  t.close();
});

test("input over the rate limit is dropped whole, with an input_rate error; the terminal goes on", async () => {
  const own = await testServer({ NSLAB_INPUT_RATE: "1K", NSLAB_INPUT_BURST: "4K" });
  try {
    const lab = await createLab(own.url);
    const t = new TermClient(own.url, lab);
    await t.opened;
    await prompt(t);
    // one frame bigger than the whole burst: it can never fit, whatever the clock says
    t.send(`echo flood-${"x".repeat(6000)}\r`);
    await t.until((c) => c.controls.some((m) => m.type === "error"), "the error frame");
    assert.deepEqual(t.controls.filter((m) => m.type === "error"), [{ type: "error", code: "input_rate", message: "Input is arriving faster than the terminal accepts; some was dropped." }]);
    assert.equal(await t.run("echo after"), "after\n", "small input still goes through");
    assert.doesNotMatch(t.output, /flood-/, "nothing of the dropped frame reached the shell");
    t.close();
  } finally {
    await own.close();
  }
});
