import fs from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

// Headless Chromium from Debian's `chromium` package, driven by playwright-core (which downloads
// no browser of its own). Every request that does not go to this machine is refused and
// recorded, so a test can assert that a page needs nothing beyond the service.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A fresh context whose requests may only reach loopback; the others are refused and listed. */
  newContext(options?: { width?: number; height?: number }): Promise<{ context: BrowserContext; refused: string[] }>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function launchBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Browser tests need Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No sandbox as root; no background traffic (this machine reaches no outside network).
    // Playwright gives each launch a new, empty profile of its own.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async newContext(options = {}) {
      const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 800 } });
      const refused: string[] = [];
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue();
        refused.push(url.toString());
        return route.abort('blockedbyclient');
      });
      return { context, refused };
    },
    async close() {
      await browser.close();
    },
  };
}
