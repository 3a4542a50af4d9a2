// The room bot in the browser: a user invites the bot into a private room and
// mentions it; the reply streams in as a pending message marked "writing…"
// whose text grows, then the stored message (with the bot badge) replaces it.
// scripts/e2e.sh runs the bot against test-support's fake Ollama server, which
// streams a fixed reply a few letters at a time.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TIMEOUT_MS, createRoom, eventually, openBrowser, runTag, screenshot, signUp } from './support.mjs';

/** What the fake Ollama server answers (FAKE_OLLAMA_REPLY's default). */
const REPLY = 'Hello from the fake model, written a few letters at a time.';
const BOT = 'bot';
const ROOM = `bot-${runTag()}`;

let browser;

before(async () => {
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

test('a mention of the bot streams its reply in, then the stored message replaces it', async () => {
  const user = await browser.newUser(`c_${runTag()}`);
  const { page } = user;
  await signUp(user);
  await createRoom(page, ROOM, 'private');

  await page.locator('details.invite > summary').click();
  await page.getByLabel('Username to invite').fill(BOT);
  await page.locator('form.invite-form').getByRole('button', { name: 'Invite' }).click();
  await page.getByText(`${BOT} is now a member.`).waitFor({ timeout: TIMEOUT_MS });

  const box = page.getByRole('textbox', { name: `Message #${ROOM}`, exact: true });
  await box.fill(`@${BOT} what is new?`);
  await box.press('Enter');

  // the reply while it is written: marked as such, its text a beginning of the reply
  const draft = page.locator('li.msg-draft');
  await draft.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  await draft.getByText('writing…').waitFor({ timeout: TIMEOUT_MS });
  const partial = await eventually('some of the reply is shown', async () => {
    const text = await draft.locator('.msg-body').textContent({ timeout: 1000 });
    return text !== null && text.length > 0 ? text : false;
  });
  assert.ok(REPLY.startsWith(partial), `the draft "${partial}" begins the reply`);
  await screenshot(page, 'bot-writing');

  // then the stored message, with the bot badge, and no draft left
  const reply = page.locator('li.msg-bot:not(.msg-draft)');
  await reply.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  assert.equal(await reply.locator('.msg-body').textContent(), REPLY);
  assert.equal(await reply.locator('.msg-sender').textContent(), BOT);
  await eventually('the draft is gone', async () => (await draft.count()) === 0);
  await screenshot(page, 'bot-replied');
});
