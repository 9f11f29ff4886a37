/**
 * Accessibility: axe-core on the home page, a lesson page and every Explorer tab, in both themes
 * (no critical or serious violation); one Tab stop per code block; touch targets of at least 24 px
 * on a phone; and a keyboard-only learner who reaches the terminal, gets out of it again (F6, shown
 * in the page) and reaches the Explorer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { axe, describeViolations, freshPage, openLesson, useApp, waitForText } from "./browser.ts";

const app = useApp();

for (const theme of ["light", "dark"] as const) {
  test(`axe: home, a lesson and every Explorer tab, ${theme} theme`, async () => {
    const page = await freshPage(app.browser, { theme, storage: { "nslab:explorer-open": "true" } });
    await page.goto(`${app.url}/`);
    await page.locator("[data-testid=lesson-list]").waitFor();
    const found: string[] = [];
    const report = async (where: string, include?: string) => {
      const v = await axe(page, include);
      if (v.length) found.push(`${where}:\n${describeViolations(v)}`);
    };
    await report("home");
    await openLesson(page, app.url, "pid-namespaces");
    await page.locator("[data-testid=explorer][data-conn=open]").waitFor({ timeout: 20_000 });
    await report("lesson");
    for (const tab of ["processes", "namespaces", "mounts", "users", "trace"]) {
      await page.locator(`[data-testid=explorer-tab-${tab}]`).click();
      await page.locator(`[data-testid=explorer-${tab}]`).waitFor({ timeout: 20_000 });
      if (tab === "mounts") await page.locator("[data-testid=mount-table]").first().waitFor({ timeout: 20_000 });
      if (tab === "trace") await page.locator("[data-testid=explorer-trace] [data-sys]").first().waitFor({ timeout: 20_000 });
      await report(`explorer ${tab}`, "[data-testid=explorer]");
    }
    assert.deepEqual(found, [], found.join("\n\n"));
    await page.context().close();
  });
}

/** Presses Tab until `pred` (an expression over document.activeElement, `a`) holds; returns how many presses. */
async function tabUntil(page: Page, what: string, pred: string, max = 60, key = "Tab"): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press(key);
    if (await page.evaluate(`(() => { const a = document.activeElement; return !!(${pred}); })()`)) return i;
  }
  throw new Error(`${max} × ${key} never reached ${what}`);
}

const IN_TERMINAL = `a && a.closest("[data-testid=terminal]")`;

test("keyboard only: into the terminal, out of it with F6, on to the Explorer", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "uts-namespaces");
  // the keyboard starts at the top of the page, as after loading
  // the second stop on the page is a skip link to the terminal
  const presses = await tabUntil(page, "the skip link", `a && a.dataset.testid === "skip-to-terminal"`, 3);
  assert.match((await page.evaluate("document.activeElement.textContent")) as string, /terminal/i);
  await page.keyboard.press("Enter");
  assert.ok(await page.evaluate(`(() => { const a = document.activeElement; return !!(${IN_TERMINAL}); })()`), `in the terminal after ${presses} Tab and Enter`);
  await page.keyboard.type("echo kb$((40+2))\n");
  await waitForText(page, /^kb42$/m);
  // inside the terminal Tab belongs to the shell (completion); F6 is the way out, and the page says so
  await page.keyboard.press("Tab");
  assert.ok(await page.evaluate(`(() => { const a = document.activeElement; return !!(${IN_TERMINAL}); })()`), "Tab stays in the shell");
  assert.match(await page.locator("[data-testid=pane-keys-hint]").innerText(), /F6/);
  await page.keyboard.press("F6");
  assert.ok(!(await page.evaluate(`(() => { const a = document.activeElement; return !!(${IN_TERMINAL}); })()`)), "F6 leaves the terminal");
  // F6 visits the panes in page order: the lesson, the lab's toolbar, the terminals, the explorer
  await tabUntil(page, "the lab's toolbar", `a && a.closest("[data-pane=lab-toolbar]")`, 3, "F6");
  await tabUntil(page, "the Explorer toggle", `a && a.dataset.testid === "toggle-explorer"`, 8);
  await page.keyboard.press("Enter");
  await page.locator("[data-testid=explorer]").waitFor();
  await tabUntil(page, "the Explorer's tabs", `a && a.getAttribute("role") === "tab" && a.id.startsWith("nsx-tab-")`, 3, "F6");
  await page.keyboard.press("ArrowRight");
  await page.locator("[data-testid=explorer-tab-namespaces][aria-selected=true]").waitFor();
  // and round again into the terminal
  await tabUntil(page, "the terminal again", IN_TERMINAL, 4, "F6");
  await page.context().close();
});

test("one Tab stop per code block", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "pid-namespaces");
  const stops = (await page.evaluate(`[...document.querySelectorAll("[data-testid=steps] .nslab-codeblock")].map((b) =>
    [b, ...b.querySelectorAll("*")].filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0).length)`)) as number[];
  assert.ok(stops.length > 10);
  assert.deepEqual([...new Set(stops)], [1], "every runnable or copyable block is one Tab stop");
  await page.context().close();
});

test("on a phone, every control (but links inside sentences; an input counts with its label) is at least 24 × 24 px", async () => {
  const page = await freshPage(app.browser, { width: 390, height: 844, storage: { "nslab:explorer-open": "true" } });
  await openLesson(page, app.url, "pid-namespaces");
  const small = (await page.evaluate(`[...document.querySelectorAll("button, a[href], select, input, [role=tab], [role=separator]")]
    .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" && !e.closest(".sr-only") && !e.closest(".prose-lesson p, .prose-lesson li"))
    .map((e) => { const r = (e.tagName === "INPUT" && e.closest("label") ? e.closest("label") : e).getBoundingClientRect(); return { e: (e.dataset.testid || e.getAttribute("aria-label") || e.textContent || e.tagName).trim().slice(0, 30), w: Math.round(r.width), h: Math.round(r.height) }; })
    .filter((x) => x.w < 24 || x.h < 24)`)) as { e: string; w: number; h: number }[];
  assert.deepEqual(small, []);
  await page.context().close();
});
