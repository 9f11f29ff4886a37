import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { JsonSyntaxError, parseJsonWithLines } from "./jsonlines.ts";
import { parseAction, rewriteFences } from "./killercoda-markdown.ts";
import { loadScenario } from "./killercoda.ts";
import { validateFile, validateLesson } from "./schema.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const display = (abs: string) => path.relative(repo, abs);

describe("our scenario lessons/killercoda-first-namespace", () => {
  const dir = path.join(repo, "lessons/killercoda-first-namespace");
  const raw = loadScenario(dir, { folder: "killercoda-first-namespace", display });

  test("loads without a problem", () => {
    assert.deepEqual(validateFile(raw), []);
    assert.deepEqual(validateLesson("lessons/killercoda-first-namespace", [raw]), []);
  });

  test("meta comes from index.json and its nslab block", () => {
    const v = (k: string) => raw.meta.get(k)?.value;
    assert.equal(raw.format, "killercoda");
    assert.equal(v("id"), "killercoda-first-namespace");
    assert.equal(v("title"), "Your first namespace");
    assert.match(v("summary") as string, /UTS namespace/);
    assert.deepEqual([v("order"), v("minutes"), v("namespaces"), v("prerequisites")], [100, 10, ["uts"], []]);
  });

  test("steps: titles from index.json, verify as check, solutionN.sh beside verifyN.sh", () => {
    assert.deepEqual(raw.steps.map((s) => [s.id, s.title]), [
      ["step1", "A hostname of your own"],
      ["step2", "Two views of one machine"],
      ["step3", "The last one out turns off the light"],
    ]);
    raw.steps.forEach((s, i) => {
      assert.equal(s.checks[0]!.text, fs.readFileSync(path.join(dir, `verify${i + 1}.sh`), "utf8"));
      assert.equal(s.solutions[0]!.text, fs.readFileSync(path.join(dir, `solution${i + 1}.sh`), "utf8"));
      assert.equal(s.checks[0]!.file, `lessons/killercoda-first-namespace/verify${i + 1}.sh`);
    });
  });

  test("Killercoda actions become nslab code blocks", () => {
    const [s1, s2, s3] = raw.steps.map((s) => s.html);
    assert.ok(raw.introHtml.includes('<pre data-nslab-code data-kind="run"><code class="language-bash">hostname\nreadlink /proc/$$/ns/uts\n</code></pre>'), "fenced {{exec}}");
    assert.ok(s1!.includes('<pre data-nslab-code data-kind="run"><code class="language-bash">unshare --uts bash\n</code></pre>'), "`cmd`{{exec}}");
    assert.ok(s2!.includes('<pre data-nslab-code data-kind="run" data-terminal="2"><code class="language-bash">hostname\n</code></pre>'), "{{execute T2}}");
    assert.ok(s2!.includes('<pre data-nslab-code data-kind="run" data-terminal="2"><code class="language-bash">lsns -t uts\n</code></pre>'), "fenced {{execute T2}}");
    assert.ok(s2!.includes('<pre data-nslab-code data-kind="copy"><code class="language-bash">nsenter --target PID --uts hostname\n</code></pre>'), "{{copy}}");
    assert.ok(s3!.includes('<pre data-nslab-code data-kind="run" data-interrupt="true"><code class="language-bash">exit\n</code></pre>'), "{{exec interrupt}}");
    for (const h of [raw.introHtml, s1!, s2!, s3!, raw.finishHtml!]) assert.doesNotMatch(h, /\{\{/, "no action syntax is left");
  });
});

describe("scenario details (fixture gamma)", () => {
  const raw = loadScenario(path.join(here, "fixtures/catalog/gamma"), { folder: "gamma", display });

  test("background is setup, foreground a run block, step folders find their solution", () => {
    assert.deepEqual(validateFile(raw), []);
    assert.deepEqual(raw.introSetups.map((s) => s.text), ["echo gamma-intro > /root/gamma-log\n"]);
    const [one, two] = raw.steps;
    assert.deepEqual(one!.setups.map((s) => s.text), ["echo gamma-step1 >> /root/gamma-log\n"]);
    assert.equal(one!.solutions[0]!.text, "touch /root/one\n");
    assert.ok(one!.html.startsWith('<pre data-nslab-code data-kind="run"><code class="language-bash">echo waiting for the background\n</code></pre>'));
    assert.deepEqual([two!.title, two!.solutions.length, two!.checks.length], ["Step 2", 0, 1]);
    assert.equal(raw.meta.get("minutes")!.value, 7, 'from "time": "7 minutes"');
  });

  test("inline actions inside a sentence stay inline; {{}} is plain code", () => {
    assert.equal(raw.introHtml, '<p>Intro with <code data-nslab-code data-kind="run">uname -r</code> inline and <code data-nslab-code data-kind="copy">ls</code>.</p>\n');
    assert.ok(raw.steps[0]!.html.includes("<p><code>not special</code></p>"));
    assert.ok(raw.steps[0]!.html.includes('<pre data-nslab-code data-kind="copy"><code class="language-yaml">a: 1\n</code></pre>'));
    assert.ok(raw.steps[0]!.html.includes('<pre data-nslab-code data-kind="run" data-interrupt="true"><code class="language-bash">sleep 100\n</code></pre>'));
  });
});

describe("Killercoda Markdown", () => {
  test("actions", () => {
    assert.deepEqual(parseAction("exec"), { kind: "run", interrupt: false });
    assert.deepEqual(parseAction("execute T2"), { kind: "run", interrupt: false, terminal: 2 });
    assert.deepEqual(parseAction("exec interrupt"), { kind: "run", interrupt: true });
    assert.deepEqual(parseAction("execute interrupt T3"), { kind: "run", interrupt: true, terminal: 3 });
    assert.deepEqual(parseAction("copy"), { kind: "copy" });
    assert.deepEqual(parseAction(""), { kind: "plain" });
    assert.ok("error" in parseAction("exec T0"));
    assert.ok("error" in parseAction("exec T9"), "a lab has at most 8 terminals");
    assert.ok("error" in parseAction("run"));
  });

  test("fences ending in an action are rewritten in place; errors keep their line", () => {
    const src = "a\n```\nls\n```{{exec}}\n\n~~~yaml\nx: 1\n~~~{{copy}}\n\n```\ncat\n```{{nope}}\n`x`{{exec T8}} `y`{{bad}}\n";
    const { text, errors } = rewriteFences(src, "s.md");
    assert.equal(text.split("\n").length, src.split("\n").length);
    assert.deepEqual(text.split("\n").slice(1, 8), ["```bash run", "ls", "```", "", "~~~yaml copy", "x: 1", "~~~"]);
    assert.deepEqual(errors.map((e) => [e.line, e.message.slice(0, 30)]), [
      [12, "unknown action {{nope}} (known"],
      [13, "unknown action {{bad}} (known:"],
    ]);
  });
});

describe("JSON with lines", () => {
  test("keeps the line of every key and value", () => {
    const n = parseJsonWithLines('{\n  "a": 1,\n  "b": [\n    {"c": "d"}\n  ]\n}');
    assert.equal(n.kind, "object");
    if (n.kind !== "object") return;
    assert.equal(n.entries.get("a")!.keyLine, 2);
    const b = n.entries.get("b")!;
    assert.equal(b.keyLine, 3);
    assert.ok(b.node.kind === "array" && b.node.items[0]!.line === 4);
  });

  test("syntax errors say where", () => {
    for (const [text, line, re] of [
      ['{\n"a": 1\n"b": 2}', 3, /expected "," or "}"/],
      ['{\n  "a": tru\n}', 2, /unexpected "t"/],
      ['{"a": 1, "a": 2}', 1, /appears twice/],
      ["{\n", 2, /the end of the file/],
      ['{"a": "x\n"}', 1, /span lines/],
    ] as const) {
      assert.throws(() => parseJsonWithLines(text), (e: unknown) => e instanceof JsonSyntaxError && e.line === line && re.test(e.message), text);
    }
  });
});
