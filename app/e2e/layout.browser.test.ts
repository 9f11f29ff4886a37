/**
 * Layout and language as a learner meets them: the page never scrolls away under the Explorer (at
 * 1280×720 and on a phone), code and feedback wrap between tokens only, the namespace matrix's
 * headers stay on one line, the Mounts view follows a live process, an empty filter says so, and the
 * Chinese pages are Chinese throughout (titles, not-found, Trace, kernel values, step labels).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { strings as explorerStrings } from "../components/explorer/strings.ts";
import { freshPage, openLesson, screenshot, typeInto, until, useApp } from "./browser.ts";

const app = useApp();

const EXPLORER_OPEN = { "nslab:explorer-open": "true" };

async function openExplorerTab(page: Page, tab: string) {
  await page.locator("[data-testid=explorer][data-conn=open]").waitFor({ timeout: 20_000 });
  await page.locator(`[data-testid=explorer-tab-${tab}]`).click();
}

/** Tokens (runs of non-space characters) inside `selector` that the layout broke across lines. */
async function brokenTokens(page: Page, selector: string): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const out = [];
    for (const root of document.querySelectorAll(${JSON.stringify(selector)})) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const text = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) text.push(n);
      // tokens may span several text nodes (spans): measure each non-space run within one node
      for (const node of text) {
        const re = /\\S+/g;
        let m;
        while ((m = re.exec(node.data))) {
          if (m[0].length < 2) continue;
          const r = document.createRange();
          r.setStart(node, m.index);
          r.setEnd(node, m.index + m[0].length);
          const tops = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
          if (tops.size > 1) out.push(m[0]);
        }
      }
    }
    return out;
  })()`)) as string[];
}

test("at 1280×720 with the Explorer open, the page itself never scrolls", async () => {
  const page = await freshPage(app.browser, { storage: EXPLORER_OPEN });
  await openLesson(page, app.url, "mount-namespaces");
  await openExplorerTab(page, "namespaces");
  await page.locator("[data-testid=explorer-namespaces]").waitFor();
  await page.mouse.move(400, 20); // over the header
  await page.mouse.wheel(0, 600);
  await page.waitForTimeout(300);
  const m = (await page.evaluate("({ y: scrollY, x: scrollX, h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth, ih: innerHeight, iw: innerWidth })")) as Record<string, number>;
  assert.deepEqual({ y: m.y, x: m.x }, { y: 0, x: 0 }, "the window did not scroll");
  assert.ok(m.h! <= m.ih! && m.w! <= m.iw!, `the document fits the window: ${JSON.stringify(m)}`);
  await page.context().close();
});

test("on a phone (390 px) with the Explorer open, nothing pushes the page sideways or down", async () => {
  const page = await freshPage(app.browser, { width: 390, height: 844, storage: EXPLORER_OPEN });
  await openLesson(page, app.url, "mount-namespaces");
  for (const tab of ["processes", "namespaces", "mounts", "users", "trace"]) {
    await openExplorerTab(page, tab);
    await page.waitForTimeout(200);
    const m = (await page.evaluate("({ h: document.documentElement.scrollHeight, w: document.documentElement.scrollWidth, ih: innerHeight, iw: innerWidth })")) as Record<string, number>;
    assert.ok(m.w! <= m.iw!, `${tab}: no sideways scroll (${m.w} > ${m.iw})`);
    assert.ok(m.h! <= m.ih!, `${tab}: no page scroll (${m.h} > ${m.ih})`);
  }
  await page.context().close();
});

test("on a projector (1024×768, large text) with two terminals, every tab and + stay clear of the toolbar", async () => {
  const page = await freshPage(app.browser, { width: 1024, height: 768, storage: { "nslab:text-size": "large" } });
  await openLesson(page, app.url, "pid-namespaces"); // its first step opens terminal 2
  await page.locator("[data-testid=terminal][data-terminal-index='2'][data-state=open]").waitFor({ timeout: 30_000 });
  const toolbar = (await page.locator("[data-testid=toggle-split]").boundingBox())!;
  const boxes = await page.locator("[data-testid=terminal-tab], [data-testid=add-terminal]").evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { what: e.getAttribute("data-testid") + " " + (e.textContent ?? ""), right: r.right, visible: r.width > 0 };
    }),
  );
  assert.ok(boxes.length >= 3, "two tabs and +");
  for (const b of boxes) assert.ok(b.visible && b.right <= toolbar.x, `${b.what} ends at ${b.right}, under the toolbar at ${toolbar.x}`);
  await page.context().close();
});

test("on a projector (1024×768, large text), the Namespaces legend wraps inside the Explorer, in both languages", async () => {
  for (const lang of ["en", "zh-CN"] as const) {
    const page = await freshPage(app.browser, { width: 1024, height: 768, storage: { ...EXPLORER_OPEN, "nslab:text-size": "large" } });
    await openLesson(page, app.url, `pid-namespaces?lang=${lang}`);
    await openExplorerTab(page, "namespaces");
    const legend = page.getByText(explorerStrings(lang).matrixCaption, { exact: true });
    await legend.waitFor({ timeout: 20_000 });
    // where its text ends on the screen, line by line, against the Explorer's right edge
    const m = await legend.evaluate((el) => {
      const r = document.createRange();
      r.selectNodeContents(el);
      const lines = [...r.getClientRects()].filter((x) => x.width > 0);
      return { right: Math.max(...lines.map((x) => x.right)), lines: new Set(lines.map((x) => Math.round(x.top))).size, edge: Math.min(innerWidth, el.closest("[data-testid=explorer]")!.getBoundingClientRect().right) };
    });
    await screenshot(page, `${lang}-1024x768L-explorer-namespaces`);
    assert.ok(m.right <= m.edge + 0.5, `${lang}: the legend ends at ${m.right}, past the Explorer's edge at ${m.edge}`);
    assert.ok(m.lines >= 2, `${lang}: the legend wraps (${m.lines} line)`);
    await page.context().close();
  }
});

