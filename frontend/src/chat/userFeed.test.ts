// The live room list: rooms not open are watched (live only) so their counts
// move; the user's feed adds, removes and marks rooms read; the list is
// fetched again after every reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { selectTimeline } from '../store/messages';
import { ALICE, BOB, EPOCH, OTHER_ROOM, ROOM, message } from '../test/fixtures';
import { chatHarness, myRoom } from '../test/chatHarness';

const THIRD = '0197a7f0-0000-7000-8000-000000000003';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function started(rooms = () => [myRoom(ROOM, 'general'), myRoom(OTHER_ROOM, 'random', { last_seq: 4, last_read_seq: 4 })]) {
  const t = chatHarness(rooms);
  t.controller.start();
  t.connect();
  await vi.advanceTimersByTimeAsync(0);
  return t;
}

describe('rooms not open', () => {
  it('are watched live, without a resume point', async () => {
    const t = await started();
    expect(t.watches().sort()).toEqual([ROOM, OTHER_ROOM].sort());
  });

  it('count others’ messages and mentions live, and keep none of them', async () => {
    const t = await started();
    t.frame({ type: 'subscribed', room: OTHER_ROOM, epoch: EPOCH, head_seq: 4, base_seq: 0, online_count: 1 });
    t.frame({ type: 'message', ...message(5, { room: OTHER_ROOM }) });
    t.frame({ type: 'message', ...message(6, { room: OTHER_ROOM, body: 'hi @alice' }) });
    t.frame({ type: 'message', ...message(7, { room: OTHER_ROOM, sender: ALICE }) });
    t.frame({ type: 'message', ...message(8, { room: OTHER_ROOM, op: 'react', target: message(5).id, emoji: '👍', body: '' }) });
    expect(t.room(OTHER_ROOM)).toMatchObject({ unread: 2, mentions: 1, last_seq: 8 });
    expect(selectTimeline(t.controller.getState().messages, OTHER_ROOM).messages).toEqual([]);
    expect(t.controller.getState().presence[OTHER_ROOM]).toBeUndefined();
    expect(t.api.online).not.toHaveBeenCalled();
  });

  it('are paced: a burst, then a steady rate', async () => {
    const many = Array.from({ length: 45 }, (_, i) => myRoom(`0197a7f0-0000-7000-8000-1${i.toString().padStart(11, '0')}`, `room ${i}`));
    const t = await started(() => many);
    expect(t.watches()).toHaveLength(30);
    await vi.advanceTimersByTimeAsync(1_600);
    expect(t.watches()).toHaveLength(45);
    expect(new Set(t.watches()).size).toBe(45);
  });

  it('a room closed to make way for another is watched again', async () => {
    const t = await started();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.sent).toContainEqual({ type: 'subscribe', room: ROOM, last_seq: 10, epoch: EPOCH });
    expect(t.sent.some((f) => f.type === 'unsubscribe')).toBe(false);
  });
});

