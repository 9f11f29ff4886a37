/**
 * The learner's own system calls in the explorer's Trace tab (seccomp user notification, native/
 * src/tracer.c): what a typed command asked the kernel, under "your commands", attributed to the
 * process that made the call, apart from what nslab did to build the lab.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lessonWithExplorer, screenshot, typeInto, useApp, waitForText } from "./browser.ts";

const app = useApp({ page: (a) => lessonWithExplorer(a.browser, a.server, "uts-namespaces") });

test("unshare -u hostname box: unshare(CLONE_NEWUTS) and sethostname(\"box\") under your commands, from that command's process", async () => {
  await app.page.locator("[data-testid=explorer-tab-trace]").click();
  await typeInto(app.page, "unshare -u hostname box; hostname\n");
  const rows = app.page.locator("[data-testid=trace-learner] tr[data-sys]");
  const unshare = rows.filter({ hasText: "CLONE_NEWUTS" }).and(app.page.locator("[data-sys=unshare]"));
  const sethostname = rows.filter({ hasText: '"box"' }).and(app.page.locator("[data-sys=sethostname]"));
  // generous deadlines: the assertion is that they come, not how fast
  await unshare.first().waitFor({ timeout: 20_000 });
  await sethostname.first().waitFor({ timeout: 20_000 });
  assert.equal(await app.page.locator("[data-testid=explorer-trace]").getAttribute("data-view"), "learner", "your commands are shown first");
  const u = { pid: await unshare.first().getAttribute("data-pid"), comm: await unshare.first().getAttribute("data-comm") };
  const h = { pid: await sethostname.first().getAttribute("data-pid"), comm: await sethostname.first().getAttribute("data-comm") };
  assert.equal(u.comm, "unshare");
  assert.equal(h.comm, "hostname", "unshare executed hostname: the same process under its new name");
  assert.ok(Number(u.pid) > 1, "a pid inside the lab");
  assert.equal(h.pid, u.pid, "both calls came from the one process the command started");
  assert.match(await sethostname.first().innerText(), /"box", 3/);
  // by the kernel's rule, from what the tracer read while hostname was suspended in the call
  assert.match(await sethostname.first().innerText(), /ok: root in the user namespace that owns uts:\[\d+\]/);
  // the learner's shell kept the lab's hostname: the new name lived in the new UTS namespace only
  assert.match(await waitForText(app.page, /^lab-[0-9a-f]{6}\s*$/m), /^lab-[0-9a-f]{6}\s*$/m);
  // nslab's own calls are still there, apart
  await app.page.locator("[data-testid=trace-view-nslab]").click();
  await app.page.locator("[data-testid=trace-nslab] [data-sys=pivot_root]").first().waitFor();
  assert.equal(await app.page.locator("[data-testid=trace-nslab] tr[data-sys=sethostname]").filter({ hasText: '"box"' }).count(), 0);
  await app.page.locator("[data-testid=trace-view-learner]").click();
  await screenshot(app.page, "explorer-trace-yours");
});

test("unshare -fp --mount-proc bash: the fork the tracer never sees is shown as inferred, between the unshare and the child's mount of proc, which has its result", async () => {
  await app.page.locator("[data-testid=explorer-tab-trace]").click();
  await typeInto(app.page, "unshare -fp --mount-proc bash\n");
  const rows = app.page.locator("[data-testid=trace-learner] tr[data-sys]");
  const unshare = rows.filter({ hasText: "CLONE_NEWPID" }).and(app.page.locator("[data-sys=unshare]"));
  const clone = rows.and(app.page.locator("[data-sys=clone][data-inferred]"));
  const mount = rows.filter({ hasText: '"proc", "/proc", "proc"' }).and(app.page.locator("[data-sys=mount]"));
  await clone.first().waitFor({ timeout: 20_000 });
  await mount.first().waitFor({ timeout: 20_000 });
  const cloneText = await clone.first().innerText();
  assert.match(cloneText, /inferred/, "marked as inferred");
  assert.match(cloneText, /child is PID 1 of pid:\[\d+\]/);
  assert.match(await mount.first().innerText(), /ok: proc at \/proc/);
  const seq = async (l: typeof rows) => Number(await l.first().getAttribute("data-trace-seq"));
  const [u, c, m] = [await seq(unshare), await seq(clone), await seq(mount)];
  assert.ok(u < c && c < m, `in order: unshare ${u}, clone ${c}, mount ${m}`);
  // a taller window, so that the rows show in the picture
  const size = app.page.viewportSize();
  await app.page.setViewportSize({ width: 1280, height: 1100 });
  await clone.first().scrollIntoViewIfNeeded();
  await screenshot(app.page, "explorer-trace-inferred");
  if (size) await app.page.setViewportSize(size);
  await typeInto(app.page, "exit\n");
});

/** Where the Trace tab's table and its cells end against the Explorer pane's edge, and whether anything scrolls sideways. */
async function traceFit(page: import("playwright-core").Page, view: "learner" | "nslab") {
  return (await page.evaluate(`(() => {
    const pane = document.querySelector("[data-testid=explorer]").getBoundingClientRect();
    const box = document.querySelector("[data-testid=trace-${view}]");
    const table = box.querySelector("table");
    const scroller = table.parentElement;
    const cells = [...table.querySelectorAll("td")].filter((c) => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > pane.right + 0.5);
    return {
      page: { scrollWidth: document.scrollingElement.scrollWidth, innerWidth, scrollX },
      pane: { left: pane.left, right: pane.right },
      table: { right: table.getBoundingClientRect().right },
      scroller: { scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth },
      overflowing: cells.slice(0, 5).map((c) => c.textContent.slice(0, 60)),
    };
  })()`)) as {
    page: { scrollWidth: number; innerWidth: number; scrollX: number };
    pane: { left: number; right: number };
    table: { right: number };
    scroller: { scrollWidth: number; clientWidth: number };
    overflowing: string[];
  };
}

