/**
 * The terminal in a real browser: typing, a reload that returns to the same shell, a second
 * terminal, and a flood stopped by Ctrl-C that leaves the page responsive.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { plainPage, screenshot, terminalText, typeInto, useApp, waitForText } from "./browser.ts";

const app = useApp({ page: (a) => plainPage(a) });

const terminalOpen = (i = 1) => app.page.locator(`[data-testid=terminal][data-terminal-index="${i}"][data-state=open]`).waitFor({ timeout: 20_000 });

test("a lesson page opens a live terminal into the learner's lab", async () => {
  await app.page.goto(`${app.url}/lessons/pid-namespaces`);
  await terminalOpen();
  await waitForText(app.page, /root@lab-[0-9a-f]{6}:~# $/m);
  await typeInto(app.page, "echo hi$((40+2))\n");
  await waitForText(app.page, /^hi42$/m);
  await screenshot(app.page, "lesson-terminal");
});

/** A fresh browser profile on a lesson page, with what asked for each lab request and each new shell's socket. */
async function watchedVisit(opts: { refuseNewLabSocket?: boolean } = {}) {
  const ctx = await app.browser.newContext({ viewport: { width: 1280, height: 720 } });
  const p = await ctx.newPage();
  // a host where the socket that makes its lab cannot be had (a cluster's web replica, a cap)
  if (opts.refuseNewLabSocket) await p.routeWebSocket(/\/api\/labs\/new\/terminals/, (ws) => ws.close({ code: 1011 }));
  // who started each lab request: the document's own (inline) script, or a JavaScript bundle
  const cdp = await ctx.newCDPSession(p);
  await cdp.send("Network.enable");
  const labRequests: { method: string; path: string; by: string }[] = [];
  cdp.on("Network.requestWillBeSent", (e) => {
    const u = new URL(e.request.url);
    if (!/^\/api\/labs(\/[0-9a-f]{16})?$/.test(u.pathname)) return;
    const frame = e.initiator.stack?.callFrames[0] ?? (e.initiator.stack?.parent?.callFrames[0] as { url: string } | undefined);
    labRequests.push({ method: e.request.method, path: u.pathname, by: frame?.url ? new URL(frame.url).pathname : e.initiator.type });
  });
  // and who opened each terminal socket that asked for a new shell (no terminal= to reattach to)
  const newShells: { path: string; by: string }[] = [];
  cdp.on("Network.webSocketCreated", (e) => {
    const u = new URL(e.url);
    if (!/^\/api\/labs\/([0-9a-f]{16}|new)\/terminals$/.test(u.pathname) || u.searchParams.has("terminal")) return;
    const frame = e.initiator?.stack?.callFrames[0] ?? (e.initiator?.stack?.parent?.callFrames[0] as { url: string } | undefined);
    newShells.push({ path: u.pathname.replace(/[0-9a-f]{16}/, "ID"), by: frame?.url ? new URL(frame.url).pathname : (e.initiator?.type ?? "?") });
  });
  const lesson = "/lessons/uts-namespaces";
  await p.goto(`${app.url}${lesson}`);
  await p.locator(`[data-testid=terminal][data-terminal-index="1"][data-state=open]`).waitFor({ timeout: 20_000 });
  await waitForText(p, /root@lab-[0-9a-f]{6}:~# $/m);
  return { ctx, p, lesson, labRequests, newShells };
}

test("the lab and its first terminal come in one socket the page's inline script opens while its JavaScript loads, once; a reload asks for the same lab early", async () => {
  const { ctx, p, lesson, labRequests, newShells } = await watchedVisit();
  assert.deepEqual(labRequests.filter((r) => r.method === "POST"), [], "no POST: the socket made the lab");
  // the inline script opened the socket that made the lab, and the first terminal took it over
  // (one socket per shell on the page: none left behind, none opened twice)
  const shells = await p.locator("[data-testid=terminal]").count();
  assert.deepEqual(newShells[0], { path: "/api/labs/new/terminals", by: lesson }, "the first shell's socket, which made the lab, is opened by the document's inline script");
  assert.equal(newShells.length, shells, `one socket per terminal on the page (${shells}): ${JSON.stringify(newShells)}`);
  await typeInto(p, "echo early$((6*7))\n");
  await waitForText(p, /^early42$/m);
  const host = /root@(lab-[0-9a-f]{6})/.exec(await terminalText(p))![1]!;
  labRequests.length = 0;
  await p.reload();
  await waitForText(p, new RegExp(`root@${host}:~# $`, "m"));
  assert.equal(labRequests.filter((r) => r.method === "POST").length, 0, "the reload makes no new lab");
  assert.equal(labRequests[0]?.method, "GET");
  assert.equal(labRequests[0]?.by, lesson, "the stored lab's status is asked for by the inline script");
  await ctx.close();
});

test("where that socket cannot be had, the inline script POSTs for the lab and opens its first terminal, as before", async () => {
  // (Playwright's stand-in for the refused socket hides the page's sockets from the browser's
  // network events: the server says how many terminals are attached instead)
  const { ctx, p, lesson, labRequests } = await watchedVisit({ refuseNewLabSocket: true });
  assert.deepEqual(labRequests.filter((r) => r.method === "POST"), [{ method: "POST", path: "/api/labs", by: lesson }], "one lab, asked for by the document's inline script");
  await typeInto(p, "echo fallback$((6*7))\n");
  await waitForText(p, /^fallback42$/m);
  const shells = await p.locator("[data-testid=terminal]").count();
  const stored = JSON.parse((await p.evaluate(() => localStorage.getItem("nslab:lab:uts-namespaces")))!) as { id: string; token: string };
  const status = await (await fetch(`${app.url}/api/labs/${stored.id}`, { headers: { authorization: `Bearer ${stored.token}` } })).json();
  assert.equal(status.terminals.filter((t: { attached: boolean }) => t.attached).length, shells, `one attached terminal per terminal on the page (${shells}): ${JSON.stringify(status.terminals)}`);
  assert.equal(status.terminals.length, shells, "and no shell left behind");
  await ctx.close();
});

test("a reload returns to the same shell, with its history", async () => {
  await app.page.reload();
  await terminalOpen();
  const replayed = await waitForText(app.page, /^hi42$/m);
  assert.equal(replayed.split("\n").filter((l) => l === "hi42").length, 1, "the replayed output is not duplicated");
  await typeInto(app.page, "history | grep -c 'hi[$]((40'\n"); // the pattern does not match its own line
  await waitForText(app.page, /^1$/m);
});

test("a second terminal is another shell in the same lab", async () => {
  // this lesson's first step uses terminal 2: it opened beside terminal 1 by itself
  await terminalOpen(2);
  await waitForText(app.page, /# $/m, 2);
  await typeInto(app.page, "tty; hostname\n", 2);
  const text = await waitForText(app.page, /\/dev\/pts\/\d+\nlab-[0-9a-f]{6}/, 2);
  const first = await terminalText(app.page, 1);
  const host = /root@(lab-[0-9a-f]{6})/.exec(first)![1]!;
  assert.match(text, new RegExp(host), "both terminals are in the same lab");
  assert.equal(await app.page.locator("[data-testid=terminal-tab]").count(), 2);
  // + opens one more, in front
  await app.page.locator("[data-testid=add-terminal]").click();
  await terminalOpen(3);
  await waitForText(app.page, /# $/m, 3);
  assert.equal(await app.page.locator("[data-testid=terminal-tab]").count(), 3);
});

test("a yes flood stopped by Ctrl-C leaves the page responsive", async () => {
  await app.page.locator("[data-testid=terminal-tab]").first().click();
  await terminalOpen(1);
  await typeInto(app.page, "yes nslab-flood\n");
  // the flood is on the screen (many lines of it, not just the echo of the command)
  await waitForText(app.page, /(^nslab-flood\n){5}/m);
  // the page answers while the flood runs (a generous deadline: a hung main thread never answers)
  let deadline: NodeJS.Timeout | undefined;
  const answered = await Promise.race([
    app.page.evaluate(() => 1 + 1),
    new Promise<"hung">((r) => (deadline = setTimeout(() => r("hung"), 30_000))),
  ]).finally(() => clearTimeout(deadline));
  assert.equal(answered, 2, "the page's main thread answered during the flood");
  await app.page.keyboard.press("Control+C");
  await waitForText(app.page, /\^C\n?.*# $/m, 1, 10_000);
  await typeInto(app.page, "echo after-$((2*21))\n");
  await waitForText(app.page, /^after-42$/m);
  // the theme switch flips <html data-theme> and the page keeps the learner's choice across a reload
  const theme = () => app.page.locator("html").getAttribute("data-theme");
  const was = await theme();
  assert.ok(was === "light" || was === "dark", `a theme to start from: ${was}`);
  const other = was === "light" ? "dark" : "light";
  await app.page.locator("[data-testid=theme-toggle]").click();
  assert.equal(await theme(), other);
  await app.page.reload();
  await terminalOpen();
  assert.equal(await theme(), other, "remembered across a reload");
  await app.page.locator("[data-testid=theme-toggle]").click();
  assert.equal(await theme(), was);
});
