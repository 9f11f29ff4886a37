import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseInfo } from "./codeinfo.ts";
import { codeBlockHtml } from "./markdown.ts";
import { parseLessonFile } from "./parse.ts";
import { validateFile } from "./schema.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const alphaFile = path.join(here, "fixtures/catalog/01-alpha/en.md");
const alpha = () => parseLessonFile(fs.readFileSync(alphaFile, "utf8"), { file: "alpha/en.md", folder: "01-alpha", lang: "en" });

describe("parseLessonFile", () => {
  test("reads frontmatter fields with their lines", () => {
    const raw = alpha();
    assert.deepEqual(raw.errors, []);
    assert.deepEqual(Object.fromEntries([...raw.meta].map(([k, f]) => [k, f.line])), {
      id: 2, title: 3, summary: 4, order: 5, minutes: 6, namespaces: 7, prerequisites: 8,
    });
    assert.equal(raw.meta.get("title")!.value, "Alpha: a test lesson");
    assert.deepEqual(raw.meta.get("namespaces")!.value, ["uts", "pid"]);
    assert.deepEqual(validateFile(raw), []);
  });

  test("splits steps at ## headings with their ids, titles and lines", () => {
    const raw = alpha();
    assert.deepEqual(raw.steps.map((s) => [s.id, s.title, s.line]), [["first", "First step", 19], ["second", "Second", 61]]);
  });

  test("takes scripts and hints out of the text, keeping their lines", () => {
    const [first, second] = alpha().steps;
    assert.deepEqual(first!.checks.map((s) => [s.kind, s.line]), [["check", 40]]);
    assert.match(first!.checks[0]!.text, /^test -f \/root\/first/);
    assert.deepEqual(first!.solutions.map((s) => [s.text, s.line]), [["touch /root/first", 57]]);
    assert.deepEqual(first!.hints.map((h) => h.line), [45, 53]);
    assert.match(first!.hints[0]!.html, /<p>Use <code>touch<\/code>:<\/p>\n<pre data-nslab-code data-kind="run"><code class="language-bash">touch \/root\/first\n<\/code><\/pre>/);
    assert.deepEqual(second!.setups.map((s) => [s.text, s.line]), [["echo step-setup >> /root/setup-log", 70]]);
    assert.deepEqual(alpha().introSetups.map((s) => s.line), [13]);
    for (const s of [first!, second!]) assert.doesNotMatch(s.html, /exit 1|touch \/root\/first|Second hint/, "scripts and hints never appear in the text");
  });

  test("records every fenced block with its line, also in lists and hints", () => {
    const raw = alpha();
    assert.deepEqual(raw.blocks.map((b) => [b.info, b.line]), [
      ["setup", 13], ["bash run", 24], ["bash copy", 28], ["bash run terminal=2 interrupt", 32], ["bash", 36], ["check", 40],
      ["hint", 45], ["bash run", 48], ["hint", 53], ["solution", 57], ["bash run", 66], ["setup", 70], ["check", 74], ["solution", 78],
    ]);
  });

  test("renders code blocks for the client's buttons, escaped", () => {
    const html = alpha().steps[0]!.html;
    assert.ok(html.includes('<pre data-nslab-code data-kind="run"><code class="language-bash">hostname\n</code></pre>'));
    assert.ok(html.includes('<pre data-nslab-code data-kind="copy"><code class="language-bash">echo &quot;&lt;copy &amp; paste&gt;&quot;\n</code></pre>'));
    assert.ok(html.includes('<pre data-nslab-code data-kind="run" data-terminal="2" data-interrupt="true"><code class="language-bash">sleep 1\n</code></pre>'));
    assert.ok(html.includes('<pre data-nslab-code data-kind="plain"><code class="language-bash">plain code\n</code></pre>'));
    assert.match(alpha().steps[1]!.html, /<li><p>a list item with code:<\/p>\n<pre data-nslab-code data-kind="run">/);
  });

  test("the introduction resolves reference links; the finish section is separate", () => {
    const raw = alpha();
    assert.equal(raw.introHtml, '<p>The introduction, with a <a href="https://example.com/ref">reference link</a>.</p>\n');
    assert.equal(raw.finishHtml, "<h2>Done</h2>\n<p>All done.</p>\n");
  });

  test("CRLF files have the same lines", () => {
    const text = fs.readFileSync(alphaFile, "utf8").replace(/\n/g, "\r\n");
    const raw = parseLessonFile(text, { file: "x", folder: "01-alpha", lang: "en" });
    assert.deepEqual(raw.steps.map((s) => [s.id, s.line, s.checks[0]!.line]), [["first", 19, 40], ["second", 61, 74]]);
    assert.equal(raw.steps[0]!.checks[0]!.text.includes("\r"), false);
  });

  test("frontmatter edge cases report where", () => {
    const errs = (text: string) => {
      const raw = parseLessonFile(text, { file: "f.md", folder: "01-x", lang: "en" });
      return validateFile(raw).map((e) => `${e.line}: ${e.message}`);
    };
    assert.deepEqual(errs("---\nid: x\n"), ["1: the frontmatter block is not closed (no second --- line)", "1: the lesson has no steps (each step starts with a ## heading and <!-- step: id -->)"]);
    assert.deepEqual(errs("---\n- a\n---\n").slice(0, 1), ["2: the frontmatter must be a YAML mapping (key: value lines)"]);
    assert.ok(errs("---\nid: x\nid: y\n---\n")[0]!.startsWith("3: frontmatter: Map keys must be unique"));
    const raw = parseLessonFile("---\nid: x\nnamespaces: &ns [pid]\nprerequisites:\n---\n", { file: "f.md", folder: "01-x", lang: "en" });
    assert.deepEqual(raw.meta.get("namespaces")!.value, ["pid"]);
    assert.ok(validateFile(raw).some((e) => e.line === 4 && /prerequisites must be a list/.test(e.message)), "an empty value is not a list");
  });

  test("a heading after the finish section is an error at its line", () => {
    const text = "---\nid: x\n---\n\n## Done\n<!-- finish -->\n\nBye.\n\n## Late\n<!-- step: late -->\n";
    const raw = parseLessonFile(text, { file: "f.md", folder: "01-x", lang: "en" });
    assert.deepEqual(raw.errors.map((e) => [e.line, e.message]), [[10, "the <!-- finish --> section must be the last: no ## heading may follow it"]]);
  });
});