test("code, feedback and trace arguments wrap between tokens, never inside a flag or a path", async () => {
  const page = await freshPage(app.browser, { width: 390, height: 844, storage: EXPLORER_OPEN });
  await openLesson(page, app.url, "pid-namespaces");
  assert.deepEqual(await brokenTokens(page, "[data-testid=step] pre"), [], "lesson code");
  const step = page.locator("[data-testid=step][data-step-id=pid-1-inside]");
  page.once("dialog", (d) => void d.accept());
  await step.locator("[data-testid=solve-button]").click();
  await step.locator("[data-testid=step-feedback]").waitFor({ timeout: 30_000 });
  assert.deepEqual(await brokenTokens(page, "[data-testid=step-feedback]"), [], "feedback");
  await openExplorerTab(page, "trace");
  await page.locator("[data-testid=explorer-trace] [data-sys]").first().waitFor({ timeout: 20_000 });
  assert.deepEqual(await brokenTokens(page, "[data-testid=explorer-trace] td[data-args]"), [], "trace arguments");
  await page.context().close();
});

test("the namespace matrix's headers stay on one line", async () => {
  const page = await freshPage(app.browser, { width: 1280, height: 720, storage: EXPLORER_OPEN });
  await openLesson(page, app.url, "uts-namespaces");
  await typeInto(page, "unshare -u -i -n sleep 900 &\n");
  await openExplorerTab(page, "namespaces");
  await until(page, "a second UTS column", `document.querySelectorAll("[data-testid=explorer-namespaces] thead th[data-ns-type=uts][data-ns-ino]").length >= 2`);
  // the visible text of each header (screen-reader-only labels are 1 px wide by design)
  const wrapped = (await page.evaluate(`[...document.querySelectorAll("[data-testid=explorer-namespaces] thead th")].filter((th) => {
    const tops = new Set();
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.parentElement.closest(".sr-only")) continue;
      const r = document.createRange(); r.selectNodeContents(n);
      for (const x of r.getClientRects()) if (x.width > 0) tops.add(Math.round(x.top));
    }
    return tops.size > 1;
  }).map((th) => th.textContent)`)) as string[];
  assert.deepEqual(wrapped, []);
  await page.context().close();
});

