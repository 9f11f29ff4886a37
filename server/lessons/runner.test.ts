import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { fakeLab } from "../testing/fakelab.ts";
import { LessonLibrary } from "./library.ts";
import { CHECK_TIMEOUT_MS, LessonRunner, NoSuchScriptError, SCRIPT_TIMEOUT_MS, firstLine } from "./runner.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const runner = new LessonRunner(new LessonLibrary(path.join(here, "fixtures/catalog")));
const runCheck = runner.runCheck.bind(runner);
const runSolution = runner.runSolution.bind(runner);
const runSetup = runner.runSetup.bind(runner);
const setupResults = runner.setupResults.bind(runner);

describe("runCheck", () => {
  test("runs the step's check with a 10 s limit; exit 0 passes; the first line is the feedback", async () => {
    const lab = fakeLab(() => ({ code: 0, stdout: "\n  Yes: found it.  \nmore\n" }));
    assert.deepEqual(await runCheck(lab, "alpha", "first"), { passed: true, feedback: "Yes: found it." });
    assert.deepEqual(lab.calls, [{ script: 'test -f /root/first && echo "Yes: found it." && exit 0\necho "Create /root/first."; exit 1', timeoutMs: CHECK_TIMEOUT_MS }]);
  });

  test("defaults when it prints nothing", async () => {
    assert.deepEqual(await runCheck(fakeLab(() => ({ code: 1 })), "alpha", "first"), { passed: false, feedback: "Not yet." });
    assert.deepEqual(await runCheck(fakeLab(() => ({ code: 0, stderr: "noise" })), "alpha", "first"), { passed: true, feedback: "Passed." });
    assert.deepEqual(await runCheck(fakeLab(() => ({ code: null, signal: "SIGKILL" })), "alpha", "first"), { passed: false, feedback: "Not yet." });
  });

  test("a timeout fails, whatever the script printed", async () => {
    const lab = fakeLab(() => ({ code: null, timedOut: true, stdout: "Yes!\n" }));
    assert.deepEqual(await runCheck(lab, "alpha", "first"), { passed: false, feedback: "The check timed out." });
  });

  test("feedback is cut to 300 characters and cleaned of control characters", async () => {
    const long = await runCheck(fakeLab(() => ({ code: 1, stdout: "x".repeat(1000) })), "alpha", "first");
    assert.equal(long.feedback.length, 300);
    assert.equal(firstLine("\x1b[31mred\x1b[0m \x07done\r\n"), "red done");
  });

  test("unknown lessons and steps are NoSuchScriptError", async () => {
    const lab = fakeLab();
    await assert.rejects(runCheck(lab, "nope", "first"), (e: unknown) => e instanceof NoSuchScriptError && e.code === "unknown_lesson");
    await assert.rejects(runCheck(lab, "alpha", "nope"), (e: unknown) => e instanceof NoSuchScriptError && e.code === "unknown_step");
    assert.equal(lab.calls.length, 0);
  });
});

describe("runSolution and runSetup", () => {
  test("a solution runs with the longer limit and reports its output", async () => {
    const lab = fakeLab(() => ({ code: 0, stdout: "out\n", stderr: "err\n" }));
    assert.deepEqual(await runSolution(lab, "alpha", "first"), { ok: true, code: 0, timedOut: false, output: "out\nerr\n" });
    assert.deepEqual(lab.calls, [{ script: "touch /root/first", timeoutMs: SCRIPT_TIMEOUT_MS }]);
  });

  test("a step without a solution says so", async () => {
    await assert.rejects(runSolution(fakeLab(), "gamma", "step2"), (e: unknown) => e instanceof NoSuchScriptError && e.code === "no_solution");
  });

  test("setup runs every block in order, keeps going after a failure, and remembers the results", async () => {
    const lab = fakeLab((s) => (s.includes("intro") ? { code: 3, stderr: "boom" } : {}));
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(" "));
    try {
      const results = await runSetup(lab, "alpha");
      assert.deepEqual(lab.calls.map((c) => c.script), ["echo intro-setup > /root/setup-log", "echo step-setup >> /root/setup-log"]);
      assert.deepEqual(results.map((r) => [r.ok, r.code]), [[false, 3], [true, 0]]);
      assert.equal(setupResults(lab), results);
      assert.match(String(errors[0]), /setup block 1 of "alpha" failed .*exit 3.*boom/);
    } finally {
      console.error = orig;
    }
    assert.equal(setupResults(fakeLab()), undefined);
    await assert.rejects(runSetup(fakeLab(), "nope"), NoSuchScriptError);
  });
});