describe("code block info strings", () => {
  const ok = (info: string) => {
    const r = parseInfo(info);
    assert.ok(!("error" in r), `${info}: ${"error" in r ? r.error : ""}`);
    return r;
  };
  const bad = (info: string, re: RegExp) => {
    const r = parseInfo(info);
    assert.ok("error" in r, `${info} should be refused`);
    assert.match(r.error, re);
  };

  test("known kinds", () => {
    assert.deepEqual(ok("bash run"), { kind: "run", lang: "bash", interrupt: false });
    assert.deepEqual(ok("bash run terminal=3 interrupt"), { kind: "run", lang: "bash", terminal: 3, interrupt: true });
    assert.deepEqual(ok("bash copy"), { kind: "copy", lang: "bash", interrupt: false });
    assert.deepEqual(ok("bash run terminal=2 keeps-running"), { kind: "run", lang: "bash", terminal: 2, interrupt: false, keepsRunning: true });
    assert.deepEqual(ok("c"), { kind: "plain", lang: "c", interrupt: false });
    assert.deepEqual(ok(""), { kind: "plain", lang: "", interrupt: false });
    for (const k of ["check", "solution", "setup", "hint"]) assert.deepEqual(ok(k), { kind: k });
  });

  test("mistakes are errors, with a suggestion when close", () => {
    bad("chek", /did you mean "check"/);
    bad("solutoin", /did you mean "solution"/);
    bad("check bash", /take nothing after/);
    bad("bash runn", /unknown word "runn"/);
    bad("bash run terminal=0", /terminal must be a number from 1 to 8/);
    bad("bash run terminal=9", /from 1 to 8/);
    bad("bash copy interrupt", /only apply to run blocks/);
    bad("bash terminal=2", /only apply to run blocks/);
    bad("python run", /only shell blocks can run/);
    bad("bash interrupt run", /must come right after the language/);
    bad("bash run interrupt interrupt", /twice/);
    bad("bash run keeps-running keeps-running", /twice/);
    bad("bash copy keeps-running", /only apply to run blocks/);
  });

  test("the HTML contract of a code block", () => {
    assert.equal(
      codeBlockHtml("a < b", { kind: "run", lang: "bash", terminal: 2, interrupt: true }).trim(),
      '<pre data-nslab-code data-kind="run" data-terminal="2" data-interrupt="true"><code class="language-bash">a &lt; b\n</code></pre>',
    );
    assert.equal(
      codeBlockHtml("sleep infinity", { kind: "run", lang: "bash", interrupt: false, keepsRunning: true }).trim(),
      '<pre data-nslab-code data-kind="run" data-keeps-running="true"><code class="language-bash">sleep infinity\n</code></pre>',
    );
  });
});
