// The live room list (issue 14), two users in two browser contexts through
// nginx and two gateways: an invitation appears on the invitee's list by
// itself (and how long that takes, median of 20), the unread count of a room
// not open moves live and shows in the tab's title, and presence means signed
// in: the other user going away when they log out.
//
// Run by scripts/e2e.sh (E2E_FILES=frontend/e2e/feed.test.mjs for this file alone).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE_URL, TIMEOUT_MS, createRoom, eventually, openBrowser, runTag, screenshot, signUp } from './support.mjs';

const run = runTag();
const PRIVATE = `inv-${run}`;
const PUBLIC = `pub-${run}`;
const ROUNDS = 20;

let browser;

before(async () => {
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

function roomButton(page, name) {
  return page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: new RegExp(`^#${name}(,|$)`) });
}

/** On `invitee`'s page: resolves with Date.now() when the room's button shows in the list. */
async function armSeen(invitee, name) {
  await invitee.page.evaluate((label) => {
    window.__seenAt = new Promise((resolve) => {
      const shown = () => [...document.querySelectorAll('nav[aria-label="Rooms"] button')].some((b) => b.getAttribute('aria-label')?.match(new RegExp(`^#${label}(,|$)`)));
      if (shown()) return resolve(Date.now());
      const observer = new MutationObserver(() => {
        if (shown()) {
          observer.disconnect();
          resolve(Date.now());
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    });
  }, name);
}

/** On `inviter`'s page: the time of the next click on the Invite button (capture phase, before React). */
async function armClick(inviter) {
  await inviter.page.evaluate(() => {
    window.__clickedAt = new Promise((resolve) => {
      document.addEventListener(
        'click',
        (event) => {
          if (event.target instanceof HTMLElement && event.target.closest('.invite-form button[type="submit"]')) resolve(Date.now());
        },
        { capture: true, once: true },
      );
    });
  });
}

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

test('the room list is live', async (t) => {
  const a = await browser.newUser(`fa_${run}`);
  const b = await browser.newUser(`fb_${run}`);

  await t.test('both sign up', async () => {
    await signUp(a);
    await signUp(b);
  });

  await t.test(`an invitation appears on the invitee's list by itself (${ROUNDS} times, timed)`, async () => {
    await createRoom(a.page, PRIVATE, 'private');
    const form = a.page.locator('details.invite');
    const latencies = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (!(await form.evaluate((d) => d.open))) await form.locator('summary').click();
      await a.page.getByLabel('Username to invite').fill(b.name);
      await armSeen(b, PRIVATE);
      await armClick(a);
      await a.page.getByRole('button', { name: 'Invite', exact: true }).click();
      const seenAt = await b.page.evaluate(() => Promise.race([window.__seenAt, new Promise((_, fail) => setTimeout(() => fail(new Error('not shown in 20 s')), 20_000))]));
      const clickedAt = await a.page.evaluate(() => window.__clickedAt);
      latencies.push(seenAt - clickedAt);
      if (i === 0) await screenshot(b.page, 'invitation-live');
      // B leaves, so that the next invitation adds the room again
      await roomButton(b.page, PRIVATE).click();
      await b.page.getByRole('heading', { name: `#${PRIVATE}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
      b.page.once('dialog', (dialog) => void dialog.accept());
      await b.page.getByRole('button', { name: 'Leave', exact: true }).click();
      await eventually('the room left B’s list', async () => (await roomButton(b.page, PRIVATE).count()) === 0);
    }
    const ms = median(latencies);
    console.log(`invitation to the invitee's list: median ${ms} ms of ${ROUNDS} (min ${Math.min(...latencies)}, max ${Math.max(...latencies)}; all: ${latencies.join(', ')})`);
    assert.ok(ms < 2_000, `an invitation shows within 2 s (median ${ms} ms)`);
  });

  await t.test('the unread count of a room not open moves live, and the tab title sums it', async () => {
    await createRoom(a.page, PUBLIC, 'public');
    await b.page.getByRole('searchbox', { name: 'Find rooms' }).fill(PUBLIC);
    await b.page.getByRole('button', { name: `Join #${PUBLIC}`, exact: true }).click();
    await b.page.getByRole('heading', { name: `#${PUBLIC}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    // a fresh page on the list: no room open, every room only watched
    await b.page.goto(new URL('/', BASE_URL).href);
    await roomButton(b.page, PUBLIC).waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await b.page.title(), 'Chat');
    // B, on the list, follows the room live: A sees B online there
    await a.page.getByText('2 online', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    const box = a.page.getByRole('textbox', { name: `Message #${PUBLIC}`, exact: true });
    for (const body of ['one for you', `@${b.name} and a mention`]) {
      await box.fill(body);
      await box.press('Enter');
    }
    // both counted live, the mention too, without opening the room
    const wanted = `#${PUBLIC}, @1 (mention), 2 (unread)`;
    await eventually(`B's list shows "${wanted}"`, async () => {
      const label = await roomButton(b.page, PUBLIC).getAttribute('aria-label', { timeout: 1000 });
      if (label !== wanted) throw new Error(`the button says "${label}"`);
    });
    await eventually('the title counts 2', async () => (await b.page.title()) === '(2) Chat');
    await screenshot(b.page, 'unread-live');
    // opening it reads it: the count and the title go back
    await roomButton(b.page, PUBLIC).click();
    await b.page.getByText('New messages', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await eventually('the title is back to Chat', async () => (await b.page.title()) === 'Chat');
  });

  await t.test('presence means signed in: A, on the list, is online in the room; A logs out and goes offline', async () => {
    await a.page.goto(new URL('/', BASE_URL).href);
    await roomButton(a.page, PUBLIC).waitFor({ timeout: TIMEOUT_MS });
    await b.page.getByText('2 online', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await a.page.getByRole('button', { name: 'Log out' }).click();
    await b.page.getByText('1 online', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await screenshot(b.page, 'presence-after-logout');
  });
});
