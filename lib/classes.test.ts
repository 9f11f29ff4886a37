import assert from "node:assert/strict";
import { test } from "node:test";
import { CODE_ALPHABET, cleanText, isCode, normalizeCode, parseLearnerMessage } from "./classes.ts";

test("join codes: no look-alikes in the alphabet; what people type is made canonical", () => {
  for (const pair of ["0O", "1I", "1L", "2Z", "5S", "8B", "UV", "OQ", "OD"]) {
    assert.ok([...pair].filter((c) => CODE_ALPHABET.includes(c)).length <= 1, `only one of ${pair}`);
  }
  assert.equal(normalizeCode(" acd-efg "), "ACDEFG");
  assert.equal(normalizeCode("o0q-l1i"), "DDD777");
  assert.ok(isCode("ACDEFG"));
  assert.ok(!isCode("ACDEF"));
  assert.ok(!isCode("ACDEFB"));
});

test("display names lose control characters, bidi overrides and extra space, and are cut", () => {
  assert.equal(cleanText("  Ada\x1b]0;owned\x07  Lovelace ", 40), "Ada ]0;owned Lovelace");
  assert.equal(cleanText("evil\u202Etxt.exe", 40), "evil txt.exe");
  assert.equal(cleanText("李雷".repeat(30), 40), "李雷".repeat(20));
  assert.equal(cleanText(42, 40), "");
});

test("learner messages are validated", () => {
  assert.deepEqual(parseLearnerMessage('{"type":"position","lesson":"uts-namespaces","step":null,"terminal":"t1"}'), {
    type: "position",
    lesson: "uts-namespaces",
    step: null,
    terminal: "t1",
  });
  assert.ok("error" in parseLearnerMessage('{"type":"position","lesson":"../x"}'));
  assert.ok("error" in parseLearnerMessage('{"type":"answer","kind":"root","allow":true}'));
  assert.ok("error" in parseLearnerMessage("x".repeat(3000)));
});
