/**
 * A lab's lifetime and admission as a learner sees them, in headless Chromium against real servers:
 *  - a lab left alone: the page warns before it is put away; "I'm still here" keeps it; left alone
 *    again it is put away, the page says why and offers a fresh lab in one click;
 *  - a full server: "all labs are busy" with the learner's place in line, then their lab as soon as
 *    one frees; a rate limit: a countdown, then the lab; never an error page or a bare 429;
 *  - a workshop server: the access code form, a wrong code said so, the right one opens the lab.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { NslabServer } from "../../server/server.ts";
import { api, createLab } from "../../server/testing/harness.ts";
import { launch, screenshot, startAppServer, terminalText, typeInto, waitForText } from "./browser.ts";

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const LESSON = "/lessons/uts-namespaces";
const open = (page: Page) => page.locator('[data-testid=terminal][data-terminal-index="1"][data-state=open]').waitFor({ timeout: 30_000 });

/** Fails the test if the page ever shows an error card or a bare status code. */
function watchForErrors(page: Page): () => Promise<void> {
  const seen: string[] = [];
  void page.exposeFunction("nslabSawError", (what: string) => seen.push(what)).catch(() => {});
  void page.addInitScript(() => {
    new MutationObserver(() => {
      for (const el of document.querySelectorAll("[data-testid=lab-error],[data-testid=lab-rate-limited]"))
        (window as unknown as { nslabSawError(s: string): void }).nslabSawError(el.textContent ?? "");
      if (/\b(429|503)\b/.test(document.body?.innerText ?? "")) (window as unknown as { nslabSawError(s: string): void }).nslabSawError("a status code on the page");
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  return async () => assert.deepEqual(seen, [], "the page showed an error");
}

describe("a lab left alone", () => {
  let server: NslabServer;
  let page: Page;
  before(async () => {
    server = await startAppServer({ NSLAB_POOL: "0", NSLAB_IDLE_TIMEOUT: "10s", NSLAB_EXPIRY_WARNING: "6s" });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });
  after(async () => {
    await page?.close();
    await server?.close();
  });

  test("is warned, kept by \"I'm still here\", then put away with a notice and a fresh lab in one click", async () => {
    const noErrors = watchForErrors(page);
    await page.goto(server.url + LESSON);
    await open(page);
    const first = /root@(lab-[0-9a-f]{6})/.exec(await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m))![1]!;
    await typeInto(page, "echo progress-kept\n");
    await waitForText(page, /^progress-kept$/m);

    const banner = page.locator("[data-testid=lab-expiring]");
    await banner.waitFor({ timeout: 20_000 });
    assert.equal(await banner.getAttribute("data-reason"), "idle");
    assert.match(await banner.innerText(), /about to be put away[\s\S]*In \d+ s\./);
    await screenshot(page, "lab-expiring");
    await page.locator("[data-testid=lab-still-here]").click();
    await banner.waitFor({ state: "detached", timeout: 5_000 });
    assert.match(await terminalText(page), /progress-kept/, "the same lab, its shell untouched");

    // left alone again: warned, then put away; the page says why
    await banner.waitFor({ timeout: 20_000 });
    const gone = page.locator("[data-testid=lab-gone]");
    await gone.waitFor({ timeout: 20_000 });
    assert.match(await gone.innerText(), /Your lab was put away[\s\S]*Nothing happened in it for a while[\s\S]*progress is kept/);
    assert.equal(await page.locator("[data-testid=lab-new]").getAttribute("data-reason"), "idle");
    await screenshot(page, "lab-ended");

    // after a reload the page still knows why (the server answers 410 with the reason)
    await page.reload();
    await gone.waitFor({ timeout: 20_000 });
    assert.match(await gone.innerText(), /Your lab was put away/);

    await page.locator("[data-testid=lab-new]").click();
    await open(page);
    const second = /root@(lab-[0-9a-f]{6})/.exec(await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m))![1]!;
    assert.notEqual(second, first, "a fresh lab");
    await noErrors();
  });
});

describe("a full server", () => {
  let server: NslabServer;
  let page: Page;
  before(async () => {
    server = await startAppServer({ NSLAB_POOL: "0", NSLAB_MAX_LABS: "1", NSLAB_LABS_PER_MINUTE: "2" });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });
  after(async () => {
    await page?.close();
    await server?.close();
  });

  test("shows the learner's place in line, then their lab as soon as one frees; a rate limit is a countdown", async () => {
    const noErrors = watchForErrors(page);
    const holder = await createLab(server.url);
    const statuses: number[] = [];
    page.on("response", (r) => r.url().endsWith("/api/labs") && statuses.push(r.status()));
    await page.goto(server.url + LESSON);
    const queue = page.locator("[data-testid=lab-queue]");
    await queue.waitFor({ timeout: 20_000 });
    assert.match(await queue.innerText(), /All labs are busy[\s\S]*You are next in line \(1 waiting\)/);
    await screenshot(page, "lab-queue");
    await api(server.url, "DELETE", `/api/labs/${holder.id}`, holder.token);
    await open(page);
    await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m);
    assert.deepEqual(statuses, [202], "queued, then served through the queue");

    // a fresh lab asked for too soon (2 a minute from this address): a countdown, not an error
    page.once("dialog", (d) => void d.accept());
    await page.locator("[data-testid=reset-lab]").click();
    const wait = page.locator("[data-testid=lab-wait]");
    await wait.waitFor({ timeout: 20_000 });
    assert.equal(await wait.getAttribute("data-reason"), "rate_limited");
    assert.match(await wait.innerText(), /Trying again in \d+ s/);
    await screenshot(page, "lab-rate-limited");
    await noErrors();
  });
});

describe("a workshop server (access mode code)", () => {
  let server: NslabServer;
  let page: Page;
  before(async () => {
    server = await startAppServer({ NSLAB_POOL: "0", NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: "namespaces-2026" });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });
  after(async () => {
    await page?.close();
    await server?.close();
  });

  test("asks for the code, says when it is wrong, opens the lab with the right one", async () => {
    await page.goto(server.url + LESSON);
    const form = page.locator("[data-testid=lab-code]");
    await form.waitFor({ timeout: 20_000 });
    await page.locator("[data-testid=lab-code-input]").fill("not-the-code");
    await page.locator("[data-testid=lab-code-submit]").click();
    await page.locator("[data-testid=lab-code-wrong]").waitFor({ timeout: 10_000 });
    await screenshot(page, "lab-code");
    await page.locator("[data-testid=lab-code-input]").fill("namespaces-2026");
    await page.locator("[data-testid=lab-code-submit]").click();
    await open(page);
    await waitForText(page, /root@lab-[0-9a-f]{6}:~# $/m);
  });
});
