// Issue 13 in the browser: edit, delete, react, reply and jump to the
// original, @mention autocomplete and highlight, Markdown and links rendered
// safely, message search, and a moderator banning a member whose room then
// goes away. Two users (an owner and a member) in their own contexts, through
// nginx and two gateways (scripts/e2e.sh).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TIMEOUT_MS, checkA11y, createRoom, eventually, openBrowser, runTag, screenshot, signUp } from './support.mjs';

const run = runTag();
const ROOM = `ev-${run}`;
const OTHER_ROOM = `ev2-${run}`;

let browser;

before(async () => {
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

function messages(page) {
  return page.getByLabel('Messages', { exact: true });
}

/** The delivered message whose body is exactly `text`. */
function item(page, text) {
  return messages(page)
    .locator('li.msg:not(.msg-pending)')
    .filter({ has: page.locator('.msg-body').getByText(text, { exact: true }) });
}

function composer(page, room = ROOM) {
  return page.getByRole('textbox', { name: `Message #${room}`, exact: true });
}

async function openRoom(page, room) {
  await page.getByRole('button', { name: new RegExp(`^#${room}(,|$)`) }).click();
  await page.getByRole('heading', { name: `#${room}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
}

/** Sends `body` and waits until it is delivered (no longer pending). */
async function send(user, body, room = ROOM) {
  const box = composer(user.page, room);
  await box.fill(body);
  await box.press('Enter');
  await eventually(`${user.name}'s message is delivered`, async () => {
    const pending = await messages(user.page).locator('li.msg-pending').count();
    return pending === 0 && (await messages(user.page).locator('li.msg:not(.msg-pending)').filter({ hasText: firstLine(body) }).count()) > 0;
  });
}

function firstLine(body) {
  return body.split('\n')[0].replace(/[*_~`]/g, '').slice(0, 20);
}

/** Opens the room header's moderation panel unless it is open. */
async function openModeration(page) {
  const panel = page.locator('details.moderation');
  if (!(await panel.evaluate((d) => d.open))) await page.getByText('Moderate', { exact: true }).click();
}

/** Hovers a message and clicks one of its actions. */
async function action(page, text, name) {
  const li = item(page, text);
  await li.hover();
  await li.getByRole('button', { name, exact: true }).click();
}

test('room events in two browsers', async (t) => {
  const owner = await browser.newUser(`o_${run}`);
  const member = await browser.newUser(`m_${run}`);
  for (const u of [owner, member]) u.page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? 'spam' : undefined));

  await t.test('both sign up; the owner creates a room, the member joins', async () => {
    await signUp(owner);
    await signUp(member);
    await createRoom(owner.page, ROOM, 'public');
    await member.page.getByRole('searchbox', { name: 'Find rooms' }).fill(ROOM);
    await member.page.getByRole('button', { name: `Join #${ROOM}`, exact: true }).click();
    await member.page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
  });

  await t.test('edit: the sender changes the text, both see it and its versions', async () => {
    await send(owner, 'first draft of a thought');
    await item(member.page, 'first draft of a thought').waitFor({ timeout: TIMEOUT_MS });
    await action(owner.page, 'first draft of a thought', 'Edit');
    const editor = owner.page.getByRole('textbox', { name: 'Edit the message', exact: true });
    await editor.fill('a finished thought');
    await editor.press('Enter');
    for (const u of [owner, member]) {
      await item(u.page, 'a finished thought').getByRole('button', { name: 'edited', exact: true }).waitFor({ timeout: TIMEOUT_MS });
    }
    await item(member.page, 'a finished thought').getByRole('button', { name: 'edited', exact: true }).click();
    const versions = member.page.getByRole('region', { name: 'Versions of the message' });
    await versions.getByText('first draft of a thought', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await versions.getByText('a finished thought', { exact: true }).waitFor({ timeout: TIMEOUT_MS });
    // Only the sender may edit.
    await item(member.page, 'a finished thought').hover();
    assert.equal(await item(member.page, 'a finished thought').getByRole('button', { name: 'Edit', exact: true }).count(), 0);
  });

  await t.test('react: the picker (loaded when opened), a chip with who reacted, a click takes it back', async () => {
    await action(member.page, 'a finished thought', 'React');
    const picker = member.page.getByRole('dialog', { name: 'Choose a reaction' });
    await picker.getByRole('button', { name: '👍' }).waitFor({ timeout: TIMEOUT_MS });
    await checkA11y(member.page, 'a room with the emoji picker open');
    await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('party');
    await picker.getByRole('button', { name: '🎉' }).click();
    for (const u of [owner, member]) {
      const chip = item(u.page, 'a finished thought').locator('.reaction', { hasText: '🎉' });
      await eventually(`${u.name} sees the reaction`, async () => (await chip.textContent())?.includes('1'));
      assert.equal(await chip.getAttribute('title'), member.name);
    }
    await screenshot(owner.page, 'events-reaction');
    await item(member.page, 'a finished thought').locator('.reaction', { hasText: '🎉' }).click();
    for (const u of [owner, member]) {
      await eventually(`${u.name} sees the reaction gone`, async () => (await item(u.page, 'a finished thought').locator('.reaction').count()) === 0);
    }
  });

  await t.test('delete: confirmed, both see a tombstone and the text is gone', async () => {
    await send(owner, 'regrettable words');
    await item(member.page, 'regrettable words').waitFor({ timeout: TIMEOUT_MS });
    await action(owner.page, 'regrettable words', 'Delete');
    for (const u of [owner, member]) {
      await eventually(`${u.name} sees the tombstone`, async () => (await messages(u.page).getByText('regrettable words').count()) === 0);
      await messages(u.page).getByText('message deleted', { exact: true }).first().waitFor({ timeout: TIMEOUT_MS });
    }
  });

  await t.test('Markdown and links are rendered safely', async () => {
    const body = '**strong words** https://example.com/path <script>window.__xss=1</script> <img src=x onerror="window.__xss=2"> [x](javascript:window.__xss=3) javascript:window.__xss=4';
    await send(owner, body);
    const li = messages(member.page).locator('li.msg', { has: member.page.locator('strong', { hasText: 'strong words' }) });
    await li.waitFor({ timeout: TIMEOUT_MS });
    const links = await li.locator('.msg-body a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]));
    assert.deepEqual(links, [['https://example.com/path', '_blank', 'noopener noreferrer nofollow']]);
    assert.equal(await li.locator('script, img').count(), 0, 'tags stay text');
    assert.match(await li.locator('.msg-body').textContent(), /<script>window.__xss=1<\/script> <img src=x onerror="window.__xss=2">/);
    assert.equal(await messages(member.page).locator('a[href^="javascript:" i]').count(), 0, 'no javascript: link');
    assert.equal(await member.page.evaluate(() => typeof window.__xss), 'undefined');
  });

  await t.test('mentions: @ opens the members list, Enter inserts the name, the mentioned user sees it marked', async () => {
    await createRoom(owner.page, OTHER_ROOM, 'public'); // the owner looks elsewhere; ROOM stays followed
    const box = composer(member.page);
    await box.fill('');
    await box.pressSequentially(`hello @${owner.name.slice(0, 4)}`);
    const list = member.page.getByRole('listbox', { name: 'Members to mention' });
    await list.getByRole('option', { name: owner.name }).waitFor({ timeout: TIMEOUT_MS });
    await checkA11y(member.page, 'the composer with the mention list open');
    await box.press('Enter');
    assert.equal(await box.inputValue(), `hello @${owner.name} `);
    await box.pressSequentially('look');
    await box.press('Enter');
    // A mention badge beside the room, in the owner's list.
    await owner.page.getByRole('button', { name: new RegExp(`^#${ROOM}, @1 \\(mention\\)(, \\d+ \\(unread\\))?$`) }).waitFor({ timeout: TIMEOUT_MS });
    await openRoom(owner.page, ROOM);
    const mentioned = item(owner.page, `hello @${owner.name} look`);
    await mentioned.waitFor({ timeout: TIMEOUT_MS });
    assert.match((await mentioned.getAttribute('class')) ?? '', /msg-mention/);
    assert.equal(await mentioned.locator('.mention-me').textContent(), `@${owner.name}`);
    await mentioned.hover();
    await screenshot(owner.page, 'events-mention');
  });

  await t.test('reply: a quote above the composer, a preview in the timeline that brings an unloaded original into view', async () => {
    await send(owner, 'the original question');
    await item(member.page, 'the original question').waitFor({ timeout: TIMEOUT_MS });
    // A history page is 50 events: 50 more put the original out of the newest one.
    for (let i = 1; i <= 50; i++) {
      await send(owner, `filler ${i}`);
      // Pacing, not synchronisation: the gateway allows 5 messages a second after a burst.
      await new Promise((done) => setTimeout(done, 210));
    }
    await action(member.page, 'the original question', 'Reply');
    await member.page.getByText('Replying to').waitFor({ timeout: TIMEOUT_MS });
    await send(member, 'the answer');
    // After a reload only the newest page is loaded: the original is not.
    await owner.page.reload();
    await owner.page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await item(owner.page, 'the answer').waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await item(owner.page, 'the original question').count(), 0, 'the original is not loaded yet');
    await item(owner.page, 'the answer').locator('.reply-quote').click();
    const original = item(owner.page, 'the original question');
    await original.waitFor({ timeout: TIMEOUT_MS });
    await eventually('the original is highlighted', async () => /msg-highlight/.test((await original.getAttribute('class')) ?? ''));
    await screenshot(owner.page, 'events-reply-jump');
  });

  await t.test('search: a result with its match marked opens the room at the message', async () => {
    await openRoom(owner.page, OTHER_ROOM);
    const box = owner.page.getByRole('searchbox', { name: 'Search messages' });
    await box.fill('original question');
    await box.press('Enter');
    const results = owner.page.getByRole('region', { name: 'Message search results' });
    const hit = results.getByRole('button').filter({ hasText: 'original' }).first();
    await hit.waitFor({ timeout: TIMEOUT_MS });
    assert.ok((await hit.locator('mark').count()) > 0, 'the matching words are marked');
    await checkA11y(owner.page, 'message search results');
    await hit.click();
    await owner.page.getByRole('heading', { name: `#${ROOM}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    const original = item(owner.page, 'the original question');
    await eventually('the result is shown highlighted', async () => /msg-highlight/.test((await original.getAttribute('class')) ?? ''));
  });

  await t.test('a member reports a message; the owner sees the report and resolves it', async () => {
    await send(owner, 'a message to report');
    await item(member.page, 'a message to report').waitFor({ timeout: TIMEOUT_MS });
    await action(member.page, 'a message to report', 'Report');
    await member.page.getByText('Reported to the room’s moderators.').waitFor({ timeout: TIMEOUT_MS });
    await openModeration(owner.page);
    const report = owner.page.locator('.report-list li', { hasText: 'a message to report' });
    await report.getByText('Reason: spam').waitFor({ timeout: TIMEOUT_MS });
    await report.getByRole('button', { name: 'Resolve', exact: true }).click();
    await owner.page.getByText('Report resolved.').waitFor({ timeout: TIMEOUT_MS });
  });

  await t.test('slow mode: a second message waits with a countdown and goes by itself', async () => {
    await openModeration(owner.page);
    await owner.page.getByLabel('Seconds between a member’s messages').selectOption('5');
    await owner.page.getByRole('button', { name: 'Set slow mode', exact: true }).click();
    await messages(member.page).getByText(`${owner.name} set slow mode: one message every 5 seconds`).waitFor({ timeout: TIMEOUT_MS });
    await send(member, 'slow one');
    const box = composer(member.page);
    await box.fill('slow two');
    await box.press('Enter');
    await member.page.getByText(/^Slow mode: your message goes in \d+ s/).waitFor({ timeout: TIMEOUT_MS });
    await messages(member.page).getByText('Waiting for slow mode…').waitFor({ timeout: TIMEOUT_MS });
    await screenshot(member.page, 'events-slow-mode');
    await item(owner.page, 'slow two').waitFor({ timeout: TIMEOUT_MS });
    assert.equal(await messages(member.page).locator('li.msg-failed').count(), 0, 'not a failure');
    await owner.page.getByLabel('Seconds between a member’s messages').selectOption('0');
    await owner.page.getByRole('button', { name: 'Set slow mode', exact: true }).click();
    await messages(member.page).getByText(`${owner.name} turned slow mode off`).waitFor({ timeout: TIMEOUT_MS });
  });

  await t.test('a moderator bans a member, whose room goes away', async () => {
    await openModeration(owner.page);
    await owner.page.getByRole('button', { name: `Ban ${member.name}`, exact: true }).waitFor({ timeout: TIMEOUT_MS });
    await owner.page.getByText('No open reports.').waitFor({ timeout: TIMEOUT_MS });
    await checkA11y(owner.page, 'the moderation panel');
    await owner.page.getByRole('button', { name: `Ban ${member.name}`, exact: true }).click();
    await eventually('the member no longer has the room', async () => (await member.page.getByRole('button', { name: new RegExp(`^#${ROOM}(,|$)`) }).count()) === 0);
    await member.page.getByText(new RegExp(`removed from #${ROOM}|banned from #${ROOM}|no longer a member of #${ROOM}`)).first().waitFor({ timeout: TIMEOUT_MS });
    await messages(owner.page).getByText(`${owner.name} banned ${member.name}`).waitFor({ timeout: TIMEOUT_MS });
    await screenshot(member.page, 'events-banned');
  });
});