describe('the user’s feed', () => {
  it('room_added puts the room in the list and watches it', async () => {
    const t = await started();
    t.frame({ type: 'room_added', room: myRoom(THIRD, 'invited', { kind: 'private', last_seq: 3, unread: 3 }) });
    expect(t.room(THIRD)).toMatchObject({ name: 'invited', unread: 3 });
    expect(t.watches()).toContain(THIRD);
    t.frame({ type: 'message', ...message(4, { room: THIRD }) });
    expect(t.room(THIRD)?.unread).toBe(4);
  });

  it('room_added of a room already listed replaces its entry, once', async () => {
    const t = await started();
    t.frame({ type: 'room_added', room: myRoom(OTHER_ROOM, 'random', { role: 'owner' }) });
    expect(t.controller.getState().rooms?.filter((r) => r.id === OTHER_ROOM)).toHaveLength(1);
    expect(t.room(OTHER_ROOM)?.role).toBe('owner');
  });

  it('room_removed drops the room, leaves its page, and says so once', async () => {
    const t = await started();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'room_removed', room: ROOM, reason: 'kicked' });
    const state = t.controller.getState();
    expect(state.activeRoom).toBeNull();
    expect(state.rooms?.map((r) => r.id)).toEqual([OTHER_ROOM]);
    expect(state.notice).toBe('You were removed from #general.');
    t.frame({ type: 'member_left', room: ROOM, user: ALICE });
    expect(t.controller.getState().notice).toBe('You were removed from #general.');
  });

  it('read lowers the counts (another device read the room)', async () => {
    const t = await started();
    t.frame({ type: 'message', ...message(5, { room: OTHER_ROOM }) });
    t.frame({ type: 'message', ...message(6, { room: OTHER_ROOM }) });
    t.frame({ type: 'read', room: OTHER_ROOM, seq: 5 });
    expect(t.room(OTHER_ROOM)).toMatchObject({ unread: 1, last_read_seq: 5 });
    t.frame({ type: 'read', room: OTHER_ROOM, seq: 6 });
    expect(t.room(OTHER_ROOM)).toMatchObject({ unread: 0, last_read_seq: 6 });
  });

  it('after a reconnect, the list is fetched again and watched again', async () => {
    let rooms = [myRoom(ROOM, 'general')];
    const t = await started(() => rooms);
    expect(t.api.myRooms).toHaveBeenCalledTimes(2);
    t.disconnect();
    rooms = [myRoom(ROOM, 'general'), myRoom(THIRD, 'missed')];
    t.sent.length = 0;
    t.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.api.myRooms).toHaveBeenCalledTimes(3);
    expect(t.room(THIRD)?.name).toBe('missed');
    expect(t.watches().sort()).toEqual([ROOM, THIRD].sort());
  });

  it('the list is not polled', async () => {
    const t = await started();
    const calls = t.api.myRooms as unknown as { mock: { calls: unknown[] } };
    const before = calls.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(calls.mock.calls.length).toBe(before);
  });
});

describe('opening a room with unread messages', () => {
  it('puts the divider after the read marker it had', async () => {
    const t = await started(() => [myRoom(ROOM, 'general', { last_seq: 10, last_read_seq: 7, unread: 3 })]);
    t.controller.openRoom(ROOM);
    expect(t.controller.getState().dividers[ROOM]).toBe(7);
  });

  it('puts none when all was read', async () => {
    const t = await started(() => [myRoom(ROOM, 'general', { last_seq: 10, last_read_seq: 10 })]);
    t.controller.openRoom(ROOM);
    expect(t.controller.getState().dividers[ROOM]).toBeNull();
  });
});

describe('away', () => {
  it('is told to the server at once, and before any subscribe on a new connection', async () => {
    const t = await started();
    t.controller.setAway(true);
    t.controller.setAway(true);
    expect(t.sent.filter((f) => f.type === 'status')).toEqual([{ type: 'status', status: 'away' }]);
    t.disconnect();
    t.sent.length = 0;
    t.connect();
    expect(t.sent[0]).toEqual({ type: 'status', status: 'away' });
    t.controller.setAway(false);
    expect(t.sent.at(-1)).toEqual({ type: 'status', status: 'active' });
  });

  it('shows in the open room’s presence', async () => {
    const t = await started();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: true, status: 'away' });
    expect(t.controller.getState().presence[ROOM]?.[BOB.id]?.status).toBe('away');
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: false });
    expect(t.controller.getState().presence[ROOM]?.[BOB.id]).toBeUndefined();
  });
});

describe('a watched room that moved before its subscription', () => {
  it('has its counts fetched again, once for many rooms', async () => {
    const t = await started();
    const calls = () => (t.api.myRooms as unknown as { mock: { calls: unknown[] } }).mock.calls.length;
    const before = calls();
    t.frame({ type: 'subscribed', room: OTHER_ROOM, epoch: EPOCH, head_seq: 4, base_seq: 0, online_count: 1 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls()).toBe(before);
    t.frame({ type: 'subscribed', room: OTHER_ROOM, epoch: EPOCH, head_seq: 6, base_seq: 0, online_count: 1 });
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 2, base_seq: 0, online_count: 1 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls()).toBe(before + 1);
  });
});
