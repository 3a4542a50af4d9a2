// Who is online in the open room: fetched page by page when its feed goes
// live and again after every resubscribe, merged with the `presence` frames
// that arrive meanwhile; rooms not open fetch nothing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OnlinePage, OnlineUser } from '../wire';
import { ALICE, BOB, EPOCH, OTHER_ROOM, ROOM } from '../test/fixtures';
import { chatHarness, myRoom } from '../test/chatHarness';

const CAROL = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'carol' };
const active = (u: { id: string; username: string }): OnlineUser => ({ ...u, status: 'active' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A fetch that answers when the test says. */
function deferred() {
  const waiting: { after: string | undefined; resolve: (page: OnlinePage) => void }[] = [];
  const online = (_room: string, after: string | undefined) =>
    new Promise<OnlinePage>((resolve) => {
      waiting.push({ after, resolve });
    });
  return { online, waiting };
}

async function openRoom(online: (room: string, after: string | undefined) => Promise<OnlinePage>) {
  const t = chatHarness(() => [myRoom(ROOM, 'general'), myRoom(OTHER_ROOM, 'random')], undefined, online);
  t.controller.start();
  t.connect();
  t.controller.openRoom(ROOM);
  await vi.advanceTimersByTimeAsync(0);
  return t;
}

const shown = (t: Awaited<ReturnType<typeof openRoom>>, room = ROOM) =>
  Object.values(t.controller.getState().presence[room] ?? {})
    .map((u) => `${u.username}:${u.status}`)
    .sort();

describe('who is online in the open room', () => {
  it('is fetched when its feed goes live, and keeps the presence frames that arrive during the fetch', async () => {
    const fetch = deferred();
    const t = await openRoom(fetch.online);
    expect(fetch.waiting).toHaveLength(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 2 });
    expect(fetch.waiting).toHaveLength(1);

    // while the list is on its way: bob goes away, carol comes online
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: true, status: 'away' });
    t.frame({ type: 'presence', room: ROOM, user: CAROL, online: true, status: 'active' });
    fetch.waiting[0]?.resolve({ online: [active(ALICE), active(BOB)], online_count: 2, next: null });
    await vi.advanceTimersByTimeAsync(0);

    expect(shown(t)).toEqual(['alice:active', 'bob:away', 'carol:active']);
    // and live afterwards
    t.frame({ type: 'presence', room: ROOM, user: CAROL, online: false });
    expect(shown(t)).toEqual(['alice:active', 'bob:away']);
  });

  it('follows `next` until the last page', async () => {
    const fetch = deferred();
    const t = await openRoom(fetch.online);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 3 });
    fetch.waiting[0]?.resolve({ online: [active(ALICE), active(BOB)], online_count: 3, next: BOB.id });
    await vi.advanceTimersByTimeAsync(0);
    expect(fetch.waiting[1]?.after).toBe(BOB.id);
    t.frame({ type: 'presence', room: ROOM, user: ALICE, online: false });
    fetch.waiting[1]?.resolve({ online: [active(CAROL)], online_count: 3, next: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(shown(t)).toEqual(['bob:active', 'carol:active']);
  });

  it('is fetched again after a reconnect, and a late answer of the old connection is dropped', async () => {
    const fetch = deferred();
    const t = await openRoom(fetch.online);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 2 });
    t.disconnect();
    t.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    expect(fetch.waiting).toHaveLength(2);
    fetch.waiting[0]?.resolve({ online: [active(ALICE), active(BOB)], online_count: 2, next: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(shown(t)).toEqual([]);
    fetch.waiting[1]?.resolve({ online: [active(ALICE)], online_count: 1, next: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(shown(t)).toEqual(['alice:active']);
  });

  it('is asked again later when the fetch fails, with the frames meanwhile kept', async () => {
    let calls = 0;
    const t = await openRoom(async () => {
      calls += 1;
      if (calls === 1) throw new Error('unavailable');
      return { online: [active(ALICE)], online_count: 1, next: null };
    });
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: true, status: 'active' });
    expect(shown(t)).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(2);
    expect(shown(t)).toEqual(['alice:active', 'bob:active']);
  });
});

describe('rooms not open', () => {
  it('fetch nothing and keep no presence', async () => {
    const fetch = deferred();
    const t = await openRoom(fetch.online);
    t.frame({ type: 'subscribed', room: OTHER_ROOM, epoch: EPOCH, head_seq: 0, base_seq: 0, online_count: 2 });
    t.frame({ type: 'presence', room: OTHER_ROOM, user: BOB, online: true, status: 'active' });
    expect(fetch.waiting).toHaveLength(0);
    expect(t.controller.getState().presence[OTHER_ROOM]).toBeUndefined();
  });
});

describe('an open room off screen', () => {
  it('fetches its list when it is shown, not before', async () => {
    const fetch = deferred();
    const t = await openRoom(fetch.online);
    t.controller.openRoom(OTHER_ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 2 });
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: true, status: 'active' });
    expect(fetch.waiting).toHaveLength(0);
    expect(t.controller.getState().presence[ROOM]).toBeUndefined();

    t.controller.openRoom(ROOM);
    expect(fetch.waiting).toHaveLength(1);
    fetch.waiting[0]?.resolve({ online: [active(ALICE), active(BOB)], online_count: 2, next: null });
    await vi.advanceTimersByTimeAsync(0);
    expect(shown(t)).toEqual(['alice:active', 'bob:active']);

    // off screen again, it stays live without another fetch
    t.controller.openRoom(OTHER_ROOM);
    t.frame({ type: 'presence', room: ROOM, user: BOB, online: false });
    t.controller.openRoom(ROOM);
    expect(fetch.waiting).toHaveLength(1);
    expect(shown(t)).toEqual(['alice:active']);
  });
});