test("the Trace tab fits its pane at 1280 px and on a phone (390 px): long arguments and results wrap, nothing runs off, the page never scrolls sideways", async () => {
  const page = app.page;
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.locator("[data-testid=explorer-tab-trace]").click();
  await page.locator("[data-testid=trace-view-learner]").click();
  // long results: an inferred fork ("ok: child is PID 1 of pid:[…], PID n in the lab"), a refused sethostname
  await typeInto(page, "unshare -fp --mount-proc sleep 3; unshare -U hostname nope\n");
  const rows = page.locator("[data-testid=trace-learner] tr[data-sys]");
  await rows.and(page.locator("[data-sys=clone][data-inferred]")).first().waitFor({ timeout: 20_000 });
  await rows.filter({ hasText: '"nope"' }).first().waitFor({ timeout: 20_000 });
  for (const size of [{ width: 1280, height: 720 }, { width: 390, height: 844 }]) {
    await page.setViewportSize(size);
    for (const view of ["learner", "nslab"] as const) {
      await page.locator(`[data-testid=trace-view-${view}]`).click();
      await page.locator(`[data-testid=trace-${view}] tr[data-sys]`).first().waitFor();
      await page.waitForTimeout(200);
      const m = await traceFit(page, view);
      const at = `${size.width} px, ${view}: ${JSON.stringify(m)}`;
      assert.ok(m.page.scrollWidth <= m.page.innerWidth && m.page.scrollX === 0, `the page does not scroll sideways (${at})`);
      assert.ok(m.table.right <= m.pane.right + 0.5, `the table ends inside the Explorer pane (${at})`);
      assert.ok(m.scroller.scrollWidth <= m.scroller.clientWidth + 1, `the table needs no sideways scroll in its box (${at})`);
      assert.deepEqual(m.overflowing, [], `no cell's content runs past its cell or the pane (${at})`);
    }
    await page.locator("[data-testid=trace-view-learner]").click();
    if (size.width === 390) {
      // the picture: the lesson and the terminal dragged small, as a learner reading the trace would
      await page.evaluate(`for (const [k, v] of [["nslab:split:lesson-v", 0.1], ["nslab:split:explorer", 0.2]]) {
        localStorage.setItem(k, JSON.stringify(v));
        dispatchEvent(new StorageEvent("storage", { key: k }));
      }`);
      await page.waitForTimeout(300);
      await screenshot(page, "explorer-trace-phone");
    }
  }
  await page.setViewportSize({ width: 1280, height: 720 });
});
