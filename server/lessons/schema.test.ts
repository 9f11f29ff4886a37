import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCatalog } from "./library.ts";
import { MAX_SCRIPT_BYTES, validateScript } from "./schema.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const rel = (p: string) => path.relative(process.cwd(), path.join(here, "fixtures", p));

/** Every error of the deliberately broken fixtures, in order: where, and what it says. */
const EXPECTED: [string, number, RegExp][] = [
  ["broken/03-broken", 1, /^the lesson has no zh-CN\.md/],
  ["broken/03-broken/en.md", 3, /^title must be a non-empty string$/],
  ["broken/03-broken/en.md", 4, /^summary must be a non-empty string$/],
  ["broken/03-broken/en.md", 5, /^order must be a whole number from 0 to 9999$/],
  ["broken/03-broken/en.md", 6, /^minutes must be a whole number from 1 to 600$/],
  ["broken/03-broken/en.md", 7, /^"nope" is not a namespace type/],
  ["broken/03-broken/en.md", 8, /^a lesson cannot be its own prerequisite$/],
  ["broken/03-broken/en.md", 8, /^prerequisite "alpha" is not a lesson/],
  ["broken/03-broken/en.md", 9, /^unknown frontmatter key "colour"/],
  ["broken/03-broken/en.md", 14, /^a check block in the introduction is never used/],
  ["broken/03-broken/en.md", 18, /^the step heading "No id here" must be followed by a line <!-- step: id -->$/],
  ["broken/03-broken/en.md", 18, /^step "No id here" has no check block$/],
  ["broken/03-broken/en.md", 18, /^step "No id here" has no solution block$/],
  ["broken/03-broken/en.md", 25, /^unknown code block "chek" \(did you mean "check"\?\)/],
  ["broken/03-broken/en.md", 29, /terminal must be a number from 1 to 8/],
  ["broken/03-broken/en.md", 33, /^the check script is empty/],
  ["broken/03-broken/en.md", 41, /^step "good" already has a solution block \(line 37\)/],
  ["broken/03-broken/en.md", 47, /^a hint block in a list is never used/],
  ["broken/03-broken/en.md", 51, /^step "good" has no check block$/],
  ["broken/03-broken/en.md", 52, /^step id "good" is already used by the step on line 22$/],
  ["broken/03-broken/en.md", 59, /^step id "Bad_Id" must be lowercase/],
  ["broken/03-broken/en.md", 69, /^the hint is empty$/],
  ["broken/03-broken/en.md", 72, /^a <!-- step: id --> or <!-- finish --> comment must come right after a ## heading/],
  ["broken/04-mismatch/zh-CN.md", 5, /^order differs from .*04-mismatch\/en\.md:5/],
  ["broken/04-mismatch/zh-CN.md", 16, /^this check differs from .*04-mismatch\/en\.md:16; scripts run from en\.md/],
  ["broken/04-mismatch/zh-CN.md", 24, /^the steps differ from .*: expected step 2 to be "b" as in .*en\.md:24, found "c"$/],
  ["broken/05-wrong-folder", 1, /^the lesson has no zh-CN\.md/],
  ["broken/05-wrong-folder/en.md", 2, /^id "right-id" must equal the folder name without its number \("wrong-folder"\)$/],
  ["broken/06-bad-yaml", 1, /^the lesson has no zh-CN\.md/],
  ["broken/06-bad-yaml/en.md", 4, /^frontmatter: Missing closing "quote/],
  ["broken/06-bad-yaml/en.md", 7, /^step "a" has no check block$/],
  ["broken/06-bad-yaml/en.md", 7, /^step "a" has no solution block$/],
  ["broken/07-no-frontmatter", 1, /^the lesson has no zh-CN\.md/],
  ["broken/07-no-frontmatter/en.md", 1, /^the file must start with a frontmatter block/],
  ["broken/07-no-frontmatter/en.md", 1, /^the lesson has no steps/],
  ["broken/08-cycle-a/en.md", 8, /^prerequisites form a cycle: cycle-a -> cycle-b -> cycle-a$/],
  ["broken/kc-broken/empty.sh", 1, /^the check script is empty/],
  ["broken/kc-broken/index.json", 4, /^time \(or nslab\.minutes\) must be a whole number/],
  ["broken/kc-broken/index.json", 5, /^unknown key "colour" in index\.json/],
  ["broken/kc-broken/index.json", 7, /^details\.intro\.text: the file "missing\.md" does not exist$/],
  ["broken/kc-broken/index.json", 9, /^unknown key "answer" in details\.steps\[0\]/],
  ["broken/kc-broken/index.json", 9, /^verify "\.\.\/outside\.sh" must be a path inside the scenario folder$/],
  ["broken/kc-broken/index.json", 12, /^details\.assets is not supported/],
  ["broken/kc-broken/index.json", 14, /^nslab\.order must be a whole number/],
  ["broken/kc-broken/index.json", 14, /^prerequisite "nope" is not a lesson/],
  ["broken/kc-broken/step2.md", 3, /^unknown action \{\{exce\}\}/],
  ["broken/kc-syntax/index.json", 3, /^index\.json is not valid JSON: expected a "key" here, found ","$/],
];

describe("the schema on broken lessons", () => {
  const { errors, lessons } = loadCatalog(path.join(here, "fixtures/broken"));

  test("reports every problem at its file and line", () => {
    const got = errors.map((e) => `${e.file}:${e.line}: ${e.message}`);
    assert.equal(errors.length, EXPECTED.length, `got:\n${got.join("\n")}`);
    EXPECTED.forEach(([file, line, re], i) => {
      const e = errors[i]!;
      assert.equal(`${e.file}:${e.line}`, `${rel(file)}:${line}`, `error ${i + 1}: ${got[i]}`);
      assert.match(e.message, re, `error ${i + 1}: ${got[i]}`);
    });
  });

  test("serves what is still usable: English when only the translation is wrong", () => {
    assert.deepEqual([...lessons.keys()].sort(), ["mismatch"], "lessons in a prerequisite cycle are left out");
    assert.deepEqual([...lessons.get("mismatch")!.byLang.keys()], ["en"]);
  });

  test("the good fixtures have no problem", () => {
    assert.deepEqual(loadCatalog(path.join(here, "fixtures/catalog")).errors, []);
  });
});

describe("script sanity", () => {
  const script = (text: string) => validateScript({ kind: "check", text, file: "f", line: 7 });
  test("a script must do something, fit the limit and hold no NUL", () => {
    assert.deepEqual(script("exit 0"), []);
    assert.match(script("  \n# just a comment\n")[0]!.message, /empty/);
    assert.equal(script("x".repeat(MAX_SCRIPT_BYTES - 1)).length, 0);
    const big = script("x".repeat(MAX_SCRIPT_BYTES));
    assert.deepEqual([big[0]!.line, /16384 bytes; scripts must be under 16384/.test(big[0]!.message)], [7, true]);
    assert.match(script("echo \0")[0]!.message, /NUL/);
  });
});
