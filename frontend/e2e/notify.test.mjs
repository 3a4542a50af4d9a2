// Browser notifications (issue 14): a direct message and a mention notify
// while the page is hidden, a muted room never does, the permission is asked
// only when the person turns notifications on, and a click on a notification
// opens its room. The page's visibility is overridden by an init script, and
// the Notification constructor wrapped so that the test sees each call.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE_URL, TIMEOUT_MS, createRoom, eventually, openBrowser, runTag, signUp } from './support.mjs';

const run = runTag();
const LOUD = `loud-${run}`;
const QUIET = `quiet-${run}`;

let browser;

before(async () => {
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

/**
 * Runs in the page before the site: `window.__setHidden(true)` makes the
 * page hidden as far as the site can tell (document.visibilityState, a
 * visibilitychange event); every `new Notification(...)` is recorded in
 * `window.__notifications` (its instance in `__notificationInstances`), every
 * permission request counted in `__permissionRequests`.
 */
function instrument() {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  const Real = window.Notification;
  window.__notifications = [];
  window.__notificationInstances = [];
  window.__permissionRequests = 0;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: options?.body, tag: options?.tag });
      super(title, options);
      window.__notificationInstances.push(this);
    }
    static get permission() {
      return Real.permission;
    }
    static requestPermission(...args) {
      window.__permissionRequests += 1;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Recorded;
}

async function say(page, roomLabel, body) {
  const box = page.getByRole('textbox', { name: `Message ${roomLabel}`, exact: true });
  await box.fill(body);
  await box.press('Enter');
  await page.locator('li.msg-user:not(.msg-pending) .msg-body', { hasText: body }).waitFor({ timeout: TIMEOUT_MS });
}

async function openRoom(page, label) {
  await page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: new RegExp(`^${label}`) }).click();
  await page.getByRole('heading', { name: label, exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

const notifications = (page) => page.evaluate(() => window.__notifications);

test('notifications of direct messages and mentions while the page is hidden, none for a muted room', async (t) => {
  const alice = await browser.newUser(`na_${run}`, { initScript: instrument });
  const bob = await browser.newUser(`nb_${run}`);

  await t.test('nothing is asked at load; "Turn on notifications" asks the browser', async () => {
    await signUp(alice);
    await signUp(bob);
    const turnOn = alice.page.getByRole('button', { name: 'Turn on notifications' });
    await turnOn.waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await alice.page.evaluate(() => window.__permissionRequests), 0, 'no permission request at load');
    // what the person would answer in the browser's prompt
    await alice.context.grantPermissions(['notifications'], { origin: new URL(BASE_URL).origin });
    await turnOn.click();
    await alice.page.getByText('Notifications on for direct messages and mentions.').waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await alice.page.evaluate(() => window.__permissionRequests), 1);
  });

  await t.test('alice is in two public rooms (one muted) and a direct room with bob', async () => {
    for (const name of [LOUD, QUIET]) {
      await createRoom(bob.page, name, 'public');
      await alice.page.getByRole('searchbox', { name: 'Find rooms' }).fill(name);
      await alice.page.getByRole('button', { name: `Join #${name}`, exact: true }).click();
      await alice.page.getByRole('heading', { name: `#${name}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    }
    await bob.page.getByRole('textbox', { name: 'Direct message' }).fill(alice.name);
    await bob.page.getByRole('button', { name: 'Message', exact: true }).click();
    await bob.page.getByRole('heading', { name: `@${alice.name}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await say(bob.page, `@${alice.name}`, `first words ${run}`);
    // alice opens the direct room (after the room list shows it) and the
    // muted room last: both stay followed, the muted one is on screen
    await eventually('the direct room is in alice’s list', async () => {
      await alice.page.reload();
      await alice.page.getByRole('navigation', { name: 'Rooms' }).waitFor({ timeout: TIMEOUT_MS });
      return (await alice.page.getByRole('button', { name: new RegExp(`^@${bob.name}`) }).count()) > 0;
    });
    await openRoom(alice.page, `#${LOUD}`);
    await openRoom(alice.page, `@${bob.name}`);
    await openRoom(alice.page, `#${QUIET}`);
    const mute = alice.page.getByRole('button', { name: 'Mute', exact: true });
    await mute.click();
    assert.equal(await mute.getAttribute('aria-pressed'), 'true');
  });

  await t.test('hidden: a DM and a mention notify, a mention in the muted room does not', async () => {
    await alice.page.evaluate(() => window.__setHidden(true));
    await openRoom(bob.page, `#${QUIET}`);
    await say(bob.page, `#${QUIET}`, `@${alice.name} muted mention ${run}`);
    // it reached alice (her open room shows it), and made no notification
    await alice.page.locator('.msg-body', { hasText: `muted mention ${run}` }).waitFor({ timeout: TIMEOUT_MS });
    await openRoom(bob.page, `@${alice.name}`);
    await say(bob.page, `@${alice.name}`, `direct hello ${run}`);
    await openRoom(bob.page, `#${LOUD}`);
    await say(bob.page, `#${LOUD}`, `hey @${alice.name} look ${run}`);
    await say(bob.page, `#${LOUD}`, `no mention here ${run}`);
    await eventually('alice got two notifications', async () => (await notifications(alice.page)).length >= 2);
    // the last message (no mention) went through before we look again
    await openRoom(alice.page, `#${LOUD}`);
    await alice.page.locator('.msg-body', { hasText: `no mention here ${run}` }).waitFor({ timeout: TIMEOUT_MS });
    const shown = await notifications(alice.page);
    assert.deepEqual(
      shown.map((n) => [n.title, n.body]),
      [
        [bob.name, `direct hello ${run}`],
        [`${bob.name} in #${LOUD}`, `hey @${alice.name} look ${run}`],
      ],
    );
  });

  await t.test('visible: no notification; a click on one opens its room', async () => {
    await alice.page.evaluate(() => window.__setHidden(false));
    await say(bob.page, `#${LOUD}`, `@${alice.name} seen on screen ${run}`);
    await alice.page.locator('.msg-body', { hasText: `seen on screen ${run}` }).waitFor({ timeout: TIMEOUT_MS });
    assert.equal((await notifications(alice.page)).length, 2);
    await alice.page.evaluate(() => window.__notificationInstances[0].onclick?.());
    await alice.page.getByRole('heading', { name: `@${bob.name}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
  });
});
