import assert from "node:assert/strict";
import { test } from "node:test";
import { isLabId, isLessonId, isStepId, isTerminalId, isToken } from "./ids.ts";

test("lesson and step ids: words of a-z and 0-9 joined by single dashes, at most 100 characters", () => {
  for (const ok of ["pid-namespaces", "a", "01-x", "step1", "a".repeat(100)]) assert.equal(isLessonId(ok), true, ok);
  for (const bad of ["", "-x", "x-", "a--b", "Pid", "a_b", "../etc", "a".repeat(101), 5, null, ["a"]]) assert.equal(isLessonId(bad), false, String(bad));
  assert.equal(isStepId, isLessonId);
});

test("lab, terminal and token rules", () => {
  assert.equal(isLabId("0123456789abcdef"), true);
  for (const bad of ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "../../etc/passwd", 1]) assert.equal(isLabId(bad), false, String(bad));
  for (const ok of ["t1", "t12"]) assert.equal(isTerminalId(ok), true, ok);
  for (const bad of ["t0", "t", "1", "T1", "t1x", "t01"]) assert.equal(isTerminalId(bad), false, bad);
  assert.equal(isToken("abc_DEF-123"), true);
  for (const bad of ["", "a b", "a".repeat(129), "tok=", null]) assert.equal(isToken(bad), false, String(bad));
});
