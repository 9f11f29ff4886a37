/** A lesson step in a real browser: clicking a code block runs it and the step turns green. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { NslabServer } from "../../server/server.ts";
import { launch, screenshot, startAppServer, waitForText } from "./browser.ts";

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

test("clicking a step's code block runs it in the terminal and the step turns green", async () => {
  await page.goto(`${server.url}/lessons/uts-namespaces`);
  await page.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 20_000 });
  await waitForText(page, /# $/m);
  const step = page.locator("[data-testid=step][data-step-id=read-the-names]");
  assert.notEqual(await step.getAttribute("data-state"), "passed");
  await step.locator("[data-testid=run-button]").first().click();
  const text = await waitForText(page, /^Linux lab-[0-9a-f]{6} (\S+) /m);
  // the step asks for what only the kernel knows: the release uname printed
  const release = /^Linux lab-[0-9a-f]{6} (\S+) /m.exec(text)![1]!;
  await step.locator("[data-testid=answer-input]").fill(release);
  await step.locator("[data-testid=check-button]").click();
  await page.locator("[data-testid=step][data-step-id=read-the-names][data-state=passed]").waitFor({ timeout: 15_000 });
  assert.match(await step.locator("[data-testid=step-feedback]").innerText(), /UTS namespace/);
  await screenshot(page, "lesson-step-passed");
});

test("the catalogue shows the progress the learner made", async () => {
  await page.goto(`${server.url}/`);
  // the progress is read from the browser's storage after hydration: wait for it, not for the element
  const progress = page.locator("[data-testid=progress-uts-namespaces]");
  await progress.waitFor();
  await page.locator("[data-testid=progress-uts-namespaces][data-done='1']").waitFor({ timeout: 15_000 }).catch(() => {});
  assert.equal(await progress.getAttribute("data-done"), "1");
  await screenshot(page, "catalogue");
});
