/**
 * docs/glossary.zh-CN.md applied: every Chinese lesson and the Chinese interface strings use one
 * term per concept (the "不要写" column is forbidden) and follow the mechanical part of its
 * typography rules (spaces between Chinese and Latin text, none beside full-width punctuation or
 * between Chinese characters, full-width punctuation after Chinese).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");

/** The glossary's term table: [english, chinese, forbidden[]] per row. */
export function glossary(): { en: string; zh: string; avoid: string[] }[] {
  const rows = read("docs/glossary.zh-CN.md").split("\n").filter((l) => /^\|[^-]/.test(l)).slice(1);
  return rows.map((l) => {
    const [en, zh, avoid] = l.split("|").slice(1, 4).map((c) => c.trim());
    return { en: en!, zh: zh!, avoid: avoid ? avoid.split("、").map((x) => x.trim()).filter(Boolean) : [] };
  });
}

const HAN = "\\p{Script=Han}";
const FULL = "，。：；？！、（）“”‘’《》「」—…";
/** Typography problems in a piece of Chinese prose (code already replaced by `CODE`). */
export function typography(text: string): string[] {
  const out: string[] = [];
  const rules: [RegExp, string][] = [
    [new RegExp(`${HAN}[A-Za-z0-9]|[A-Za-z0-9]${HAN}`, "u"), "no space between Chinese and Latin text or digits"],
    [new RegExp(`[${FULL}] | [${FULL}]`, "u"), "a space beside full-width punctuation"],
    [new RegExp(`${HAN} +${HAN}`, "u"), "a space between two Chinese characters"],
    [new RegExp(`${HAN}[,.:;?!()]|\\)${HAN}`, "u"), "half-width punctuation in a Chinese sentence"],
    [/ {2,}/u, "two spaces in a row"],
  ];
  for (const [re, why] of rules) {
    const m = re.exec(text);
    if (m) out.push(`${why}: "…${text.slice(Math.max(0, m.index - 12), m.index + m[0].length + 12)}…"`);
  }
  return out;
}

/** The prose of a Chinese lesson, line by line: no code, no link targets, no comments, no emphasis marks. */
function proseLines(md: string): [number, string][] {
  const out: [number, string][] = [];
  let fence: string | null = null;
  md.split("\n").forEach((raw, i) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (fence) {
      if (f && f[1]!.startsWith(fence) && raw.trim() === f[1]) fence = null;
      return;
    }
    if (f) return void (fence = f[1]!);
    if (/^\s*<!--/.test(raw) || /^---$/.test(raw) || /^(id|order|minutes|namespaces|prerequisites):/.test(raw)) return;
    let line = raw.replace(/^(title|summary):\s*/, "");
    line = line.replace(/`[^`]+`/g, "CODE").replace(/\]\([^)]*\)/g, "]").replace(/[[\]]/g, "").replace(/\*\*|\*/g, "");
    line = line.replace(/^\s*(?:[-*+]|\d+\.)\s+/, "").replace(/^#+\s+/, "").replace(/^>\s*/, "").replace(/^\|/, "").replace(/\s*\|\s*/g, "｜").trimEnd();
    if (line.trim()) out.push([i + 1, line.trim()]);
  });
  return out;
}

const lessonFiles = fs.readdirSync(path.join(root, "lessons")).filter((d) => fs.existsSync(path.join(root, "lessons", d, "zh-CN.md"))).map((d) => `lessons/${d}/zh-CN.md`);

/** Chinese string literals of the interface (the zh-CN half of each strings file). */
function uiStrings(file: string): [number, string][] {
  const text = read(file);
  const start = text.search(/const zhCN\b/);
  const out: [number, string][] = [];
  text.split("\n").forEach((l, i) => {
    if (i < text.slice(0, start).split("\n").length - 1) return;
    for (const m of l.matchAll(/(["`])((?:(?!\1).)*\p{Script=Han}(?:(?!\1).)*)\1/gu)) out.push([i + 1, m[2]!.replace(/\$\{[^}]*\}/g, "X")]);
  });
  return out;
}
const uiFiles = ["app/i18n/dict.ts", "app/components/explorer/strings.ts", "app/components/lesson/strings.ts"].filter((f) => fs.existsSync(path.join(root, f)));

describe("zh-CN: one term per concept (docs/glossary.zh-CN.md)", () => {
  const terms = glossary();
  test("the glossary has its table", () => {
    assert.ok(terms.length > 30);
    assert.ok(terms.some((t) => t.zh === "用户命名空间" && t.avoid.includes("user 命名空间")));
  });
  for (const file of [...lessonFiles, ...uiFiles]) {
    test(file, () => {
      const lines = file.endsWith(".md") ? proseLines(read(file)) : uiStrings(file);
      const found: string[] = [];
      // the English original may follow a term in parentheses: 绑定挂载（bind mount）
      const plain = (l: string) => l.replace(/（[\x20-\x7e]+）/g, "");
      for (const [n, l] of lines) for (const t of terms) for (const a of t.avoid) if (plain(l).includes(a)) found.push(`${file}:${n}: "${a}" → ${t.zh} (${t.en})`);
      assert.deepEqual(found, []);
    });
  }
});

describe("zh-CN: typography (docs/glossary.zh-CN.md, rules 1–4)", () => {
  test("the rules catch what they should", () => {
    assert.deepEqual(typography("在CODE下"), ["no space between Chinese and Latin text or digits: \"…在CODE下…\""]);
    assert.equal(typography("运行 CODE，然后看 PID 1。").length, 0);
    assert.equal(typography("“容器” 这种").length, 1);
    assert.equal(typography("更窄的 视野").length, 1);
    assert.equal(typography("进程,然后").length, 1);
    assert.equal(typography("（CODE）和 3 个").length, 0);
    assert.equal(softBreaks("进程的\n父进程\n\n运行\n`ls`，然后\nCODE").length, 1);
  });
  for (const file of [...lessonFiles, ...uiFiles]) {
    test(file, () => {
      const lines = file.endsWith(".md") ? proseLines(read(file)) : uiStrings(file);
      const found = lines.flatMap(([n, l]) => typography(l).map((p) => `${file}:${n}: ${p}`));
      if (file.endsWith(".md")) found.push(...softBreaks(read(file)).map(([n, p]) => `${file}:${n}: ${p}`));
      assert.deepEqual(found, []);
    });
  }
});

/** A line break inside a paragraph is shown as a space: between two Chinese characters, or after
 *  full-width punctuation, that space breaks rules 2 and 3. */
function softBreaks(md: string): [number, string][] {
  const raw = md.split("\n");
  const prose = new Map(proseLines(md));
  const out: [number, string][] = [];
  for (const [n, line] of prose) {
    const next = prose.get(n + 1);
    if (next === undefined || /^(title|summary):/.test(raw[n - 1]!) || /^\s*(?:[-*+]|\d+\.)\s|^#|^>|^\|/.test(raw[n]!)) continue;
    if (new RegExp(`[${FULL}]$|${HAN}$`, "u").test(line) && new RegExp(`^(?:${HAN}|[${FULL}])`, "u").test(next)) {
      out.push([n, `a line break between "${line.slice(-4)}" and "${next.slice(0, 4)}" is shown as a space: join the lines, or break beside Latin text`]);
    }
  }
  return out;
}
