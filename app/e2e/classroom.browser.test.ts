/**
 * A class in three browsers (an instructor and two learners), against a real server and real labs:
 * joining with the code, a step passed on the dashboard, the broadcast in both learners' panes,
 * watching a learner's own terminal (and the learner seeing it), take-over only with consent,
 * "follow me", and the end destroying the labs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { screenshot, terminalText, typeInto, useApp, waitForText } from "./browser.ts";

const contexts: BrowserContext[] = [];
let teacher: Page;
let ada: Page;
let bob: Page;
let classId = "";
let code = "";
let key = "";

const app = useApp({
  env: { NSLAB_CLASS_END_WARNING_MS: "4000" },
  setup: async (a) => {
    for (let i = 0; i < 3; i++) contexts.push(await a.browser.newContext({ viewport: { width: 1280, height: 720 } }));
    [teacher, ada, bob] = await Promise.all(contexts.map((c) => c.newPage()));
  },
});

/** The text a stream view (broadcast or watch) shows. */
async function streamText(page: Page, kind: "broadcast" | "watch"): Promise<string> {
  return page.locator(`[data-testid=stream-view][data-stream=${kind}]`).evaluate((el) => (el as HTMLElement & { nslabText?(): string }).nslabText?.() ?? "");
}
async function waitForStream(page: Page, kind: "broadcast" | "watch", re: RegExp, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  let text = "";
  while (Date.now() < end) {
    text = await streamText(page, kind).catch(() => "");
    if (re.test(text)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`the ${kind} view never showed ${re}; it shows:\n${text.slice(-1500)}`);
}

test("the instructor starts a class; two learners join with the code", async () => {
  await teacher.goto(`${app.url}/classes/new`);
  await teacher.locator("[data-testid=class-title-input]").fill("Containers, <b>morning</b> group");
  await teacher.locator("[data-testid=class-lesson-option][data-lesson-id=uts-namespaces]").check();
  await teacher.locator("[data-testid=class-lesson-option][data-lesson-id=pid-namespaces]").check();
  await teacher.locator("[data-testid=create-class-submit]").click();
  await teacher.locator("[data-testid=dashboard]").waitFor({ timeout: 20_000 });
  const url = new URL(teacher.url());
  classId = url.pathname.split("/")[2]!;
  key = /key=([A-Za-z0-9_-]+)/.exec(url.hash)![1]!;
  code = (await teacher.locator("[data-testid=class-code]").innerText()).replace("-", "");
  assert.match(code, /^[2-9A-Z]{6}$/);
  assert.equal(await teacher.locator("[data-testid=dashboard-title]").innerText(), "Containers, <b>morning</b> group", "a title is text, never HTML");

  await teacher.locator("[data-testid=open-join-screen]").click();
  const qr = await teacher.locator("[data-testid=join-qr]").getAttribute("data-text");
  assert.equal(qr, `${app.url}/join?code=${code}`);
  await screenshot(teacher, "class-join-screen");
  await teacher.locator("[data-testid=close-join-screen]").click();

  // Ada types the code as she reads it off the projector; Bob scans the QR code
  await ada.goto(`${app.url}/join`);
  await ada.locator("[data-testid=join-code]").fill(`${code.slice(0, 3).toLowerCase()}-${code.slice(3)}`);
  await ada.locator("[data-testid=join-name]").fill("Ada");
  await screenshot(ada, "class-join");
  await ada.locator("[data-testid=join-submit]").click();
  await bob.goto(qr!);
  await bob.locator("[data-testid=join-name]").fill("=HYPERLINK(\"http://x\")<img src=x onerror=alert(1)>");
  await bob.locator("[data-testid=join-submit]").click();
  for (const p of [ada, bob]) {
    await p.waitForURL(/\/class\/[0-9a-f]{16}\/uts-namespaces/, { timeout: 30_000 });
    await p.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 30_000 });
    await waitForText(p, /# $/m);
  }
  await teacher.locator("[data-testid=learner-tile]").nth(1).waitFor({ timeout: 15_000 });
  assert.equal(await teacher.locator("[data-testid=learner-tile]").count(), 2);
  assert.equal(await teacher.locator("[data-testid=learner-tile] [data-testid=learner-name]").filter({ hasText: "<img" }).count(), 1, "a name is shown as text");

  // nothing of the instructor's reaches a learner's page
  for (const p of [ada, bob]) {
    assert.ok(!(await p.content()).includes(key));
    assert.ok(!(await p.evaluate(() => JSON.stringify(localStorage))).includes(key));
  }
});

