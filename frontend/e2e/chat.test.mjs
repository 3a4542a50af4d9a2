// Two users in two browser contexts, through nginx and two gateways: sign up,
// a public room, messages both ways in one order, history after a reload,
// resuming after going offline, and a message body that looks like HTML.
//
// Run by scripts/e2e.sh (which starts the services) as
//   E2E_BASE_URL=http://127.0.0.1:PORT node --test frontend/e2e/*.test.mjs
// Uses playwright-core with Debian's Chromium (no browser download).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const BASE_URL = process.env.E2E_BASE_URL;
const SCREENSHOT_DIR = resolve(process.env.E2E_SCREENSHOT_DIR ?? '.stack/test/screenshots');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
/** How long any one condition may take to become true. */
const TIMEOUT_MS = 20_000;
const PASSWORD = 'correct horse battery staple';

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
const ROOM = `e2e-${run}`;

let browser;
/** @type {{ name: string, context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, problems: string[] }[]} */
const users = [];

before(async () => {
  assert.ok(BASE_URL, 'E2E_BASE_URL is not set (scripts/e2e.sh sets it)');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  for (const user of users) {
    if (user.problems.length > 0) console.log(`browser console of ${user.name}:\n  ${user.problems.join('\n  ')}`);
  }
  await browser?.close();
});

/**
 * Polls `check` (which throws, or returns false, while the condition does not
 * hold) until it passes; past `timeout` ms, fails with its last error.
 */
async function eventually(what, check, timeout = TIMEOUT_MS) {
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

async function screenshot(page, name) {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

async function newUser(name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  const user = { name, context, page, problems: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') user.problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => user.problems.push(`pageerror: ${e.message}`));
  users.push(user);
  return user;
}

async function signUp(user, shotName) {
  const { page } = user;
  await page.goto(BASE_URL);
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'Create an account' }).waitFor({ timeout: TIMEOUT_MS });
  await page.getByLabel('Username').fill(user.name);
  await page.getByLabel('Password').fill(PASSWORD);
  if (shotName) await screenshot(page, shotName);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Rooms' }).getByText(user.name, { exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

/** The open room's delivered messages (not those still on their way), oldest first. */
function messageList(page) {
  return page.getByLabel('Messages', { exact: true }).getByRole('listitem');
}

async function deliveredBodies(page) {
  return messageList(page)
    .and(page.locator('li.msg-user:not(.msg-pending)'))
    .locator('.msg-body')
    .allTextContents();
}

async function pendingCount(page) {
  return messageList(page).and(page.locator('li.msg-pending')).count();
}

async function waitForRoomOpen(page) {
  await page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

function composer(page) {
  return page.getByRole('textbox', { name: `Message #${ROOM}`, exact: true });
}

/** Sends `body` from `user` and waits until the server acknowledged it (no longer pending). */
async function send(user, body) {
  const box = composer(user.page);
  await box.fill(body);
  await box.press('Enter');
  await eventually(`${user.name}'s message "${body}" is delivered`, async () => {
    const bodies = await deliveredBodies(user.page);
    return bodies.includes(body) && (await pendingCount(user.page)) === 0;
  });
}

/** Waits until `user` shows exactly `expected`, in that order. */
async function expectMessages(user, expected, timeout = TIMEOUT_MS) {
  await eventually(
    `${user.name} shows ${expected.length} messages in order`,
    async () => {
      assert.deepEqual(await deliveredBodies(user.page), expected);
    },
    timeout,
  );
}

test('two users chat through nginx and two gateways', async (t) => {
  const a = await newUser(`a_${run}`);
  const b = await newUser(`b_${run}`);
  const sent = [];

  await t.test('both sign up through the form', async () => {
    await signUp(a, 'signup');
    await signUp(b);
  });

  await t.test('A creates a public room, B finds and joins it', async () => {
    await a.page.getByText('New room', { exact: true }).click();
    await a.page.getByLabel('Name', { exact: true }).fill(ROOM);
    await a.page.getByRole('radio', { name: /^Public/ }).check();
    await a.page.getByRole('button', { name: 'Create room' }).click();
    await waitForRoomOpen(a.page);

    await b.page.getByRole('searchbox', { name: 'Find rooms' }).fill(ROOM);
    await b.page.getByRole('button', { name: `Join #${ROOM}`, exact: true }).click();
    await waitForRoomOpen(b.page);
  });

  await t.test('they chat both ways and see the same order', async () => {
    const turns = [
      [a, 'hello from A'],
      [b, 'hi A, B here'],
      [a, 'how are things on your gateway?'],
      [b, 'all good, and yours?'],
    ];
    for (const [user, body] of turns) {
      await send(user, body);
      sent.push(body);
    }
    await expectMessages(a, sent);
    await expectMessages(b, sent);
    await eventually('A sees both users online', async () => {
      await a.page.getByText('2 online', { exact: true }).waitFor({ timeout: 1000 });
    });
    await screenshot(a.page, 'room-two-users');
  });

  await t.test('B reloads the page and sees the history', async () => {
    await b.page.reload();
    await b.page.getByRole('navigation', { name: 'Rooms' }).getByText(b.name, { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await b.page.getByRole('button', { name: new RegExp(`^#${ROOM}(,|$)`) }).click();
    await waitForRoomOpen(b.page);
    await expectMessages(b, sent);
  });

  await t.test('B goes offline, A sends 5, B resumes and sees each once, in order', async () => {
    await b.context.setOffline(true);
    // The client notices the dead socket after two silent heartbeats
    // (scripts/e2e.sh runs the gateways with WS_PING_SECS=2).
    await b.page.getByText('Reconnecting…').waitFor({ timeout: TIMEOUT_MS });
    for (let i = 1; i <= 5; i++) {
      const body = `while you were away ${i}/5`;
      await send(a, body);
      sent.push(body);
    }
    await expectMessages(a, sent);
    await b.context.setOffline(false);
    // Reconnecting includes the client's backoff: allow more than one step of it.
    await expectMessages(b, sent, 45_000);
    await screenshot(b.page, 'b-after-resume');
  });

  await t.test('a body that looks like HTML is shown as text', async () => {
    const payload = '<img src=x onerror="window.__xss=1">';
    await send(a, payload);
    sent.push(payload);
    await expectMessages(b, sent);
    assert.equal(await messageList(b.page).locator('img').count(), 0, 'no <img> element in B’s message list');
    assert.equal(await b.page.evaluate(() => typeof window.__xss), 'undefined');
    assert.equal(await a.page.evaluate(() => typeof window.__xss), 'undefined');
  });
});
