import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadCatalog, LessonLibrary } from "./library.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

describe("the real lessons/ folder", () => {
  const { lessons, errors } = loadCatalog(path.resolve(here, "../../lessons"));

  test("every lesson loads with zero problems", () => {
    assert.deepEqual(errors.map((e) => `${e.file}:${e.line}: ${e.message}`), []);
  });

  test("every folder is a lesson, and every nslab step can be checked and solved", () => {
    const folders = fs.readdirSync(path.resolve(here, "../../lessons"), { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith("."));
    assert.deepEqual([...lessons.values()].map((l) => l.folder).sort(), folders.map((d) => d.name).sort());
    for (const l of lessons.values())
      for (const [id, s] of l.steps) {
        assert.ok(s.check, `${l.id}/${id} has a check`);
        assert.ok(s.solution, `${l.id}/${id} has a solution`);
      }
  });

  test("our Killercoda scenario is listed", () => {
    assert.equal(lessons.get("killercoda-first-namespace")?.byLang.get("en")?.meta.format, "killercoda");
  });
});

describe("the cached library (fixtures)", () => {
  let catalog: LessonLibrary;
  // a library as the server makes it: production keeps its first load, development reloads
  const use = (dir: string, env: "production" | "development") => {
    catalog = new LessonLibrary(dir, { reload: env === "development" });
  };

  test("list, get with fallback to English, scripts", () => {
    use(path.join(here, "fixtures/catalog"), "production");
    assert.deepEqual(catalog.list().map((m) => [m.id, m.order, m.steps, m.format]), [["alpha", 1, 2, "nslab"], ["gamma", 3, 2, "killercoda"]]);
    assert.deepEqual(catalog.list("zh-CN").map((m) => m.title), ["Alpha：测试课程", "Gamma"]);
    assert.equal(catalog.get("alpha", "zh-CN")!.lang, "zh-CN");
    assert.equal(catalog.get("alpha", "zh-CN")!.steps[1]!.title, "第二步");
    const g = catalog.get("gamma", "zh-CN")!;
    assert.deepEqual([g.lang, g.meta.languages], ["en", ["en"]]);
    assert.equal(catalog.get("nope", "en"), null);
    assert.equal(catalog.has("alpha"), true);
    assert.equal(catalog.has("nope"), false);
    assert.deepEqual(catalog.scripts("alpha", "second"), { check: "exit 1", solution: "true", setup: ["echo step-setup >> /root/setup-log"], hasAnswer: false, predictions: [], explores: [] });
    assert.equal(catalog.scripts("alpha", "nope"), null);
    assert.deepEqual(catalog.setupScripts("alpha"), ["echo intro-setup > /root/setup-log", "echo step-setup >> /root/setup-log"]);
    assert.deepEqual(catalog.stepIds("gamma"), ["step1", "step2"]);
    assert.deepEqual(catalog.errors(), []);
    assert.equal(JSON.stringify(catalog.get("alpha")).includes("touch /root/first\\n</code>"), true, "the hint's code");
    assert.equal(/exit 1|echo intro-setup/.test(JSON.stringify(catalog.get("alpha"))), false, "no script reaches a Lesson");
  });

  test("development reloads changed files; production keeps the first load", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nslab-catalog-"));
    try {
      fs.cpSync(path.join(here, "fixtures/catalog/01-alpha"), path.join(tmp, "01-alpha"), { recursive: true });
      const en = path.join(tmp, "01-alpha/en.md");
      const retitle = (t: string) => {
        fs.writeFileSync(en, fs.readFileSync(en, "utf8").replace(/^title: .*$/m, `title: ${t}`));
        const later = new Date(Date.now() + 5000 + Math.random() * 1000); // mtime granularity
        fs.utimesSync(en, later, later);
      };
      use(tmp, "production");
      assert.equal(catalog.get("alpha")!.meta.title, "Alpha: a test lesson");
      retitle("Changed once");
      assert.equal(catalog.get("alpha")!.meta.title, "Alpha: a test lesson", "production does not watch");
      use(tmp, "development");
      assert.equal(catalog.get("alpha")!.meta.title, "Changed once");
      retitle("Changed twice");
      assert.equal(catalog.get("alpha")!.meta.title, "Changed twice");
      fs.writeFileSync(en, "broken");
      assert.equal(catalog.get("alpha"), null, "a lesson whose English file breaks is left out");
      assert.match(catalog.errors()[0]!.message, /frontmatter/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("a broken lesson folder beside good ones (fixtures/mixed)", () => {
  const mixed = path.join(here, "fixtures/mixed");
  const repo = path.resolve(here, "../..");
  const check = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "--import", "./scripts/hooks.mjs", "scripts/lessons-check.ts", ...args], { cwd: repo, encoding: "utf8" });

  test("the good lessons are served, the broken ones left out and reported", () => {
    const c = loadCatalog(mixed);
    assert.deepEqual([...c.lessons.keys()].sort(), ["good", "kc-minimal"]);
    assert.deepEqual(c.leftOut, ["02-broken", "kc-bad-json"]);
    assert.ok(c.errors.length >= 2);
    assert.ok(c.errors.every((e) => /02-broken|kc-bad-json/.test(e.file)), "errors name the broken folders only");
    assert.deepEqual(c.notes.map((n) => path.basename(path.dirname(n.file))), ["kc-minimal"]);
  });

  test("lessons:check fails on it (so npm test fails on a broken lesson), --report (npm run build) does not", () => {
    const strict = check(mixed);
    assert.equal(strict.status, 1, strict.stderr);
    assert.match(strict.stderr, /02-broken\/en\.md:\d+: step "nothing" has no check block/);
    assert.match(strict.stderr, /kc-minimal\/index\.json:8: note: backend\.imageid/);
    assert.match(strict.stderr, /left out of the catalogue: 02-broken, kc-bad-json; 2 lessons \(2 steps\) are served/);
    const report = check(mixed, "--report");
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stderr, /left out of the catalogue: 02-broken, kc-bad-json/);
    const good = check(path.join(here, "fixtures/catalog"));
    assert.equal(good.status, 0, good.stderr);
  });

  test("the server's catalogue logs what it leaves out", (t) => {
    const logged: string[] = [];
    t.mock.method(console, "error", (...a: unknown[]) => void logged.push(a.join(" ")));
    const catalog = new LessonLibrary(mixed);
    assert.deepEqual(catalog.list().map((m) => m.id), ["good", "kc-minimal"]);
    assert.equal(catalog.get("broken"), null);
    assert.deepEqual(catalog.loaded().leftOut, ["02-broken", "kc-bad-json"]);
    assert.ok(logged.some((l) => /nslab lessons: .*02-broken\/en\.md:\d+: step "nothing" has no check block/.test(l)), logged.join("\n"));
    assert.ok(logged.some((l) => /2 lesson folders left out of the catalogue \(problems above\): 02-broken, kc-bad-json; 2 lessons served/.test(l)), logged.join("\n"));
  });
});
