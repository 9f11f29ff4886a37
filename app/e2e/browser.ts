import "server-only";
/**
 * Shared setup for browser tests: a real nslab server (pages from the production build, API,
 * WebSockets) on a free port, and headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core.
 */
import fs from "node:fs";
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
  await page.goto(`${server.url}/lessons/${lesson}`);
  await page.locator("[data-testid=terminal][data-state=open]").waitFor({ timeout: 20_000 });
  await waitForText(page, /# $/m);
  if (!(await page.locator("[data-testid=explorer]").count())) await page.locator("[data-testid=toggle-explorer]").click();
  await page.locator("[data-testid=explorer][data-conn=open]").waitFor({ timeout: 15_000 });
  return page;
}
