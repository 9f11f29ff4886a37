import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
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

describe("a scenario with only title, details and backend (fixture mixed/kc-minimal)", () => {
  const raw = loadScenario(path.join(here, "fixtures/mixed/kc-minimal"), { folder: "kc-minimal", display });

  test("loads without a problem: description and time are optional, as in Killercoda", () => {
    assert.deepEqual(validateFile(raw), []);
    assert.deepEqual(validateLesson("kc-minimal", [raw]), []);
    assert.equal(raw.meta.get("summary")!.value, "");
    assert.equal(raw.meta.get("minutes")!.value, 5, "estimated: 5 minutes a step");
    assert.deepEqual([raw.steps[0]!.title, raw.steps[0]!.checks.length, raw.steps[0]!.solutions.length], ["Step 1", 1, 1]);
  });

  test("a backend nslab cannot give is accepted, with a note", () => {
    assert.equal(raw.notes.length, 1);
    assert.match(raw.notes[0]!.message, /^backend\.imageid "kubernetes-kubeadm-1node" is ignored/);
    assert.equal(raw.notes[0]!.line, 8);
  });

  test("a plain Linux image needs no note; other backend keys and the finish's scripts get one", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-kc-"));
    try {
      fs.cpSync(path.join(here, "fixtures/mixed/kc-minimal"), tmp, { recursive: true });
      const index = (backend: unknown, finish?: unknown) =>
        fs.writeFileSync(path.join(tmp, "index.json"), JSON.stringify({ title: "t", details: { steps: [{ text: "step1.md", verify: "verify1.sh" }], ...(finish ? { finish } : {}) }, backend }, null, 1));
      for (const image of ["ubuntu", "ubuntu20.04", "debian"]) {
        index({ imageid: image });
        assert.deepEqual(loadScenario(tmp, { folder: "t", display }).notes, [], image);
      }
      index({ imageid: "ubuntu", gpu: true });
      assert.match(loadScenario(tmp, { folder: "t", display }).notes[0]!.message, /^backend\.gpu is ignored/);
      fs.writeFileSync(path.join(tmp, "fin.sh"), "echo bye\n");
      index({ imageid: "ubuntu" }, { text: "step1.md", foreground: "fin.sh", background: "fin.sh" });
      const r = loadScenario(tmp, { folder: "t", display });
      assert.deepEqual(validateFile(r), []);
      assert.match(r.notes[0]!.message, /details\.finish\.background is not run/);
      assert.ok(r.finishHtml!.startsWith('<pre data-nslab-code data-kind="run"><code class="language-bash">echo bye\n'), "the finish's foreground is a run block");
      index("ubuntu");
      assert.match(validateFile(loadScenario(tmp, { folder: "t", display }))[0]!.message, /^backend must be an object/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
