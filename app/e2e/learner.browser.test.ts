/**
 * What a learner trips on, in a real browser against real labs: Run goes where the text says, a
 * second terminal opens beside the first, the prompt says where you are, passes off screen are
 * announced, reloads keep feedback and the active terminal, the next step is checked as soon as
 * the current one passes, and a reset lab is announced with a way to rebuild it to the current step.
 */
import assert from "node:assert/strict";
import os from "node:os";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { freshPage, openLesson, terminalText, typeInto, until, useApp, waitForText } from "./browser.ts";

const app = useApp();

const step = (page: Page, id: string) => page.locator(`[data-testid=step][data-step-id=${id}]`);
const runButton = (page: Page, stepId: string, code: string) =>
  step(page, stepId).locator("[data-testid=code-block]", { hasText: code }).locator("[data-testid=run-button]");
const announced = (page: Page) => page.locator("[data-testid=announcer]").textContent().then((t) => t ?? "");

test("a plain Run goes to terminal 1 even after a Run in terminal 2, and every Run button shows its target", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "pid-namespaces");
  const runs = "[data-testid=steps] :is([data-testid=run-button], [data-testid=run-anyway])";
  const targets = await page.locator(runs).evaluateAll((bs) => bs.map((b) => [b.getAttribute("data-terminal"), b.textContent]));
  assert.ok(targets.length > 10);
  for (const [n, text] of targets) {
    assert.match(n ?? "", /^[1-8]$/, "a target on every Run");
    assert.ok(text!.includes(n!), `the button says it: ${text}`);
  }
  await runButton(page, "pid-1-inside", "ps -ef --forest").click();
  await waitForText(page, /ps -ef --forest/, 2);
  const plain = step(page, "pid-1-inside").locator("[data-testid=code-block]").filter({ has: page.locator("pre", { hasText: /^\s*ps -ef\s*$/ }) });
  // behind the step's unanswered prediction, a block's Run is "Run anyway" (same target)
  await plain.locator(":is([data-testid=run-button], [data-testid=run-anyway])").click();
  await waitForText(page, /# ps -ef$/m, 1);
  assert.doesNotMatch(await terminalText(page, 2), /# ps -ef$/m, "not typed into terminal 2");
  await page.context().close();
});

test("a step that names terminal 2 opens the terminals side by side, stacked on a phone", async () => {
  for (const [w, h] of [
    [1280, 720],
    [390, 844],
  ] as const) {
    const page = await freshPage(app.browser, { width: w, height: h });
    await openLesson(page, app.url, "pid-namespaces"); // its first step uses terminal 2
    await page.locator("[data-testid=terminal][data-terminal-index='2'][data-state=open]").waitFor({ timeout: 30_000 });
    await page.locator("[data-testid=terminal-split][data-split=on]").waitFor();
    const [a, b] = await Promise.all([1, 2].map((i) => page.locator(`[data-testid=terminal][data-terminal-index='${i}']`).boundingBox()));
    assert.ok(a && b && a.width > 50 && b.width > 50 && a.height > 50 && b.height > 50, "both terminals are visible at once");
    if (w > 800) assert.ok(b!.x >= a!.x + a!.width - 2 && Math.abs(a!.y - b!.y) < 2, "side by side");
    else assert.ok(b!.y >= a!.y + a!.height - 2, "stacked");
    // the learner can turn it off, and the one terminal takes the whole pane
    await page.locator("[data-testid=toggle-split]").click();
    await page.locator("[data-testid=terminal-split][data-split=off]").waitFor();
    assert.equal(await page.locator("[data-testid=terminal]:visible").count(), 1);
    await page.context().close();
  }
});

