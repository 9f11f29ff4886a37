/** A lesson step in a real browser: clicking a code block runs it and the step turns green. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { plainPage, screenshot, useApp, waitForText } from "./browser.ts";

const app = useApp({ page: (a) => plainPage(a) });

test("clicking a step's code block runs it in the terminal and the step turns green", async () => {
  await app.page.goto(`${app.url}/lessons/uts-namespaces`);
  await app.page.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 20_000 });
  await waitForText(app.page, /# $/m);
  const step = app.page.locator("[data-testid=step][data-step-id=read-the-names]");
  assert.notEqual(await step.getAttribute("data-state"), "passed");
  await step.locator("[data-testid=run-button]").first().click();
  const text = await waitForText(app.page, /^Linux lab-[0-9a-f]{6} (\S+) /m);
  // the step asks for what only the kernel knows: the release uname printed
  const release = /^Linux lab-[0-9a-f]{6} (\S+) /m.exec(text)![1]!;
  await step.locator("[data-testid=answer-input]").fill(release);
  await step.locator("[data-testid=check-button]").click();
  await app.page.locator("[data-testid=step][data-step-id=read-the-names][data-state=passed]").waitFor({ timeout: 15_000 });
  assert.match(await step.locator("[data-testid=step-feedback]").innerText(), /UTS namespace/);
  await screenshot(app.page, "lesson-step-passed");
});

test("the catalogue shows the progress the learner made", async () => {
  await app.page.goto(`${app.url}/`);
  // the progress is read from the browser's storage after hydration: wait for it, not for the element
  const progress = app.page.locator("[data-testid=progress-uts-namespaces]");
  await progress.waitFor();
  await app.page.locator("[data-testid=progress-uts-namespaces][data-done='1']").waitFor({ timeout: 15_000 }).catch(() => {});
  assert.equal(await progress.getAttribute("data-done"), "1");
  await screenshot(app.page, "catalogue");
});
