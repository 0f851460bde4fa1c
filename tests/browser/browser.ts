// Test helper for the browser tests: the real server and Debian's Chromium (playwright-core), pages at a given
// width, typing key by key as a person does, and screenshots in artifacts/ (gitignored).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { startServer, type TestServer } from "../routes/server.ts";
import { CHROMIUM } from "../setup.ts";

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "artifacts");
export const browserTest = { sanitizeOps: false, sanitizeResources: false };

export interface BrowserContext {
  server: TestServer;
  browser: Browser;
  /** A hydrated page of the WebUI; page errors fail the test at the end. */
  open(width?: number, height?: number): Promise<Page>;
}

export async function withBrowser(
  fn: (ctx: BrowserContext) => Promise<void>,
  serverOpts: Parameters<typeof startServer>[0] = {},
): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const server = await startServer(serverOpts);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const errors: string[] = [];
  try {
    await fn({
      server,
      browser,
      open: async (width = 1400, height = 1000) => {
        const page = await browser.newPage({ viewport: { width, height } });
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(server.url);
        await page.waitForSelector("body[data-hydrated=true]");
        return page;
      },
    });
    if (errors.length) throw new Error(`errors on the page: ${errors.join("; ")}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Clears a field and types `text` into it key by key. */
export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.type(text);
}

/** Types into a number field and leaves it (Tab), which commits the value. */
export async function typeNumber(page: Page, selector: string, text: string): Promise<void> {
  await typeInto(page, selector, text);
  await page.keyboard.press("Tab");
}

export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

/** Waits until the field reads `want` (the page renders a state change after the event that made it). */
export async function waitValue(page: Page, selector: string, want: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([sel, v]) => (document.querySelector(sel) as HTMLInputElement | null)?.value === v,
      [selector, want] as const,
      { timeout: 5000 },
    );
  } catch {
    throw new Error(
      `${selector} reads ${JSON.stringify(await page.inputValue(selector))}, not ${JSON.stringify(want)}`,
    );
  }
}
