// Shared helpers of the browser tests (frontend/e2e/*.test.mjs): Debian's
// Chromium through playwright-core, users in their own browser contexts,
// waiting on conditions, screenshots, the sign-up form.

import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.E2E_BASE_URL;
export const SCREENSHOT_DIR = resolve(process.env.E2E_SCREENSHOT_DIR ?? '.stack/test/screenshots');
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
/** How long any one condition may take to become true. */
export const TIMEOUT_MS = 20_000;
export const PASSWORD = 'correct horse battery staple';

/** A short random tag, so that names of one run never clash with another's. */
export function runTag() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

/**
 * Polls `check` (which throws, or returns false, while the condition does not
 * hold) until it passes; past `timeout` ms, fails with its last error.
 */
export async function eventually(what, check, timeout = TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let last;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const result = await check();
      if (result !== false) return result;
      last = new Error('condition was false');
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for: ${what}\n  last: ${last?.message ?? last}`);
    }
    await new Promise((done) => setTimeout(done, delay));
  }
}

export async function screenshot(page, name) {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

/** A browser for one test file, and the users it opened (each in its own context). */
export async function openBrowser() {
  if (!BASE_URL) throw new Error('E2E_BASE_URL is not set (scripts/e2e.sh sets it)');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  /** @type {{ name: string, context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, problems: string[] }[]} */
  const users = [];
  return {
    /** `initScript`: a function run in every page of the user's context before the site's own scripts. */
    async newUser(name, { initScript } = {}) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
      if (initScript) await context.addInitScript(initScript);
      const page = await context.newPage();
      const user = { name, context, page, problems: [] };
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') user.problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => user.problems.push(`pageerror: ${e.message}`));
      users.push(user);
      return user;
    },
    async close() {
      for (const user of users) {
        if (user.problems.length > 0) console.log(`browser console of ${user.name}:\n  ${user.problems.join('\n  ')}`);
      }
      await browser.close();
    },
  };
}

export async function signUp(user, shotName) {
  const { page } = user;
  await page.goto(BASE_URL);
  // the landing page's call to action
  await page.getByRole('button', { name: 'Sign up, it’s free' }).click();
  await page.getByRole('heading', { name: 'Create an account' }).waitFor({ timeout: TIMEOUT_MS });
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(PASSWORD);
  if (shotName) await screenshot(page, shotName);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Rooms' }).getByText(user.name, { exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

/** Creates a room from the sidebar form and waits until it is open. */
export async function createRoom(page, name, kind) {
  // The form stays open after a room is made: open it only when it is closed.
  const form = page.locator('details', { has: page.getByText('New room', { exact: true }) });
  if (!(await form.evaluate((d) => d.open))) await page.getByText('New room', { exact: true }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('radio', { name: kind === 'private' ? /^Private/ : /^Public/ }).check();
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.getByRole('heading', { name: `#${name}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

const AXE_SOURCE = (() => {
  try {
    return readFileSync(resolve(import.meta.dirname, '../node_modules/axe-core/axe.min.js'), 'utf8');
  } catch {
    return null;
  }
})();

/**
 * Runs axe-core (WCAG 2.0-2.2 A and AA rules and its best practices) on the page, or on the part `selector`
 * names, and fails listing every violation. Injected through the DevTools
 * protocol, so the site's CSP (no inline scripts) stays as it is. Skipped,
 * saying so, when axe-core is not installed.
 */
export async function checkA11y(page, what, selector) {
  if (AXE_SOURCE === null) {
    console.log(`axe-core not installed: accessibility check of ${what} skipped`);
    return;
  }
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (context) => {
    const result = await window.axe.run(context ?? document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  }, selector ?? null);
  if (violations.length > 0) throw new Error(`accessibility violations in ${what}:\n  ${violations.join('\n  ')}`);
}
