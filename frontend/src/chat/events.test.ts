// The controller with issue 13's room events: ops settled by ack or refused as
// a notice, slow mode deferring a send (not failing it), mention counts,
// replies, moderation events about the caller.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatApi } from '../api/endpoints';
import type { SocketEvents } from '../api/socket';
import type { ClientFrame, MyRoom } from '../wire';
import { ChatController, type SocketLike } from './controller';
import { ALICE, BOB, EPOCH, OTHER_ROOM, ROOM, message, page, range } from '../test/fixtures';
import { hello } from '../test/fakeSocket';
import { selectSlowUntil, selectTimeline } from '../store/messages';
import { isShown } from '../store/fold';

const myRoom = (id: string, name: string): MyRoom => ({
  id,
  name,
  kind: 'public',
  created_at: '2026-01-01T00:00:00Z',
  role: 'member',
  last_seq: 10,
  last_read_seq: 10,
  unread: 0,
  mentions: 0,
});

async function live() {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  const socket: SocketLike = { start: vi.fn(), stop: vi.fn(), retryNow: vi.fn(), networkChanged: vi.fn(), send: (f) => (sent.push(f), true) };
  const api = {
    history: vi.fn(async () => page(range(1, 10), false)),
    myRooms: vi.fn(async () => [myRoom(ROOM, 'general'), myRoom(OTHER_ROOM, 'random')]),
    markRead: vi.fn(async () => {}),
  } as unknown as ChatApi;
  const controller = new ChatController({ api, me: ALICE, createSocket: (e) => ((events = e), socket), isVisible: () => true });
  controller.start();
  events.onState({ status: 'online', attempt: 0, retryAt: null });
  events.onReady(hello() as never);
  controller.openRoom(OTHER_ROOM);
  controller.openRoom(ROOM);
  await vi.advanceTimersByTimeAsync(0);
  events.onFrame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
  events.onFrame({ type: 'subscribed', room: OTHER_ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
  return { controller, sent, frame: (f: Parameters<SocketEvents['onFrame']>[0]) => events.onFrame(f), state: () => controller.getState() };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('edits, deletes and reactions', () => {
  it('go as frames of their own; the events that come back are folded', async () => {
    const t = await live();
    const target = selectTimeline(t.state().messages, ROOM).messages[9];
    if (target === undefined) throw new Error('no message 10');
    t.controller.actions.edit(ROOM, target.id, 'changed');
    t.controller.toggleReaction(ROOM, target, '👍');
    expect(t.sent.filter((f) => f.type === 'edit' || f.type === 'react').map((f) => f.type)).toEqual(['edit', 'react']);
    t.frame({ type: 'message', ...message(11, { op: 'edit', target: target.id, body: 'changed', sender: BOB }) });
    t.frame({ type: 'message', ...message(12, { op: 'react', target: target.id, emoji: '👍', sender: ALICE, body: '' }) });
    const shown = selectTimeline(t.state().messages, ROOM).messages.filter(isShown);
    expect(shown.at(-1)).toMatchObject({ body: 'changed', state_seq: 12, reactions: [{ emoji: '👍', count: 1, me: true }] });
    // Toggling again removes one's own.
    t.controller.toggleReaction(ROOM, shown.at(-1) as never, '👍');
    expect(t.sent.at(-1)).toMatchObject({ type: 'unreact', emoji: '👍' });
    // Events are no unread messages.
    expect(t.state().rooms?.find((r) => r.id === ROOM)?.last_seq).toBe(12);
  });

  it('a refused edit becomes a notice, and is no failed send', async () => {
    const t = await live();
    t.controller.actions.edit(ROOM, message(3).id, 'nope');
    const frame = t.sent.at(-1) as { client_msg_id: string };
    t.frame({ type: 'error', code: 'forbidden', message: 'only the sender can edit a message', room: ROOM, client_msg_id: frame.client_msg_id });
    expect(t.state().notice).toBe('You cannot edit the message: Only the sender can edit a message.');
    expect(selectTimeline(t.state().messages, ROOM).pending).toEqual([]);
  });
});

describe('slow mode', () => {
  it('rate_limited with retry_after_ms holds the message and sends it again by itself after the wait', async () => {
    const t = await live();
    t.controller.send(ROOM, 'hello');
    const first = t.sent.at(-1) as { type: string; client_msg_id: string };
    expect(first.type).toBe('send');
    t.frame({ type: 'error', code: 'rate_limited', message: 'slow mode', room: ROOM, client_msg_id: first.client_msg_id, retry_after_ms: 5000 });
    const pending = selectTimeline(t.state().messages, ROOM).pending[0];
    expect(pending?.state).toBe('waiting');
    expect(selectSlowUntil(t.state().messages, ROOM)).toBeGreaterThan(Date.now());
    await vi.advanceTimersByTimeAsync(4999);
    expect(t.sent.filter((f) => f.type === 'send')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const sends = t.sent.filter((f) => f.type === 'send');
    expect(sends).toHaveLength(2);
    expect((sends[1] as { client_msg_id: string }).client_msg_id).toBe(first.client_msg_id);
    expect(selectTimeline(t.state().messages, ROOM).pending[0]?.state).toBe('sending');
  });

  it('rate_limited without a wait is still a failure with Retry', async () => {
    const t = await live();
    t.controller.send(ROOM, 'hello');
    const first = t.sent.at(-1) as { client_msg_id: string };
    t.frame({ type: 'error', code: 'rate_limited', message: 'too fast', room: ROOM, client_msg_id: first.client_msg_id });
    expect(selectTimeline(t.state().messages, ROOM).pending[0]?.state).toBe('failed');
  });
});

describe('replies', () => {
  it('the next send carries reply_to, then the reply is done', async () => {
    const t = await live();
    const original = selectTimeline(t.state().messages, ROOM).messages[4];
    if (original === undefined) throw new Error('no message 5');
    t.controller.startReply(ROOM, original);
    t.controller.send(ROOM, 'answer');
    expect(t.sent.at(-1)).toMatchObject({ type: 'send', body: 'answer', reply_to: original.id });
    expect(t.state().replying[ROOM]).toBeUndefined();
    t.controller.send(ROOM, 'not an answer');
    expect(t.sent.at(-1)).not.toHaveProperty('reply_to');
  });
});

describe('mentions', () => {
  it('a message mentioning the caller in a room not on screen adds a mention and an unread', async () => {
    const t = await live();
    t.frame({ type: 'message', ...message(11, { room: OTHER_ROOM, body: 'hey @alice', mentions: [ALICE.id], id: '0197a7f0-0000-7000-8000-0000000f0011' }) });
    t.frame({ type: 'message', ...message(12, { room: OTHER_ROOM, body: 'no mention', id: '0197a7f0-0000-7000-8000-0000000f0012' }) });
    const other = t.state().rooms?.find((r) => r.id === OTHER_ROOM);
    expect(other).toMatchObject({ unread: 2, mentions: 1 });
    // In the room on screen, nothing is unread.
    t.frame({ type: 'message', ...message(11, { body: '@alice look' }) });
    expect(t.state().rooms?.find((r) => r.id === ROOM)).toMatchObject({ unread: 0, mentions: 0 });
  });
});

describe('moderation events', () => {
  it('a topic event changes the room; a ban of the caller removes the room', async () => {
    const t = await live();
    t.frame({ type: 'message', ...message(11, { op: 'topic', body: 'Be kind', kind: 'system', sender: BOB }) });
    expect(t.state().rooms?.find((r) => r.id === ROOM)?.topic).toBe('Be kind');
    t.frame({ type: 'message', ...message(12, { op: 'moderation', body: '', kind: 'system', sender: BOB, moderation: { action: 'ban', user: ALICE } }) });
    expect(t.state().rooms?.some((r) => r.id === ROOM)).toBe(false);
    expect(t.state().activeRoom).toBeNull();
  });

  it('member_left for the caller removes the room from the list', async () => {
    const t = await live();
    t.frame({ type: 'member_left', room: OTHER_ROOM, user: ALICE });
    expect(t.state().rooms?.some((r) => r.id === OTHER_ROOM)).toBe(false);
  });
});
