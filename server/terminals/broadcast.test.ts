import assert from "node:assert/strict";
import { test } from "node:test";
import headlessPkg from "@xterm/headless";
import type { StreamMessage } from "../../lib/classes.ts";
import { DEFAULT_STREAM_OPTIONS, TerminalStream, type StreamSource, type StreamViewer } from "./broadcast.ts";
import type { TerminalObserver } from "./terminal.ts";

const { Terminal: Headless } = headlessPkg;

/** A terminal's output side, driven by the test (the real Terminal implements the same). */
class Source implements StreamSource {
  cols = 80;
  rows = 24;
  log: Buffer[] = [];
  observers = new Set<TerminalObserver>();
  observe(o: TerminalObserver) {
    this.observers.add(o);
    return () => this.observers.delete(o);
  }
  recent(max: number) {
    const all = Buffer.concat(this.log);
    return all.subarray(Math.max(0, all.length - max));
  }
  emit(text: string | Buffer) {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
    this.log.push(b);
    for (const o of this.observers) o.output(b);
  }
}

/** A viewer that renders what it gets into its own terminal, as a browser would. */
class Viewer implements StreamViewer {
  term = new Headless({ cols: 80, rows: 24, allowProposedApi: true });
  controls: StreamMessage[] = [];
  bytes = 0;
  backlog = 0; // pretend this many bytes wait in the socket
  sendData(d: Buffer) {
    this.bytes += d.length;
    this.term.write(d);
  }
  sendControl(m: StreamMessage) {
    this.controls.push(m);
    if (m.type === "reset") {
      this.term.reset();
      this.term.resize(m.cols, m.rows);
    } else if (m.type === "resize") this.term.resize(m.cols, m.rows);
  }
  buffered() {
    return this.backlog;
  }
  async screen(): Promise<string> {
    await new Promise<void>((r) => this.term.write("", r));
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n").trimEnd();
  }
}

/** Waits until `pred` holds (the stream's checks run on its own timers): never a fixed sleep, so load cannot make it flaky. */
async function until(pred: () => boolean, what: string, ms = 20_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function modelScreen(s: TerminalStream) {
  await s.idle();
  return s.screenText();
}

test("a late viewer gets the current screen at once, then exactly the live output", async () => {
  const src = new Source();
  src.emit("\x1b[1mbold\x1b[0m before anyone watched\r\n$ ");
  const stream = new TerminalStream(src);
  const early = new Viewer();
  stream.add(early);
  src.emit("ls\r\n\x1b[34mdir\x1b[0m  file\r\n$ ");
  await stream.idle();
  const late = new Viewer();
  stream.add(late); // joins while output keeps coming
  src.emit("echo hi\r\nhi\r\n$ ");
  src.emit("\x1b[2J\x1b[Hcleared screen\r\n$ ");
  const want = await modelScreen(stream);
  assert.match(want, /cleared screen/);
  assert.equal(await early.screen(), want);
  assert.equal(await late.screen(), want);
  assert.deepEqual(late.controls[0], { type: "reset", cols: 80, rows: 24, reason: "join" });
  stream.dispose();
});

test("a viewer that does not read is skipped and later resynchronised; the others get every byte", async () => {
  const src = new Source();
  const stream = new TerminalStream(src, { ...DEFAULT_STREAM_OPTIONS, maxQueueBytes: 1000 });
  const good = new Viewer();
  const stuck = new Viewer();
  stream.add(good);
  stream.add(stuck);
  await stream.idle();
  stuck.backlog = 10_000; // its socket is full
  const before = stuck.bytes;
  for (let i = 0; i < 50; i++) src.emit(`line ${i}\r\n`);
  await stream.idle();
  assert.equal(stuck.bytes, before, "nothing is queued for a viewer that is behind");
  assert.match(await good.screen(), /line 49/);
  stuck.backlog = 0; // it drained
  await until(() => stuck.controls.filter((c) => c.type === "reset").length === 2, "the stuck viewer resynchronised");
  await stream.idle();
  assert.equal(stuck.controls.at(-1)?.type, "reset");
  assert.deepEqual(stuck.controls.filter((c) => c.type === "reset").map((c) => (c as { reason: string }).reason), ["join", "behind"]);
  assert.equal(await stuck.screen(), await modelScreen(stream));
  stream.dispose();
});

test("output over the stream's rate is dropped, then everyone gets a fresh screen", async () => {
  const src = new Source();
  const stream = new TerminalStream(src, { ...DEFAULT_STREAM_OPTIONS, bytesPerSec: 20_000, burstBytes: 10_000 });
  const v = new Viewer();
  stream.add(v);
  await stream.idle();
  for (let i = 0; i < 400; i++) src.emit(`flood ${i} ${"x".repeat(50)}\r\n`);
  assert.ok(stream.stats.dropped > 0);
  assert.ok(v.bytes < 25_000, `relayed ${v.bytes} bytes of a flood over the rate`);
  src.emit("after the flood\r\n");
  await until(() => v.controls.some((c) => c.type === "reset" && c.reason === "rate"), "a fresh screen after the flood");
  await stream.idle();
  assert.ok(v.controls.some((c) => c.type === "reset" && c.reason === "rate"));
  const screen = await v.screen();
  assert.match(screen, /flood 399/);
  stream.dispose();
});

test("the model and the viewers follow the source's size, capped", async () => {
  const src = new Source();
  src.cols = 500;
  src.rows = 300;
  const stream = new TerminalStream(src);
  const v = new Viewer();
  stream.add(v);
  await stream.idle();
  assert.deepEqual(v.controls[0], { type: "reset", cols: 200, rows: 60, reason: "join" });
  for (const o of src.observers) o.resize(100, 30);
  assert.deepEqual(v.controls.at(-1), { type: "resize", cols: 100, rows: 30 });
  stream.dispose();
});