test("a step a learner passes shows on the dashboard", async () => {
  const step = ada.locator("[data-testid=step][data-step-id=read-the-names]");
  await step.locator("[data-testid=run-button]").first().click();
  // the step asks for what only the kernel knows: the release uname printed
  const release = /^Linux lab-[0-9a-f]{6} (\S+) /m.exec(await waitForText(ada, /^Linux lab-[0-9a-f]{6} \S+ /m))![1]!;
  await step.locator("[data-testid=answer-input]").fill(release);
  await step.locator("[data-testid=check-button]").click();
  await ada.locator("[data-testid=step][data-step-id=read-the-names][data-state=passed]").waitFor({ timeout: 20_000 });
  await teacher.locator("[data-testid=learner-tile][data-passed='1']").waitFor({ timeout: 10_000 });
  assert.equal(await teacher.locator("[data-testid=learner-tile][data-passed='1'] [data-testid=learner-name]").innerText(), "Ada");
  await screenshot(teacher, "class-dashboard");
});

let demo: Page;
test("the instructor's typing appears in both learners' broadcast panes", async () => {
  demo = await contexts[0]!.newPage();
  await demo.goto(`${app.url}/instructor/${classId}/demo?lesson=uts-namespaces`);
  await demo.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 30_000 });
  await waitForText(demo, /# $/m);
  await demo.locator("[data-testid=broadcast-toggle][data-live=true]").or(demo.locator("[data-testid=broadcast-toggle]:not([disabled])")).first().click();
  await demo.locator("[data-testid=broadcast-toggle][data-live=true]").waitFor({ timeout: 10_000 });
  await typeInto(demo, "echo on-air-$((6*7))\r");
  await waitForText(demo, /^on-air-42$/m);
  for (const p of [ada, bob]) await waitForStream(p, "broadcast", /on-air-42/);
  await screenshot(demo, "class-demo-mode");
  await screenshot(bob, "class-learner-broadcast");
});

