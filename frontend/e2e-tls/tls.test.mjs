// The production nginx config (nginx/prod) in front of the gateways, over
// TLS: the browser trusts the site's certificate the way it trusts a real one
// (its CA is in the NSS database under $HOME, no certificate error is
// ignored), the answers carry HSTS and the CSP, and a chat message goes from
// one user to another over wss://.
//
// Run by scripts/check-tls.sh (which starts nginx and makes the CA) as
//   E2E_TLS_BASE_URL=https://127.0.0.1:PORT HOME=DIR node --test frontend/e2e-tls/*.test.mjs
// Uses playwright-core with Debian's Chromium (no browser download).

import { chromium } from 'playwright-core';
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';

const BASE_URL = process.env.E2E_TLS_BASE_URL;
const SHOTS = resolve(process.env.E2E_SCREENSHOT_DIR ?? '.stack/test/screenshots');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = { timeout: 20_000 };
const PASSWORD = 'correct horse battery staple';
const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const ROOM = `tls-${tag}`;
// Headless Debian Chromium, nothing in the background; QUIC off (nginx speaks TCP).
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser;
const problems = [];

before(async () => {
  assert.ok(BASE_URL?.startsWith('https://'), 'E2E_TLS_BASE_URL must be an https:// URL (scripts/check-tls.sh sets it)');
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});

after(async () => {
  if (problems.length > 0) console.log(`browser console:\n  ${problems.join('\n  ')}`);
  await browser?.close();
});

/** A browser context of its own for `name`, which records its WebSockets and their frames. */
async function open(name) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => {
    const socket = { url: ws.url(), received: [] };
    ws.on('framereceived', (frame) => socket.received.push(String(frame.payload)));
    sockets.push(socket);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${name}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${name}: pageerror ${e.message}`));
  return { name, context, page, sockets };
}

async function register({ name, page }) {
  const first = await page.goto(BASE_URL);
  await page.getByRole('button', { name: 'Sign up, it’s free' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Rooms' }).getByText(name, { exact: true }).waitFor(WAIT);
  return first;
}

test('the production nginx serves the chat over TLS, and a message crosses it over wss://', async (t) => {
  const alice = await open(`tls_a_${tag}`);
  const bob = await open(`tls_b_${tag}`);

  await t.test('the page loads over TLS 1.3 with a certificate the browser trusts, HSTS and the CSP', async () => {
    const response = await register(alice);
    assert.equal(response.status(), 200);
    const details = await response.securityDetails();
    assert.ok(details, 'no TLS details: not an https answer');
    assert.equal(details.protocol, 'TLS 1.3');
    const headers = response.headers();
    assert.match(headers['strict-transport-security'] ?? '', /^max-age=63072000\b/);
    assert.match(headers['content-security-policy'] ?? '', /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    await register(bob);
  });

  await t.test('A opens a public room, B joins it', async () => {
    await alice.page.getByText('New room', { exact: true }).click();
    await alice.page.getByLabel('Name', { exact: true }).fill(ROOM);
    await alice.page.getByRole('radio', { name: /^Public/ }).check();
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor(WAIT);
    await bob.page.getByRole('searchbox', { name: 'Find rooms' }).fill(ROOM);
    await bob.page.getByRole('button', { name: `Join #${ROOM}`, exact: true }).click();
    await bob.page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor(WAIT);
  });

  await t.test("A's message reaches B live, through B's wss:// socket", async () => {
    const body = `over TLS ${tag} — ünïcødé`;
    const box = alice.page.getByRole('textbox', { name: `Message #${ROOM}`, exact: true });
    await box.fill(body);
    await box.press('Enter');
    await bob.page.getByLabel('Messages', { exact: true }).getByText(body, { exact: true }).waitFor(WAIT);

    const origin = new URL(BASE_URL);
    const secure = bob.sockets.filter((s) => s.url.startsWith(`wss://${origin.host}/ws`));
    assert.ok(secure.length > 0, `B opened no wss://${origin.host}/ws socket (saw: ${bob.sockets.map((s) => s.url.split('?')[0]).join(', ') || 'none'})`);
    assert.ok(
      secure.some((s) => s.received.some((payload) => payload.includes(body))),
      "the message did not arrive on B's wss:// socket",
    );
    assert.ok(!bob.sockets.some((s) => s.url.startsWith('ws:')), 'a socket went out unencrypted (ws://)');
    const path = join(SHOTS, 'tls-room.png');
    await bob.page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
  });

  await t.test('the browser reported no Content-Security-Policy violation and no certificate error', () => {
    const bad = problems.filter((p) => /Content Security Policy|ERR_CERT|certificate/i.test(p));
    assert.deepEqual(bad, []);
  });
});
