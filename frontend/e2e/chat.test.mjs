// Two users in two browser contexts, through nginx and two gateways: sign up,
// a public room, messages both ways in one order, history after a reload,
// resuming after going offline, and a message body that looks like HTML.
//
// Run by scripts/e2e.sh (which starts the services) as
//   E2E_BASE_URL=http://127.0.0.1:PORT node --test frontend/e2e/*.test.mjs
// Uses playwright-core with Debian's Chromium (no browser download).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE_URL, TIMEOUT_MS, createRoom, eventually, openBrowser, runTag, screenshot, signUp } from './support.mjs';

const run = runTag();
const ROOM = `e2e-${run}`;

let browser;

before(async () => {
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

function newUser(name) {
  return browser.newUser(name);
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
    await createRoom(a.page, ROOM, 'public');

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

  await t.test('the room has its own address: a reload reopens it with its history', async () => {
    const address = new URL(b.page.url());
    assert.match(address.pathname, /^\/r\/[0-9a-f-]{36}$/, 'the open room is in the address');
    await b.page.reload();
    await waitForRoomOpen(b.page);
    assert.equal(new URL(b.page.url()).pathname, address.pathname, 'the same room after the reload');
    await expectMessages(b, sent);
  });

  await t.test('on a phone, Back returns from the room to the list, and the link opens the room', async () => {
    const address = a.page.url();
    await a.page.setViewportSize({ width: 390, height: 844 });
    await a.page.goto(new URL('/', BASE_URL).href);
    await a.page.getByRole('button', { name: new RegExp(`^#${ROOM}(,|$)`) }).click();
    await waitForRoomOpen(a.page);
    await a.page.goBack();
    await a.page.locator('.shell[data-pane="list"]').waitFor({ timeout: TIMEOUT_MS });
    assert.equal(new URL(a.page.url()).pathname, '/', 'Back leaves the room for the list');
    await a.page.goto(address);
    await waitForRoomOpen(a.page);
    await expectMessages(a, sent);
    await a.page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('B goes offline, A sends 5, B resumes and sees each once, in order', async () => {
    await b.context.setOffline(true);
    // The client drops its socket at the browser's `offline` event and says so at once.
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

  await t.test('B writes while offline: it is sent by itself on reconnect, once', async () => {
    await b.context.setOffline(true);
    await b.page.getByText('Reconnecting…').waitFor({ timeout: TIMEOUT_MS });
    const body = 'written while offline';
    const box = composer(b.page);
    await box.fill(body);
    await box.press('Enter');
    await b.context.setOffline(false);
    sent.push(body);
    // no click on Retry: the client resends with the same client_msg_id
    await expectMessages(b, sent, 45_000);
    await expectMessages(a, sent);
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
