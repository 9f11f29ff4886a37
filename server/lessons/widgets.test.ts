/**
 * The lesson widgets (docs/lessons.md): predictions with their observe scripts, explore blocks with
 * their highlight scripts, answers typed for a check, and the learner's language in every script.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ExecResult } from "../labs/types.ts";
import { LessonLibrary, loadCatalog } from "./library.ts";
import { fakeLab } from "../testing/fakelab.ts";
import { LessonRunner, parseTargets, prelude } from "./runner.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const rel = (p: string) => path.relative(process.cwd(), path.join(here, "fixtures", p));
const library = new LessonLibrary(path.join(here, "fixtures/widgets"));
const runner = new LessonRunner(library);
const runCheck = runner.runCheck.bind(runner);
const runSolution = runner.runSolution.bind(runner);
const runObserve = runner.runObserve.bind(runner);
const runHighlight = runner.runHighlight.bind(runner);

describe("predict, observe, explore, highlight and answer blocks", () => {
  const { lessons, errors } = loadCatalog(path.join(here, "fixtures/widgets"));
  const w = lessons.get("widgets")!;

  test("the fixture loads in both languages", () => {
    assert.deepEqual(errors, []);
    assert.deepEqual([...w.byLang.keys()], ["en", "zh-CN"]);
  });

  test("a prediction renders its question and choices, never which one is right", () => {
    const html = w.byLang.get("en")!.steps[0]!.html;
    assert.match(html, /<div class="nslab-predict" data-nslab-predict data-index="0" data-kind="choice" data-choices="3">\n<div data-part="question"><p>What does <code>hostname<\/code> print/);
    assert.match(html, /<li data-choice="2">the lab&#39;s name<\/li>/);
    assert.match(html, /data-nslab-predict data-index="1" data-kind="text">/);
    assert.doesNotMatch(html, /\[x\]|checked|answer:|data-correct/, "the right answer stays on the server");
    const zh = w.byLang.get("zh-CN")!.steps[0]!.html;
    assert.match(zh, /<li data-choice="2">实验环境的名字<\/li>/);
  });

  test("run blocks between a prediction and its observe block belong to it, also in lists; the observation has a slot", () => {
    const html = w.byLang.get("en")!.steps[0]!.html;
    assert.match(html, /<pre data-nslab-code data-kind="run" data-predict="0"><code class="language-bash">unshare --uts hostname/);
    assert.match(html, /data-kind="run" data-terminal="2" data-predict="0"><code class="language-bash">hostname/);
    assert.match(html, /<div data-nslab-observe data-index="0"><\/div>\n<pre data-nslab-code data-kind="run"><code class="language-bash">ps\n/, "ps comes before the second prediction: not gated");
    assert.match(html, /data-kind="run" data-predict="1"><code class="language-bash">ps -e/);
    assert.match(html, /<div data-nslab-observe data-index="1"><\/div>/);
    assert.doesNotMatch(html, /say |echo 2/, "scripts never reach the page");
  });

  test("an explore block renders its tab and caption; an answer block becomes the step's answer prompt", () => {
    const step = w.byLang.get("en")!.steps[1]!;
    assert.match(step.html, /<div class="nslab-explore" data-nslab-explore data-index="0" data-tab="namespaces">\n<div data-part="caption"><p>The lab&#39;s UTS namespace is <strong>highlighted<\/strong>.<\/p>/);
    assert.equal(step.answerHtml, "<p>The inode number of the lab&#39;s UTS namespace:</p>\n");
    assert.equal(w.byLang.get("zh-CN")!.steps[1]!.answerHtml, "<p>实验环境的 UTS 命名空间的 inode 号：</p>\n");
    assert.equal(w.byLang.get("en")!.steps[0]!.answerHtml, undefined);
  });

  test("the scripts and the shape of each widget stay on the server", () => {
    assert.deepEqual(
      w.steps.get("predict")!.predictions.map((p) => [p.kind, p.choices, p.correct, p.answer, p.observe.split("\n")[0]]),
      [["choice", 3, 2, null, "echo 2"], ["text", 0, null, "2", "echo 2"]],
    );
    assert.deepEqual(w.steps.get("explore")!.explores.map((x) => x.tab), ["namespaces"]);
    assert.equal(w.steps.get("explore")!.hasAnswer, true);
  });
});

describe("widget mistakes are errors at their line", () => {
  const { errors, lessons } = loadCatalog(path.join(here, "fixtures/broken-widgets"));
  const of = (file: string) => errors.filter((e) => e.file === rel(file)).map((e) => `${e.line}: ${e.message}`);

  test("in one file", () => {
    assert.deepEqual(of("broken-widgets/01-bad/en.md"), [
      "11: a predict block in the introduction is never used; put it at the top level of a step",
      "20: the predict block has no question",
      "22: at most one choice is marked [x] (the one the kernel should show)",
      "25: no run block between the prediction and this observe block: which command does it observe?",
      "29: this prediction has no observe block before the next prediction",
      "32: a multiple-choice prediction needs at least 2 choices (or write answer: for a short answer)",
      "44: the choices (- [ ] ...) must come last in a predict block",
      "55: an observe block must follow a predict block (and the run blocks it observes)",
      "59: this explore block has no highlight block before the next explore block",
      "60: unknown Explorer tab \"nowhere\" (known: processes, namespaces, mounts, users)",
      "65: an explore block starts with a line tab: processes|namespaces|mounts|users",
      "72: a highlight block must follow an explore block",
      "76: the answer block is empty (it is the prompt shown beside the answer field)",
      '79: step "one" already has an answer block (line 76); a step asks for at most one answer',
      "94: this prediction has no observe block (the script that reports what the kernel did)",
      "100: this explore block has no highlight block (the script that finds what to highlight)",
    ]);
  });

  test("a translation keeps the answer, the choices, the right choice, the scripts and the tabs", () => {
    const m = of("broken-widgets/02-mismatch/zh-CN.md");
    assert.equal(m.length, 4, m.join("\n"));
    assert.match(m[0]!, /^11: .*02-mismatch\/en\.md:11 asks for an answer in this step/);
    assert.match(m[1]!, /^14: this prediction differs from .*en\.md:14: translations keep the number of choices, the choice marked \[x\]/);
    assert.match(m[2]!, /^25: this observe differs from .*en\.md:25/);
    assert.match(m[3]!, /^29: this explore block opens tab "namespaces", .*en\.md:29 opens "processes"/);
    assert.deepEqual([...lessons.get("mismatch")!.byLang.keys()], ["en"], "English is served alone");
  });
});

describe("the script prelude: language, say and the learner's answer", () => {
  const bash = (script: string) => spawnSync("bash", ["-c", script], { encoding: "utf8" }).stdout;

  test("say picks the learner's language; the prelude is one line", () => {
    const script = 'say "Yes: it works." "是的：可以。"\necho "$NSLAB_LANG"';
    assert.equal(bash(prelude({ lang: "en" }) + script), "Yes: it works.\nen\n");
    assert.equal(bash(prelude({ lang: "zh-CN" }) + script), "是的：可以。\nzh-CN\n");
    assert.equal(bash(prelude() + 'say "only English"'), "only English\n");
    assert.equal(bash(prelude({ lang: "zh-CN" }) + 'say "only English"'), "only English\n", "a message without a translation is still shown");
    assert.equal(prelude({ lang: "zh-CN", answer: "x" }).split("\n").length, 2);
  });

  test("an answer reaches the check as it was typed, whatever it holds", () => {
    for (const a of ["4026531838", "it's $(touch /tmp/nslab-pwned) `id` \\ \"q\" ; exit 0", "'", "''", "  spaced  ", "中文"])
      assert.equal(bash(prelude({ answer: a }) + 'printf "%s|" "$NSLAB_ANSWER"'), `${a.trim()}|`, a);
    assert.equal(bash(prelude({ answer: "a\nb\x1b[31m\x00" }) + 'printf "%s|" "$NSLAB_ANSWER"'), "a b [31m|", "control characters become spaces");
  });
});

describe("running the widgets' scripts", () => {
  test("checks get the language and, for a step with an answer, the answer", async () => {
    const lab = fakeLab((s) => (s.startsWith("[") ? { code: 1, stdout: "不对。\n" } : {}));
    assert.deepEqual(await runCheck(lab, "widgets", "explore", { lang: "zh-CN", answer: "12" }), { passed: false, feedback: "不对。" });
    assert.match(lab.preludes[0]!, /^NSLAB_LANG=zh-CN; export NSLAB_LANG; NSLAB_ANSWER='12'; export NSLAB_ANSWER; say\(\)/);
    await runCheck(lab, "widgets", "predict", { lang: "en", answer: "ignored" });
    assert.doesNotMatch(lab.preludes[1]!, /NSLAB_ANSWER/, "a step without an answer block gets none");
    await runCheck(lab, "widgets", "explore");
    assert.match(lab.preludes[2]!, /NSLAB_ANSWER=''/, "an answer step without an answer gets an empty one");
  });

  test("the runner's own words follow the language", async () => {
    assert.equal((await runCheck(fakeLab(() => ({ code: 1 })), "widgets", "predict", { lang: "zh-CN" })).feedback, "还没有完成。");
    assert.equal((await runCheck(fakeLab(() => ({ code: 0 })), "widgets", "predict", { lang: "zh-CN" })).feedback, "通过。");
    assert.equal((await runCheck(fakeLab(() => ({ timedOut: true, code: null })), "widgets", "predict", { lang: "zh-CN" })).feedback, "检查超时了。");
  });

  test("a solution's last line is the answer it gives the check", async () => {
    const lab = fakeLab(() => ({ code: 0, stdout: "working\n4026531838\n\n" }));
    assert.equal((await runSolution(lab, "widgets", "explore")).answer, "4026531838");
    assert.equal((await runSolution(lab, "widgets", "predict")).answer, undefined);
  });

  test("observe: the first line is the kernel's answer, the rest what it means; a bad answer is not shown", async () => {
    const seen = (r: { code?: number; stdout?: string }) => runObserve(fakeLab(() => r), "widgets", "predict", 0, { lang: "en" });
    assert.deepEqual(await seen({ code: 0, stdout: "2\nIt printed the lab's name.\nA copy.\n" }), { observed: true, answer: "2", text: "It printed the lab's name. A copy." });
    assert.deepEqual(await seen({ code: 1, stdout: "Run unshare first.\n" }), { observed: false, answer: null, text: "Run unshare first." });
    assert.deepEqual(await seen({ code: 1 }), { observed: false, answer: null, text: "Nothing to see yet: run the command first." });
    const orig = console.error;
    console.error = () => {};
    try {
      for (const stdout of ["4\nno such choice\n", "two\n", "\n", "1.5\n"]) assert.equal((await seen({ code: 0, stdout })).observed, false, stdout);
    } finally {
      console.error = orig;
    }
    assert.deepEqual(await runObserve(fakeLab(() => ({ code: 0, stdout: "7\nSeven.\n" })), "widgets", "predict", 1), { observed: true, answer: "7", text: "Seven." }, "a short answer is any value");
    await assert.rejects(runObserve(fakeLab(), "widgets", "predict", 2), /no prediction 2/);
  });

  test("highlight: targets, one per line; nothing found says why", async () => {
    const lab = fakeLab(() => ({ code: 0, stdout: "ns uts:[4026532331]\npid 57\n" }));
    assert.deepEqual(await runHighlight(lab, "widgets", "explore", 0), { found: true, message: "", targets: [{ kind: "ns", type: "uts", ino: 4026532331 }, { kind: "pid", pid: 57 }] });
    assert.deepEqual(await runHighlight(fakeLab(() => ({ code: 1, stdout: "Start the box first.\n" })), "widgets", "explore", 0, { lang: "en" }), { found: false, message: "Start the box first.", targets: [] });
    await assert.rejects(runHighlight(lab, "widgets", "predict", 0), /no explore block 0/);
  });

  test("parseTargets reads every kind and refuses anything else", () => {
    assert.deepEqual(parseTargets("pid 1\nns net 4026531840\nns mnt:[4026531841]\nmount 312\npeer 5\nmounts 57 1\n\n"), {
      targets: [
        { kind: "pid", pid: 1 },
        { kind: "ns", type: "net", ino: 4026531840 },
        { kind: "ns", type: "mnt", ino: 4026531841 },
        { kind: "mount", id: 312 },
        { kind: "peer", group: 5 },
        { kind: "mounts", pids: [57, 1] },
      ],
      bad: [],
    });
    const { targets, bad } = parseTargets("pid 0\npid -1\npid 1 2\nns disk 5\nns uts\nmount x\nmounts 1 2 3\nhello\npid 99999999999");
    assert.deepEqual(targets, []);
    assert.equal(bad.length, 9);
    assert.equal(parseTargets("pid 1\n".repeat(100)).targets.length, 64, "bounded");
  });
});