test("the prompt says which namespaces differ from the lab's; the Explorer labels terminals and marks where the learner is", async () => {
  const page = await freshPage(app.browser, { storage: { "nslab:explorer-open": "true" } });
  await openLesson(page, app.url, "uts-namespaces");
  assert.match(await terminalText(page), /root@lab-[0-9a-f]{6}:~# $/m, "the lab's own shell: no marks");
  await typeInto(page, "unshare --fork --pid --mount-proc bash\n");
  await waitForText(page, /root@lab-[0-9a-f]{6} \[pid\+1 mnt\]:~# $/m);
  await typeInto(page, "unshare --uts bash\n");
  await waitForText(page, /\[pid\+1 mnt uts\]:~# $/m);
  await page.locator("[data-testid=explorer-tab-processes]").click();
  // the server knows which terminal a process belongs to, which shell it started, and what is in front
  const here = page.locator("[data-testid=explorer-processes] tr[data-terminal='1'][data-foreground]");
  await until(page, "the nested bash in front", `(() => { const r = document.querySelectorAll("[data-testid=explorer-processes] tr[data-terminal='1'][data-foreground]"); return r.length === 1 && r[0].dataset.nspid.split(" ").length === 3; })()`);
  assert.match(await here.innerText(), /terminal 1/i);
  const login = page.locator("[data-testid=explorer-processes] tr[data-terminal='1'][data-terminal-shell]");
  assert.equal(await login.count(), 1, "the shell nslab started for terminal 1");
  assert.equal((await login.getAttribute("data-nspid"))!.split(" ").length, 2, "the login shell is in the lab's PID namespace");
  await typeInto(page, "exit\n");
  await waitForText(page, /\[pid\+1 mnt\]:~# $/m);
  await typeInto(page, "exit\n");
  await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m);
  await page.context().close();
});

test("a pass off screen is announced (toast and live region); the next step is checked at once", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "uts-namespaces");
  // step 1 asks for the kernel release (the lab runs on this host's kernel); step 2 for a renamed UTS namespace
  await step(page, "read-the-names").locator("[data-testid=answer-input]").fill(os.release());
  await page.locator("[data-testid=lesson-panel]").evaluate((el) => el.scrollTo(0, el.scrollHeight)); // step 1 out of view
  // one command, which also does step 2's task: its check runs as soon as step 1 passes
  await typeInto(page, "unshare --uts sh -c 'hostname web1; exec sleep 1000' &\n");
  await step(page, "read-the-names").and(page.locator("[data-state=passed]")).waitFor({ timeout: 20_000 });
  const toast = page.locator("[data-testid=toast]", { hasText: /1/ });
  await toast.first().waitFor({ timeout: 10_000 });
  assert.match(await announced(page), /passed/i);
  await step(page, "own-hostname").and(page.locator("[data-state=passed]")).waitFor({ timeout: 20_000 });
  await page.context().close();
});

test("after a reload the feedback and the active terminal are as they were", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "uts-namespaces");
  const s1 = step(page, "read-the-names");
  await s1.locator("[data-testid=answer-input]").fill(os.release());
  await runButton(page, "read-the-names", "uname -a").click();
  await s1.and(page.locator("[data-state=passed]")).waitFor({ timeout: 20_000 });
  const feedback = await s1.locator("[data-testid=step-feedback]").innerText();
  assert.match(feedback, /UTS namespace/);
  // step 2 names terminal 2, so the terminals are side by side now; one at a time, terminal 2 in front
  await page.locator("[data-testid=terminal-split][data-split=on]").waitFor({ timeout: 20_000 });
  await page.locator("[data-testid=toggle-split]").click();
  await page.locator("[data-testid=terminal-tab]").nth(1).click();
  await page.locator("[data-testid=terminal][data-terminal-index='2'][data-state=open]").waitFor({ timeout: 20_000 });
  await page.reload();
  await page.locator("[data-testid=terminal][data-terminal-index='2'][data-state=open]").waitFor({ timeout: 30_000 });
  assert.equal(await page.locator("[data-testid=terminal-split]").getAttribute("data-split"), "off", "one at a time, as the learner left it");
  assert.equal(await s1.locator("[data-testid=step-feedback]").innerText(), feedback, "the same feedback, not just Passed");
  assert.equal(await page.locator("[data-testid=terminal-tab]").nth(1).getAttribute("aria-selected"), "true", "terminal 2 still active");
  await page.context().close();
});

test("a reset lab is announced, and rebuild to this step replays the earlier steps in the fresh lab", async () => {
  const page = await freshPage(app.browser);
  page.on("dialog", (d) => void d.accept());
  await openLesson(page, app.url, "uts-namespaces");
  for (const id of ["read-the-names", "own-hostname"]) {
    await step(page, id).locator("[data-testid=solve-button]").click();
    await step(page, id).and(page.locator("[data-state=passed]")).waitFor({ timeout: 30_000 });
  }
  const oldLab = await page.locator("[data-testid=lab-info]").getAttribute("title");
  await page.locator("[data-testid=reset-lab]").click();
  await until(page, "a new lab", `(() => { const e = document.querySelector("[data-testid=lab-info]"); return e && e.title !== ${JSON.stringify(oldLab)}; })()`, 30_000);
  await until(page, "the reset announced", `/fresh|new lab/i.test(document.querySelector("[data-testid=announcer]")?.textContent ?? "")`);
  const current = step(page, "domainname");
  const rebuild = current.locator("[data-testid=rebuild]");
  await rebuild.waitFor({ timeout: 10_000 });
  await rebuild.click();
  await current.locator("[data-testid=rebuild-done]").waitFor({ timeout: 60_000 });
  // the fresh lab holds what step 2 made: a process in a UTS namespace of its own called web1
  await waitForText(page, /# $/m);
  await typeInto(page, "for p in /proc/[0-9]*; do nsenter -t ${p#/proc/} -u hostname; done 2>/dev/null | grep -c web1\n");
  await waitForText(page, /^[1-9]\d*$/m);
  await page.context().close();
});
