import assert from "node:assert/strict";
import { test } from "node:test";
import { EXPLORER_MAX_MOUNT_PIDS, parseClientControl, parseExplorerClientMessage, parseFrameObject } from "./protocol.ts";

test("a client frame must be short, JSON, and an object", () => {
  assert.deepEqual(parseFrameObject('{"a":1}', 100), { ok: true, value: { a: 1 } });
  assert.deepEqual(parseFrameObject("x".repeat(101), 100), { ok: false, error: "message too long" });
  assert.deepEqual(parseFrameObject("{", 100, "control message"), { ok: false, error: "control message is not valid JSON" });
  for (const t of ["[]", "null", "5", '"s"']) assert.deepEqual(parseFrameObject(t, 100), { ok: false, error: "message must be an object" }, t);
});

test("explorer client messages: the pids to follow, at most EXPLORER_MAX_MOUNT_PIDS", () => {
  assert.deepEqual(parseExplorerClientMessage('{"type":"mounts","pid":42}'), { pids: [42] });
  assert.deepEqual(parseExplorerClientMessage('{"type":"mounts","pid":null}'), { pids: [] });
  assert.deepEqual(parseExplorerClientMessage('{"type":"mounts","pids":[1,2]}'), { pids: [1, 2] });
  const many = JSON.stringify({ type: "mounts", pids: Array.from({ length: EXPLORER_MAX_MOUNT_PIDS + 1 }, (_, i) => i + 1) });
  for (const bad of [many, '{"type":"mounts","pid":"x"}', '{"type":"mounts","pid":0}', '{"type":"nope"}', "{", "x".repeat(5000)])
    assert.ok("error" in parseExplorerClientMessage(bad), bad.slice(0, 60));
});

test("terminal control messages", () => {
  assert.deepEqual(parseClientControl('{"type":"resize","cols":80,"rows":24}'), { type: "resize", cols: 80, rows: 24 });
  assert.deepEqual(parseClientControl('{"type":"ack","bytes":10}'), { type: "ack", bytes: 10 });
  for (const bad of ['{"type":"resize","cols":1,"rows":24}', '{"type":"ack","bytes":-1}', '{"type":"x"}', "[]"]) assert.ok("error" in parseClientControl(bad), bad);
});
