/**
 * A lab's lifetime and admission as a learner sees them, in headless Chromium against real servers:
 *  - a lab left alone: the page warns before it is put away; "I'm still here" keeps it; left alone
 *    again it is put away, the page says why and offers a fresh lab in one click;
 *  - a full server: "all labs are busy" with the learner's place in line, then their lab as soon as
 *    one frees; a rate limit: a countdown, then the lab; never an error page or a bare 429;
 *  - a workshop server: the access code form, a wrong code said so, the right one opens the lab.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { api, createLab } from "../../server/testing/harness.ts";
import { plainPage, screenshot, terminalText, typeInto, useApp, useBrowser, waitForText } from "./browser.ts";

const chromium = useBrowser();

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
  const app = useApp({ env: { NSLAB_POOL: "0", NSLAB_IDLE_TIMEOUT: "10s", NSLAB_EXPIRY_WARNING: "6s" }, browser: chromium, page: (a) => plainPage(a) });

  test("is warned, kept by \"I'm still here\", then put away with a notice and a fresh lab in one click", async () => {
    const noErrors = watchForErrors(app.page);
    await app.page.goto(app.url + LESSON);
    await open(app.page);
    const first = /root@(lab-[0-9a-f]{6})/.exec(await waitForText(app.page, /root@lab-[0-9a-f]{6}:~# $/m))![1]!;
    await typeInto(app.page, "echo progress-kept\n");
    await waitForText(app.page, /^progress-kept$/m);

    const banner = app.page.locator("[data-testid=lab-expiring]");
    await banner.waitFor({ timeout: 20_000 });
    assert.equal(await banner.getAttribute("data-reason"), "idle");
    assert.match(await banner.innerText(), /about to be put away[\s\S]*In \d+ s\./);
    await screenshot(app.page, "lab-expiring");
    await app.page.locator("[data-testid=lab-still-here]").click();
    await banner.waitFor({ state: "detached", timeout: 5_000 });
    assert.match(await terminalText(app.page), /progress-kept/, "the same lab, its shell untouched");

    // left alone again: warned, then put away; the page says why
    await banner.waitFor({ timeout: 20_000 });
    const gone = app.page.locator("[data-testid=lab-gone]");
    await gone.waitFor({ timeout: 20_000 });
    assert.match(await gone.innerText(), /Your lab was put away[\s\S]*Nothing happened in it for a while[\s\S]*progress is kept/);
    assert.equal(await app.page.locator("[data-testid=lab-new]").getAttribute("data-reason"), "idle");
    await screenshot(app.page, "lab-ended");

    // after a reload the page still knows why (the server answers 410 with the reason)
    await app.page.reload();
    await gone.waitFor({ timeout: 20_000 });
    assert.match(await gone.innerText(), /Your lab was put away/);

    await app.page.locator("[data-testid=lab-new]").click();
    await open(app.page);
    const second = /root@(lab-[0-9a-f]{6})/.exec(await waitForText(app.page, /root@lab-[0-9a-f]{6}:~# $/m))![1]!;
    assert.notEqual(second, first, "a fresh lab");
    await noErrors();
  });
});

describe("a full server", () => {
  const app = useApp({ env: { NSLAB_POOL: "0", NSLAB_MAX_LABS: "1", NSLAB_LABS_PER_MINUTE: "2" }, browser: chromium, page: (a) => plainPage(a) });

  test("shows the learner's place in line, then their lab as soon as one frees; a rate limit is a countdown", async () => {
    const noErrors = watchForErrors(app.page);
    const holder = await createLab(app.url);
    const statuses: number[] = [];
    app.page.on("response", (r) => r.url().endsWith("/api/labs") && statuses.push(r.status()));
    // a first visit asks on the socket that makes its lab: its first message is POST's answer
    app.page.on("websocket", (ws) => {
      if (!ws.url().includes("/api/labs/new/terminals")) return;
      ws.on("framereceived", (f) => {
        const m = typeof f.payload === "string" && f.payload.startsWith("{") ? JSON.parse(f.payload) : null;
        if (m?.type === "lab") statuses.push(m.status);
      });
    });
    await app.page.goto(app.url + LESSON);
    const queue = app.page.locator("[data-testid=lab-queue]");
    await queue.waitFor({ timeout: 20_000 });
    assert.match(await queue.innerText(), /All labs are busy[\s\S]*You are next in line \(1 waiting\)/);
    await screenshot(app.page, "lab-queue");
    await api(app.url, "DELETE", `/api/labs/${holder.id}`, holder.token);
    await open(app.page);
    await waitForText(app.page, /root@lab-[0-9a-f]{6}:~# $/m);
    assert.deepEqual(statuses, [202], "queued, then served through the queue");

    // a fresh lab asked for too soon (2 a minute from this address): a countdown, not an error
    app.page.once("dialog", (d) => void d.accept());
    await app.page.locator("[data-testid=reset-lab]").click();
    const wait = app.page.locator("[data-testid=lab-wait]");
    await wait.waitFor({ timeout: 20_000 });
    assert.equal(await wait.getAttribute("data-reason"), "rate_limited");
    assert.match(await wait.innerText(), /Trying again in \d+ s/);
    await screenshot(app.page, "lab-rate-limited");
    await noErrors();
  });
});

describe("a workshop server (access mode code)", () => {
  const app = useApp({ env: { NSLAB_POOL: "0", NSLAB_ACCESS: "code", NSLAB_ACCESS_CODES: "namespaces-2026" }, browser: chromium, page: (a) => plainPage(a) });

  test("asks for the code, says when it is wrong, opens the lab with the right one", async () => {
    await app.page.goto(app.url + LESSON);
    const form = app.page.locator("[data-testid=lab-code]");
    await form.waitFor({ timeout: 20_000 });
    await app.page.locator("[data-testid=lab-code-input]").fill("not-the-code");
    await app.page.locator("[data-testid=lab-code-submit]").click();
    await app.page.locator("[data-testid=lab-code-wrong]").waitFor({ timeout: 10_000 });
    await screenshot(app.page, "lab-code");
    await app.page.locator("[data-testid=lab-code-input]").fill("namespaces-2026");
    await app.page.locator("[data-testid=lab-code-submit]").click();
    await open(app.page);
    await waitForText(app.page, /root@lab-[0-9a-f]{6}:~# $/m);
  });

  test("an instructor starting a class is asked for the workshop code too; a wrong one is refused, the right one opens the dashboard", async () => {
    const page = app.page;
    await page.goto(`${app.url}/classes/new`);
    await page.locator("[data-testid=class-title-input]").fill("Workshop class");
    await page.locator("[data-testid=class-lesson-option][data-lesson-id=uts-namespaces]").check();
    const code = page.locator("[data-testid=class-access-code]");
    assert.equal(await code.count(), 0, "no code field until the server asks for one");
    await page.locator("[data-testid=create-class-submit]").click();
    await code.waitFor({ timeout: 20_000 });
    await code.fill("not-the-code");
    await page.locator("[data-testid=create-class-submit]").click();
    const alert = page.locator("[data-testid=create-class-form] [role=alert]");
    await alert.waitFor({ timeout: 10_000 });
    assert.match(await alert.innerText(), /access code is not right\. Check it with the server.s operator/, "the instructor is told whom to ask, in the page's language");
    assert.match(new URL(page.url()).pathname, /^\/classes\/new$/, "still on the form");
    // the date and time fields show the whole value ("11/30/2026, 06:00 PM" and the picker's icon)
    for (const w of await page.locator("input[type=datetime-local]").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width)))
      assert.ok(w >= 230, `a datetime field is ${w} px wide: its time is cut`);
    await screenshot(page, "class-code");
    await code.fill("namespaces-2026");
    await page.locator("[data-testid=create-class-submit]").click();
    await page.locator("[data-testid=dashboard]").waitFor({ timeout: 20_000 });
    assert.equal(await page.locator("[data-testid=dashboard-title]").innerText(), "Workshop class");
  });
});
