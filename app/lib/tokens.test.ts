/** Token splitting for line breaks: between tokens, and inside long ones only at segment ends. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { segments, splitTokens } from "./tokens.ts";

test("tokens and spaces, in order, losing nothing", () => {
  const s = "unshare --fork --pid  --mount-proc\n  bash";
  const parts = splitTokens(s);
  assert.equal(parts.map((p) => p.text).join(""), s);
  assert.deepEqual(parts.filter((p) => !p.space).map((p) => p.text), ["unshare", "--fork", "--pid", "--mount-proc", "bash"]);
});

test("short tokens never break; long ones only after / | , =", () => {
  assert.deepEqual(segments("--mount-proc"), ["--mount-proc"]);
  assert.deepEqual(segments("/sys/fs/cgroup/pids/nslab/x/cgroup.procs"), ["/", "sys/", "fs/", "cgroup/", "pids/", "nslab/", "x/", "cgroup.procs"]);
  assert.deepEqual(segments("CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNS"), ["CLONE_NEWUSER|", "CLONE_NEWPID|", "CLONE_NEWNS"]);
  assert.equal(segments("a-very-long-token-without-any-slash-in-it").length, 1);
});