test("the instructor watches a learner's own terminal; the learner sees it; take-over needs consent", async () => {
  await typeInto(bob, "echo bob-$((2+3))\r");
  await waitForText(bob, /^bob-5$/m);
  await teacher.locator("[data-testid=learner-tile]").filter({ hasText: "HYPERLINK" }).click();
  await waitForStream(teacher, "watch", /bob-5/);
  await bob.locator("[data-testid=watch-indicator][data-count='1']").waitFor({ timeout: 10_000 });
  await typeInto(bob, "echo live-$((3*3))\r");
  await waitForStream(teacher, "watch", /live-9/);

  // without consent, typing in the watch view reaches nothing
  await teacher.locator("[data-testid=stream-view][data-stream=watch]").click();
  await teacher.keyboard.type("echo uninvited\r");
  await teacher.locator("[data-testid=ask-takeover]").click();
  const prompt = bob.locator("[data-testid=consent-prompt][data-kind=takeover]");
  await prompt.waitFor({ timeout: 10_000 });
  await screenshot(bob, "class-learner-consent");
  assert.doesNotMatch(await terminalText(bob), /uninvited/);
  assert.match(await teacher.locator("[data-testid=watch-mode]").innerText(), /^Read-only/);
  await bob.locator("[data-testid=consent-allow]").click();
  await teacher.locator("[data-testid=takeover-granted]").filter({ hasText: /./ }).waitFor({ timeout: 10_000 });
  await teacher.waitForFunction(() => !document.querySelector("[data-testid=takeover-granted]")?.textContent?.includes("…"), null, { timeout: 10_000 });
  await teacher.locator("[data-testid=stream-view][data-stream=watch]").click();
  await teacher.keyboard.type("echo helped-$((40+2))\r", { delay: 10 });
  await waitForText(bob, /^helped-42$/m);
  await bob.locator("[data-testid=takeover-indicator]").waitFor();
  assert.match(await teacher.locator("[data-testid=watch-mode]").innerText(), /You are typing into the learner's own shell/, "the panel no longer says read-only");
  // the learner's whole screen fits the panel (the font is scaled to it), nothing is cut at the right
  const fit = await teacher.locator("[data-testid=stream-view][data-stream=watch]").evaluate((el) => {
    const screen = el.querySelector(".xterm-screen")!.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return { screen: [screen.right, screen.bottom], box: [box.right, box.bottom] };
  });
  assert.ok(fit.screen[0]! <= fit.box[0]! + 0.5 && fit.screen[1]! <= fit.box[1]! + 0.5, `the learner's screen ${JSON.stringify(fit.screen)} ends outside the watch view ${JSON.stringify(fit.box)}`);
  await screenshot(teacher, "class-watch");
  // a card shows the lesson's title (cut with an ellipsis when long) and always the step count
  const card = await teacher.locator("[data-testid=learner-lesson]").first().evaluate((el) => {
    const title = el.firstElementChild as HTMLElement;
    return { text: el.textContent, cut: title.scrollWidth > title.clientWidth, ellipsis: getComputedStyle(title).textOverflow };
  });
  assert.match(card.text ?? "", /^UTS namespaces: a hostname of your own · \d\/\d+$/);
  if (card.cut) assert.equal(card.ellipsis, "ellipsis");
  await bob.locator("[data-testid=revoke-takeover]").click();
  await teacher.locator("[data-testid=ask-takeover]").waitFor({ timeout: 10_000 });
  await teacher.locator("[data-testid=close-learner]").click();
  await bob.locator("[data-testid=watch-indicator]").waitFor({ state: "detached", timeout: 10_000 });
});

test("follow me moves both learners", async () => {
  await demo.locator("[data-testid=demo-lesson]").selectOption("pid-namespaces");
  await demo.waitForURL(/lesson=pid-namespaces/);
  await demo.locator("[data-testid=step][data-step-id=pid-1-inside]").waitFor({ timeout: 30_000 });
  await demo.locator("[data-testid=follow-me]").click();
  for (const p of [ada, bob]) {
    await p.waitForURL(/\/class\/[0-9a-f]{16}\/pid-namespaces/, { timeout: 15_000 });
    await p.locator("[data-testid=follow-notice][data-moved=true]").waitFor({ timeout: 15_000 });
  }
  await ada.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 30_000 });
  await ada.locator("[data-testid=dismiss-notice]").click();
  await ada.locator("[data-testid=follow-notice]").waitFor({ state: "detached" });
});

test("ending the class warns, then destroys the learners' labs", async () => {
  const roster = await fetch(`${app.url}/api/classes/${classId}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.json());
  const labs = (roster.learners as { lab: { id: string } | null }[]).map((l) => l.lab!.id);
  assert.equal(labs.length, 2);
  for (const id of labs) assert.ok(app.server.mgr.get(id)?.running);
  teacher.once("dialog", (d) => void d.accept());
  await teacher.locator("[data-testid=end-class]").click();
  for (const p of [ada, bob]) await p.locator("[data-testid=ending-banner]").waitFor({ timeout: 10_000 });
  for (const p of [ada, bob]) await p.locator("[data-testid=class-ended]").waitFor({ timeout: 20_000 });
  for (const id of labs) assert.equal(app.server.mgr.get(id), undefined, "the lab is gone");
  await teacher.locator("[data-testid=dashboard][data-class-state=ended]").waitFor({ timeout: 10_000 });
});
