/**
 * The terminal in a real browser: typing, a reload that returns to the same shell, a second
 * terminal, and a flood stopped by Ctrl-C that leaves the page responsive.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { NslabServer } from "../../server/server.ts";
import { launch, screenshot, startAppServer, terminalText, typeInto, waitForText } from "./browser.ts";

let server: NslabServer;
let browser: Browser;
let page: Page;
before(async () => {
  server = await startAppServer();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const terminalOpen = (i = 1) => page.locator(`[data-testid=terminal][data-terminal-index="${i}"][data-state=open]`).waitFor({ timeout: 20_000 });

test("a lesson page opens a live terminal into the learner's lab", async () => {
  await page.goto(`${server.url}/lessons/pid-namespaces`);
  await terminalOpen();
  await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m);
  await typeInto(page, "echo hi$((40+2))\n");
  await waitForText(page, /^hi42$/m);
  await screenshot(page, "lesson-terminal");
});

test("a reload returns to the same shell, with its history", async () => {
  await page.reload();
  await terminalOpen();
  const replayed = await waitForText(page, /^hi42$/m);
  assert.equal(replayed.split("\n").filter((l) => l === "hi42").length, 1, "the replayed output is not duplicated");
  await typeInto(page, "history | grep -c 'hi[$]((40'\n"); // the pattern does not match its own line
  await waitForText(page, /^1$/m);
});

test("a second terminal is another shell in the same lab", async () => {
  // this lesson's first step uses terminal 2: it opened beside terminal 1 by itself
  await terminalOpen(2);
  await waitForText(page, /# $/m, 2);
  await typeInto(page, "tty; hostname\n", 2);
  const text = await waitForText(page, /\/dev\/pts\/\d+\nlab-[0-9a-f]{6}/, 2);
  const first = await terminalText(page, 1);
  const host = /root@(lab-[0-9a-f]{6})/.exec(first)![1]!;
  assert.match(text, new RegExp(host), "both terminals are in the same lab");
  assert.equal(await page.locator("[data-testid=terminal-tab]").count(), 2);
  // + opens one more, in front
  await page.locator("[data-testid=add-terminal]").click();
  await terminalOpen(3);
  await waitForText(page, /# $/m, 3);
  assert.equal(await page.locator("[data-testid=terminal-tab]").count(), 3);
});

test("a yes flood stopped by Ctrl-C leaves the page responsive", async () => {
  await page.locator("[data-testid=terminal-tab]").first().click();
  await terminalOpen(1);
  await typeInto(page, "yes nslab-flood\n");
  await page.waitForTimeout(1500);
  // the page answers while the flood runs
  const t0 = Date.now();
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  assert.ok(Date.now() - t0 < 2000, "the page's main thread answered");
  await page.keyboard.press("Control+C");
  await waitForText(page, /\^C\n?.*# $/m, 1, 10_000);
  await typeInto(page, "echo after-$((2*21))\n");
  await waitForText(page, /^after-42$/m);
  await page.locator("[data-testid=theme-toggle]").click();
  assert.ok(await page.locator("html").getAttribute("data-theme"));
});
