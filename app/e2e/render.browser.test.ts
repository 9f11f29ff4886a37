/**
 * Every learner sees their terminal: the WebGL renderer at device pixel ratios 1, 2 and 3 in
 * headless Chromium (software GL), and the DOM renderer when WebGL draws nothing. And a shell that
 * the server ended after the grace period is announced, not left silent.
 * This file's server keeps a disconnected shell for 2 s only (NSLAB_GRACE_MS).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { freshPage, inkPixels, openLesson, until, useApp } from "./browser.ts";

const app = useApp({ env: { NSLAB_GRACE_MS: "2000" } });

const TERM = "[data-testid=terminal][data-terminal-index='1']";

for (const dpr of [1, 2, 3]) {
  test(`at device pixel ratio ${dpr} the terminal shows its prompt`, async () => {
    const page = await freshPage(app.browser, { width: 800, height: 600, dpr });
    await openLesson(page, app.url, "pid-namespaces");
    // the renderer may switch once it has drawn: wait for the choice to settle
    await until(page, "a renderer chosen", `document.querySelector("${TERM}")?.dataset.rendererSettled === "true"`);
    const ink = await inkPixels(page, TERM);
    const renderer = await page.locator(TERM).getAttribute("data-renderer");
    console.log(`# dpr ${dpr}: renderer ${renderer}, ${ink} pixels of text`);
    assert.ok(ink > 200, `the terminal is not blank (renderer ${renderer}, ${ink} pixels differ from the background)`);
    // where WebGL does draw (here at ratio 1), the check keeps it: no needless fallback
    if (dpr === 1 && (await page.evaluate("!!document.createElement('canvas').getContext('webgl2')"))) assert.equal(renderer, "webgl");
    await page.context().close();
  });
}

test("the first output is on the screen (a frame) before the WebGL renderer and Unicode 11 load", async () => {
  const page = await freshPage(app.browser, { width: 800, height: 600 });
  // when each frame's callbacks ran, from the page's start. Not the callback's argument: that is
  // the frame's start (its vsync), which may come before a task that ran just ahead of the frame's
  // callbacks, such as the first output's parse (CI saw {"out":885,"up":941,"frames":0})
  await page.addInitScript(`(() => { const f = (window.__frames = []); const tick = () => { f.push(performance.now()); requestAnimationFrame(tick); }; requestAnimationFrame(tick); })()`);
  await openLesson(page, app.url, "pid-namespaces");
  await until(page, "the upgrade", `performance.getEntriesByName("nslab:terminal-upgrade").length > 0`);
  const m = (await page.evaluate(`(() => {
    const at = (n) => performance.getEntriesByName("nslab:" + n)[0].startTime;
    const out = at("first-output-parsed"), up = at("terminal-upgrade");
    return { out, up, frames: window.__frames.filter((t) => t > out && t <= up).length };
  })()`)) as { out: number; up: number; frames: number };
  assert.ok(m.up > m.out && m.frames >= 1, `a frame between the first output and the upgrade: ${JSON.stringify(m)}`);
  await page.context().close();
});

test("when WebGL draws nothing, the terminal falls back to the DOM renderer", async () => {
  const page = await freshPage(app.browser, { width: 800, height: 600 });
  // a WebGL that accepts every call and draws nothing (as the broken drivers do)
  await page.addInitScript(`(() => {
    for (const C of [WebGL2RenderingContext, WebGLRenderingContext])
      for (const m of ["drawArrays", "drawElements", "drawArraysInstanced", "drawElementsInstanced"]) if (C.prototype[m]) C.prototype[m] = function () {};
  })()`);
  await openLesson(page, app.url, "pid-namespaces");
  await until(page, "the DOM renderer", `document.querySelector("${TERM}")?.dataset.renderer === "dom" && document.querySelector("${TERM}")?.dataset.rendererSettled === "true"`);
  assert.match(await page.locator(`${TERM} .xterm-rows`).innerText(), /root@lab-[0-9a-f]{6}/, "the DOM renderer has the prompt as text");
  assert.ok((await inkPixels(page, TERM)) > 200, "and it is on the screen");
  await page.context().close();
});

test("a shell ended after the grace period is announced when the learner comes back", async () => {
  const page = await freshPage(app.browser);
  await openLesson(page, app.url, "uts-namespaces");
  const storage = await page.evaluate("JSON.stringify(localStorage)");
  await page.context().close(); // the learner walks away: the socket drops, the grace period starts
  await new Promise((r) => setTimeout(r, 4000));
  const back = await freshPage(app.browser, { storage: JSON.parse(storage as string) });
  await openLesson(back, app.url, "uts-namespaces"); // the same lab, a new shell
  const notice = back.locator("[data-testid=terminal-notice][data-reason=shell-ended]");
  await notice.waitFor({ timeout: 20_000 });
  await until(back, "the announcement", `/terminal 1/i.test(document.querySelector("[data-testid=announcer]")?.textContent ?? "")`);
  assert.match(await notice.innerText(), /terminal 1/i);
  await back.context().close();
});
