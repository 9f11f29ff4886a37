import "server-only";
/**
 * Shared setup for browser tests: a real nslab server (pages from the production build, API,
 * WebSockets) on a free port, and headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core.
 */
import fs from "node:fs";
import { after, before } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { startServer, type NslabServer } from "../../server/server.ts";
import { testConfig } from "../../server/testing/instance.ts";

export const CHROMIUM = process.env.NSLAB_CHROMIUM ?? "/usr/bin/chromium";

export async function startAppServer(env: Record<string, string> = {}): Promise<NslabServer> {
  if (!fs.existsSync(".next/BUILD_ID")) throw new Error("browser tests need a production build: npm run build");
  if (!fs.existsSync(CHROMIUM)) throw new Error(`browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`);
  return startServer(testConfig({ tag: "browser", env: { NODE_ENV: "production", NSLAB_POOL: "1", ...env } }));
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A Chromium shared by the tests of a file (hooks registered where this is called). */
export interface SharedBrowser {
  readonly browser: Browser;
}

/** One app server and Chromium for a file's (or a describe block's) tests, and their page if asked for. */
export interface App extends SharedBrowser {
  readonly server: NslabServer;
  /** The server's base URL. */
  readonly url: string;
  /** The page `o.page` opened before the first test. */
  readonly page: Page;
}

function ready<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`the browser tests' ${what} is not started (used outside a test?)`);
  return v;
}

/** Launches Chromium before the first test of the file or block this is called in, closes it after the last. */
export function useBrowser(): SharedBrowser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      return ready(browser, "browser");
    },
  };
}

/**
 * The setup every browser test file shares: before its first test (of the file, or of the describe
 * block this is called in) an app server with `o.env` (startAppServer), Chromium (or the shared
 * `o.browser`, which stays open), the page `o.page` opens and whatever else `o.setup` does; after
 * its last, the page, the browser and the server close, in that order. One hook for all of it:
 * node:test (Node 20) runs a file's top-level before hooks at the same time, not one after another.
 */
export function useApp(
  o: { env?: Record<string, string>; browser?: SharedBrowser; page?: (app: App) => Promise<Page>; setup?: (app: App) => Promise<void> } = {},
): App {
  let server: NslabServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const app: App = {
    get server() {
      return ready(server, "server");
    },
    get url() {
      return ready(server, "server").url;
    },
    get browser() {
      return ready(browser, "browser");
    },
    get page() {
      return ready(page, "page");
    },
  };
  before(async () => {
    server = await startAppServer(o.env);
    browser = o.browser ? o.browser.browser : await launch();
    if (o.page) page = await o.page(app);
    await o.setup?.(app);
  });
  after(async () => {
    await page?.close();
    if (!o.browser) await browser?.close();
    await server?.close();
  });
  return app;
}

/** A page at 1280×720 in the app's browser (its default context). */
export const plainPage = (app: App, height = 720): Promise<Page> => app.browser.newPage({ viewport: { width: 1280, height } });

/** The text of a terminal (its buffer, scrollback included). */
export async function terminalText(page: Page, index = 1): Promise<string> {
  return page.locator(`[data-testid=terminal][data-terminal-index="${index}"]`).evaluate((el) => (el as HTMLElement & { nslabText(): string }).nslabText());
}

export async function waitForText(page: Page, re: RegExp, index = 1, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let text = "";
  while (Date.now() < deadline) {
    text = await terminalText(page, index).catch(() => "");
    if (re.test(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`terminal ${index} never showed ${re}; it shows:\n${text.slice(-1500)}`);
}

/** Types into a terminal as a person would: focus it, then keystrokes. */
export async function typeInto(page: Page, text: string, index = 1): Promise<void> {
  await page.locator(`[data-testid=terminal][data-terminal-index="${index}"]`).click();
  await page.keyboard.type(text, { delay: 5 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync("docs/screenshots", { recursive: true });
  await page.screenshot({ path: `docs/screenshots/${name}.png` });
}

/** A lesson's page at 1280x720 with its terminal at the prompt and the explorer open and live. */
export async function lessonWithExplorer(browser: Browser, server: NslabServer, lesson: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await openLesson(page, server.url, lesson);
  if (!(await page.locator("[data-testid=explorer]").count())) await page.locator("[data-testid=toggle-explorer]").click();
  await page.locator("[data-testid=explorer][data-conn=open]").waitFor({ timeout: 15_000 });
  return page;
}

/** A fresh page (its own storage) in the shared browser; closes with its context. */
export async function freshPage(
  browser: Browser,
  o: { width?: number; height?: number; dpr?: number; theme?: "light" | "dark"; storage?: Record<string, string> } = {},
): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: o.width ?? 1280, height: o.height ?? 720 }, deviceScaleFactor: o.dpr ?? 1 });
  const page = await ctx.newPage();
  const storage = { ...(o.theme ? { "nslab:theme": o.theme } : {}), ...o.storage };
  if (Object.keys(storage).length)
    await page.addInitScript(`(() => { const s = ${JSON.stringify(storage)}; for (const k in s) if (localStorage.getItem(k) === null) localStorage.setItem(k, s[k]); })()`);
  return page;
}

/** Opens a lesson and waits for the first terminal's prompt. */
export async function openLesson(page: Page, url: string, id: string): Promise<void> {
  await page.goto(`${url}/lessons/${id}`);
  await page.locator("[data-testid=terminal][data-terminal-index='1'][data-state=open]").waitFor({ timeout: 30_000 });
  await waitForText(page, /# $/m, 1, 30_000);
}

/** Waits until `cond` (evaluated in the page, a string expression) is true. */
export async function until(page: Page, what: string, expr: string, ms = 20_000): Promise<void> {
  try {
    await page.waitForFunction(expr, undefined, { timeout: ms, polling: 100 });
  } catch {
    throw new Error(`never happened: ${what}`);
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core (injected from node_modules) on the page, or a part of it; the critical and serious violations. */
export async function axe(page: Page, include?: string): Promise<AxeViolation[]> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.addScriptTag({ path: "node_modules/axe-core/axe.min.js" });
  const res = (await page.evaluate(`axe.run(${include ? JSON.stringify({ include: [include] }) : "document"}, { resultTypes: ["violations"] })`)) as {
    violations: AxeViolation[];
  };
  return res.violations.filter((v) => v.impact === "critical" || v.impact === "serious");
}

export function describeViolations(vs: AxeViolation[]): string {
  return vs.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.slice(0, 6).map((n) => `   ${n.target.join(" ")} ${n.failureSummary?.split("\n")[1] ?? ""}`).join("\n")}`).join("\n");
}

/**
 * How many pixels of an element, as the screen shows it, differ clearly from its top-left pixel
 * (its background): a blank terminal has none. Reads a real screenshot, so a WebGL canvas counts.
 */
export async function inkPixels(page: Page, selector: string): Promise<number> {
  const png = await page.locator(selector).first().screenshot();
  return (await page.evaluate(`(async () => {
    const img = new Image();
    img.src = "data:image/png;base64,${png.toString("base64")}";
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.width; c.height = img.height;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 90) n++;
    return n;
  })()`)) as number;
}
