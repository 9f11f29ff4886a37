import assert from "node:assert/strict";
import { test } from "node:test";
import { isPrintable, printable } from "./printable.ts";

test("control characters, escape sequences and bidi formatting become ?", () => {
  assert.equal(printable("\x1b[31mbash\x1b[0m"), "?[31mbash?[0m");
  assert.equal(printable("ba\u202Esh"), "ba?sh", "right-to-left override");
  for (const c of ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069"])
    assert.equal(printable(`a${c}b`), "a?b", `U+${c.charCodeAt(0).toString(16)}`);
  for (const c of ["\0", "\t", "\n", "\r", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u200b", "\ufeff"])
    assert.equal(printable(`a${c}b`), "a?b", `U+${c.charCodeAt(0).toString(16)}`);
});

test("ordinary text, other scripts and emoji are left as they are", () => {
  for (const s of ["bash", "unshare -fp --mount-proc bash", "/tmp/a b/ü", "命名空间", "שלום", "🐧 x"]) {
    assert.equal(printable(s), s);
    assert.ok(isPrintable(s));
  }
  assert.equal(isPrintable("a\u202eb"), false);
  assert.equal(isPrintable("a\u202eb"), false, "no regex state carried between calls");
});