test("the Mounts view leaves a process that ended for a live one", async () => {
  const page = await freshPage(app.browser, { storage: EXPLORER_OPEN });
  await openLesson(page, app.url, "mount-namespaces");
  await typeInto(page, "unshare -m sleep 901 &\n");
  await openExplorerTab(page, "mounts");
  const pick = page.locator("[data-testid=mounts-pick]");
  await until(page, "the sleep listed", `[...document.querySelectorAll("[data-testid=mounts-pick] option")].some((o) => o.textContent.startsWith("sleep"))`);
  const sleepPid = (await pick.locator("option", { hasText: /^sleep/ }).first().getAttribute("value"))!;
  await pick.selectOption(sleepPid);
  await page.locator(`[data-mounts-pid="${sleepPid}"][data-testid=mount-table]`).waitFor({ timeout: 20_000 });
  await typeInto(page, "kill %1\n");
  await until(page, "another process chosen", `document.querySelector("[data-testid=mounts-pick]").value !== ${JSON.stringify(sleepPid)}`);
  await page.locator("[data-testid=mount-table]").first().waitFor({ timeout: 20_000 });
  assert.doesNotMatch(await page.locator("[data-testid=explorer-mounts]").innerText(), /has ended/);
  // a fresh lab has no shared mount: the filter says so rather than showing an empty table
  await page.locator("[data-testid=mounts-only-propagating]").check();
  await page.locator("[data-testid=mounts-none-propagating]").first().waitFor({ timeout: 10_000 });
  await page.context().close();
});

test("in Chinese: titles, the not-found page, Trace, kernel values and step labels", async () => {
  const page = await freshPage(app.browser, { storage: EXPLORER_OPEN });
  await page.goto(`${app.url}/?lang=zh-CN`);
  assert.match(await page.title(), /[\u4e00-\u9fff]/, "the home page's title");
  assert.match((await page.locator("meta[name=description]").getAttribute("content")) ?? "", /[\u4e00-\u9fff]/, "its description");
  await until(page, "the language remembered", `document.cookie.includes("nslab-lang=zh-CN")`);
  // the router prefetches the language switch's ?lang=en link in the background, as this fetch
  // does (through Next's real proxy, which strips the router's own headers); it used to set the
  // cookie to en, and whichever prefetch answered last decided the next page's language
  await page.evaluate(`fetch("/?lang=en", { headers: { RSC: "1", "Next-Router-Prefetch": "1" } }).then((r) => r.text())`);
  assert.ok(await page.evaluate(`document.cookie.includes("nslab-lang=zh-CN")`), "a background fetch leaves the language alone");
  await page.goto(`${app.url}/no-such-page`); // the language cookie from the visit before
  const notFound = await page.locator("main").innerText();
  assert.match(notFound, /[\u4e00-\u9fff]/);
  assert.doesNotMatch(notFound, /Nothing here|does not exist/, "not-found speaks the learner's language only");
  await openLesson(page, app.url, "user-namespaces?lang=zh-CN");
  const nav = await page.locator("[data-testid=step-nav]").first().getAttribute("aria-label");
  assert.match(nav ?? "", /^第 1 步：/, "the Chinese colon after the step number");
  await openExplorerTab(page, "users");
  const users = await page.locator("[data-testid=explorer-users]").innerText();
  assert.match(users, /setgroups[:：]\s*允许/, "setgroups' value in words");
  await openExplorerTab(page, "trace");
  const chips = await page.locator("[data-testid=explorer-trace] [role=group] button").allInnerTexts();
  assert.ok(chips.length >= 4 && chips.every((c) => /[\u4e00-\u9fff]/.test(c)), `Trace filter chips: ${chips}`);
  await page.context().close();
});

test("the language switch: a click turns this page and the ones after it to that language", async () => {
  const page = await freshPage(app.browser);
  await page.goto(`${app.url}/?lang=zh-CN`);
  await page.waitForLoadState("networkidle");
  await page.locator("[data-testid=lang-en]").first().click();
  await until(page, "the page in English", `document.documentElement.lang === "en" && location.search.includes("lang=en")`);
  await until(page, "English remembered", `document.cookie.includes("nslab-lang=en")`);
  assert.doesNotMatch(await page.title(), /[\u4e00-\u9fff]/, "the title follows the switch");
  await page.goto(`${app.url}/no-such-page`);
  assert.match(await page.locator("main").innerText(), /Nothing here/);
  await page.context().close();
});
