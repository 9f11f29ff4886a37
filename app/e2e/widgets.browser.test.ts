/**
 * The lesson widgets in a real browser against a real lab (lesson 01): a prediction is asked before
 * its command, recorded, and shown beside what the kernel did; an explore card opens the Explorer
 * at its tab with the lesson's targets highlighted; a step that asks for an answer is checked with
 * what the learner typed; and the Chinese page gets its feedback in Chinese.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openLesson, plainPage, screenshot, useApp, waitForText } from "./browser.ts";

const app = useApp({
  page: async (a) => {
    const page = await plainPage(a, 800);
    await openLesson(page, a.url, "containers-are-processes");
    return page;
  },
});

test("a prediction gates its command, is recorded, and is shown beside what the kernel did", async () => {
  const step = app.page.locator("[data-testid=step][data-step-id=lsns]");
  const card = step.locator("[data-testid=prediction]").first();
  await card.scrollIntoViewIfNeeded();
  assert.equal(await card.getAttribute("data-state"), "open");
  // the command the prediction is about waits for it; commands before it do not
  assert.equal(await step.locator("[data-testid=gated-run]").count(), 2, "unshare and lsns -t uts");
  assert.ok((await step.locator("[data-testid=run-button]").count()) >= 1, "the step's other blocks run as usual");
  assert.equal(await card.locator("[data-testid=prediction-lock]").isDisabled(), true, "nothing typed yet");
  await card.locator("[data-testid=prediction-text]").fill("3");
  await card.locator("[data-testid=prediction-lock]").click();
  await step.locator("[data-testid=prediction][data-state=locked]").waitFor();
  assert.equal(await step.locator("[data-testid=gated-run]").count(), 0, "predicted: the command runs normally");
  await screenshot(app.page, "lesson-prediction");

  // run the gated command from the page; when it finishes the page asks the lab what happened
  await step.locator("pre[data-predict='0']").first().locator("..").locator("[data-testid=run-button]").click();
  await waitForText(app.page, /unshare --uts sleep 1001 &/);
  const seen = step.locator("[data-testid=observation][data-state=observed]");
  await seen.waitFor({ timeout: 15_000 });
  assert.equal(await seen.locator("[data-testid=observation-answer]").innerText(), "2");
  assert.equal(await seen.getAttribute("data-match"), "no", "3 was predicted, the kernel listed 2");
  assert.match(await seen.locator("[data-testid=observation-text]").innerText(), /lists 2 UTS namespaces/);
  await seen.scrollIntoViewIfNeeded();
  await screenshot(app.page, "lesson-observation");

  // recorded in this browser: after a reload both are still there
  await app.page.reload();
  await app.page.locator("[data-testid=step][data-step-id=lsns] [data-testid=observation][data-state=observed]").waitFor({ timeout: 15_000 });
  assert.match(await app.page.locator("[data-testid=step][data-step-id=lsns] [data-testid=prediction-locked]").innerText(), /3/);
});

test("an explore card opens the Explorer at its tab with the new UTS namespace highlighted", async () => {
  await app.page.locator("[data-testid=terminal][data-state=open]").waitFor({ timeout: 20_000 });
  const card = app.page.locator("[data-testid=step][data-step-id=lsns] [data-testid=explore-card]");
  await card.scrollIntoViewIfNeeded();
  assert.equal(await card.getAttribute("data-tab"), "namespaces");
  await card.locator("[data-testid=explore-button]").click();
  await app.page.locator("[data-testid=explorer][data-conn=open]").waitFor({ timeout: 15_000 });
  assert.equal(await app.page.locator("[data-testid=toggle-explorer]").getAttribute("aria-pressed"), "true");
  assert.equal(await app.page.locator("[data-testid=explorer-tab-namespaces]").getAttribute("aria-selected"), "true");
  assert.match(await app.page.locator("[data-testid=explorer-focus]").innerText(), /new UTS namespace is highlighted/);
  // the highlighted column is a UTS namespace other than the lab's, and the sleep's row is marked
  const col = app.page.locator("[data-testid=explorer-namespaces] th[data-ns-type=uts][data-focus]");
  await col.first().waitFor({ timeout: 10_000 });
  const all = await app.page.locator("[data-testid=explorer-namespaces] th[data-ns-type=uts]").count();
  assert.ok(all > (await col.count()), "the lab's own UTS namespace is not highlighted");
  assert.ok((await app.page.locator("[data-testid=explorer-namespaces] tr[data-focus]").count()) >= 1, "the sleep's row");
  await screenshot(app.page, "lesson-explore");
  await app.page.locator("[data-testid=explorer-focus-clear]").click();
  assert.equal(await app.page.locator("[data-focus]").count(), 0, "cleared");
});

test("a step that asks for an answer is checked with what the learner typed", async () => {
  const step = app.page.locator("[data-testid=step][data-step-id=namespace-links]");
  await step.scrollIntoViewIfNeeded();
  const input = step.locator("[data-testid=answer-input]");
  await input.fill("12345");
  await step.locator("[data-testid=check-button]").click();
  await step.locator("[data-testid=step-feedback]").waitFor();
  assert.match(await step.locator("[data-testid=step-feedback]").innerText(), /12345 is not the number of any of your shell's namespaces/);
  // the real number, from the lab itself
  await step.locator("pre", { hasText: "stat -L -c %i /proc/$$/ns/net" }).locator("..").locator("[data-testid=run-button]").click();
  const text = await waitForText(app.page, /stat -L -c %i \/proc\/\$\$\/ns\/net\r?\n(\d+)/);
  const ino = /stat -L -c %i \/proc\/\$\$\/ns\/net\r?\n(\d+)/.exec(text)![1]!;
  await input.fill(ino);
  await input.press("Enter");
  await app.page.locator("[data-testid=step][data-step-id=namespace-links][data-state=passed]").waitFor({ timeout: 15_000 });
  assert.match(await step.locator("[data-testid=step-feedback]").innerText(), new RegExp(`net:\\[${ino}\\]`));
});

test("on the Chinese app.page, checks answer in Chinese", async () => {
  await app.page.goto(`${app.url}/lessons/uts-namespaces?lang=zh-CN`);
  await app.page.locator("[data-testid=terminal][data-state=open]").waitFor({ timeout: 20_000 });
  const step = app.page.locator("[data-testid=step][data-step-id=rename-from-outside]");
  await step.scrollIntoViewIfNeeded();
  await step.locator("[data-testid=check-button]").click();
  await step.locator("[data-testid=step-feedback]").waitFor();
  assert.match(await step.locator("[data-testid=step-feedback]").innerText(), /先拿走盒子给自己改名的能力/);
  assert.match(await step.locator("[data-testid=prediction]").first().innerText(), /先预测/);
});
