/**
 * The live explorer in a real browser, against a real lab: namespaces appearing and disappearing
 * as the learner types, PIDs at every level, a mount propagation scene, and a screenshot of each
 * view for docs/ (so the pictures stay current).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lessonWithExplorer, screenshot, typeInto, useApp } from "./browser.ts";

const app = useApp({ page: (a) => lessonWithExplorer(a.browser, a.server, "mount-namespaces") });

/** UTS namespaces the explorer shows as live (one that just went away stays a moment, marked data-gone) */
const utsInodes = () =>
  app.page.locator("[data-testid=explorer-namespaces] th[data-ns-type=uts][data-ns-ino]:not([data-gone])").evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute("data-ns-ino")))]);

/** Waits for a condition on the page; returns how long it took (printed, not asserted: tests never time things). */
async function within(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`never happened: ${what}`);
    await app.page.waitForTimeout(25);
  }
  const took = Date.now() - t0;
  console.log(`# explorer: ${what} after ${took} ms`);
  return took;
}

test("unshare -u makes a new UTS namespace appear with its process, and kill makes it go", async () => {
  await app.page.locator("[data-testid=explorer-tab-namespaces]").click();
  await app.page.locator("[data-testid=explorer-namespaces]").waitFor();
  const before = await utsInodes();
  await typeInto(app.page, "unshare -u sleep 1000 &\n");
  await within("a new UTS namespace", async () => (await utsInodes()).length > before.length);
  const added = (await utsInodes()).filter((i) => !before.includes(i))[0]!;
  const holder = app.page.locator(`[data-testid=explorer-namespaces] [data-pid-host]`, { has: app.page.locator(`[data-ns-type=uts][data-ns-ino="${added}"][data-member]`) });
  assert.ok((await holder.count()) >= 1, "a process is in the new UTS namespace");
  await screenshot(app.page, "explorer-namespaces");
  await typeInto(app.page, "kill %1\n");
  await within("the UTS namespace gone", async () => !(await utsInodes()).includes(added));
});

test("unshare -fp --mount-proc: the sleep is PID 1 in its namespace, beside its lab PID", async () => {
  await app.page.locator("[data-testid=explorer-tab-processes]").click();
  await typeInto(app.page, "unshare -fp --mount-proc sleep 1001 &\n");
  // NSpid "host lab 1": three levels, PID 1 in the innermost
  const row = app.page.locator("[data-testid=explorer-processes] [data-nspid]").filter({ hasText: "sleep" });
  const nested = async () => (await row.evaluateAll((els) => els.map((e) => e.getAttribute("data-nspid")!))).find((n) => / \d+ 1$/.test(n));
  await within("a process with PID 1 in a nested namespace", async () => !!(await nested()));
  const nspid = (await nested())!.split(" ").map(Number);
  assert.equal(nspid.length, 3, "host, lab, nested");
  assert.equal(nspid[2], 1);
  assert.ok(nspid[1]! > 1, "its lab PID");
  await screenshot(app.page, "explorer-processes");
  await typeInto(app.page, "kill %%\n");
});

test("a mount made shared propagates to its peer in another mount namespace, and is drawn so", async () => {
  await typeInto(app.page, "mkdir -p /mnt/peer && mount -t tmpfs peer /mnt/peer && mount --make-shared /mnt/peer && unshare -m --propagation unchanged sleep 1002 &\n");
  await typeInto(app.page, "sleep 0.3; mkdir -p /mnt/peer/sub && mount -t tmpfs sub /mnt/peer/sub\n");
  await app.page.locator("[data-testid=explorer-tab-mounts]").click();
  await app.page.locator("[data-testid=explorer-mounts]").waitFor();
  const shared = app.page.locator("[data-testid=explorer-mounts] [data-mount-point='/mnt/peer'][data-propagation^='shared:']");
  await within("/mnt/peer drawn as shared", async () => (await shared.count()) > 0);
  await screenshot(app.page, "explorer-mounts");
  await app.page.locator("[data-testid=explorer-tab-users]").click();
  await app.page.locator("[data-testid=explorer-users]").waitFor();
  assert.match(await app.page.locator("[data-testid=explorer-users]").innerText(), /65536/);
  await screenshot(app.page, "explorer-users");
  await app.page.locator("[data-testid=explorer-tab-trace]").click();
  await app.page.locator("[data-testid=trace-view-nslab]").click();
  await app.page.locator("[data-testid=explorer-trace] [data-sys=pivot_root]").first().waitFor();
  await screenshot(app.page, "explorer-trace");
});
