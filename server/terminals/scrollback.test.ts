import assert from "node:assert/strict";
import { test } from "node:test";
import { Scrollback } from "./scrollback.ts";
import { CommandMarks } from "./osc.ts";

test("scrollback replays exactly what a client lacks", () => {
  const s = new Scrollback(10);
  s.append(Buffer.from("hello "));
  s.append(Buffer.from("world"));
  assert.equal(s.end, 11);
  const r = s.since(6);
  assert.equal(r.data.toString(), "world");
  assert.equal(r.complete, true);
  assert.equal(s.since(11).data.length, 0);
});

test("scrollback drops the oldest bytes and says so", () => {
  const s = new Scrollback(8);
  for (let i = 0; i < 10; i++) s.append(Buffer.from(`chunk${i}|`));
  assert.ok(s.end - s.start <= 16);
  const r = s.since(0);
  assert.equal(r.complete, false);
  assert.equal(r.from, s.start);
  assert.ok(r.data.toString().endsWith("chunk9|"));
  // an offset from the future or garbage replays everything there is, marked incomplete
  assert.equal(s.since(10_000).complete, false);
  assert.equal(s.since(Number.NaN).complete, false);
});

test("a single huge chunk keeps only its tail", () => {
  const s = new Scrollback(4);
  s.append(Buffer.from("abcdefghij"));
  s.append(Buffer.from("k"));
  const r = s.since(0);
  assert.ok(r.data.toString().endsWith("k"));
  assert.ok(r.data.length <= 8);
  assert.equal(r.from + r.data.length, s.end);
});

test("command marks are found, also when split across chunks", () => {
  const m = new CommandMarks();
  assert.deepEqual(m.scan(Buffer.from("out\x1b]633;D;0\x07prompt")), [0]);
  assert.deepEqual(m.scan(Buffer.from("x\x1b]633;")), []);
  assert.deepEqual(m.scan(Buffer.from("D;127\x07")), [127]);
  assert.deepEqual(m.scan(Buffer.from("\x1b]633;D;1\x07\x1b]633;D;2\x07")), [1, 2]);
});
