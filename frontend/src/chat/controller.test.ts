import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatApi } from '../api/endpoints';
import type { SocketEvents } from '../api/socket';
import type { ChatMessage, ClientFrame, HistoryPage, MyRoom, ServerFrameOf } from '../wire';
import { ChatController, type SocketLike } from './controller';
import { SEND_TIMEOUT_MS, UNAVAILABLE_RESEND_MS } from './outbox';
import { RETRY_FEED_MS } from './feeds';
import { ALICE, BOB, EPOCH, OTHER_ROOM, ROOM, message, page, range } from '../test/fixtures';
import { hello } from '../test/fakeSocket';
import { selectTimeline } from '../store/messages';
import { DRAFT_TTL_MS } from '../store/drafts';

const myRoom = (id: string, name: string): MyRoom => ({
  id,
  name,
  kind: 'public',
  created_at: '2026-01-01T00:00:00Z',
  role: 'member',
  last_seq: 0,
  last_read_seq: 0,
  unread: 0,
});

function setup(
  history: (room: string, query: { before?: number; after?: number; limit?: number }) => HistoryPage = () => page(range(1, 10), false),
  onLiveMessage?: (m: ChatMessage) => void,
) {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  let ready = false;
  const socket: SocketLike = {
    start: vi.fn(),
    stop: vi.fn(),
    retryNow: vi.fn(),
    networkChanged: vi.fn(),
    send: (frame) => {
      if (!ready) return false;
      sent.push(frame);
      return true;
    },
  };
  const api = {
    history: vi.fn(async (room: string, query = {}) => history(room, query)),
    myRooms: vi.fn(async () => [myRoom(ROOM, 'general'), myRoom(OTHER_ROOM, 'random')]),
    markRead: vi.fn(async () => {}),
    leaveRoom: vi.fn(async () => {}),
    online: vi.fn(async () => ({ online: [{ ...ALICE, status: 'active' }, { ...BOB, status: 'away' }], online_count: 2, next: null })),
  } as unknown as ChatApi;
  const controller = new ChatController({
    api,
    me: ALICE,
    createSocket: (e) => {
      events = e;
      return socket;
    },
    ...(onLiveMessage ? { onLiveMessage } : {}),
  });
  const connect = () => {
    ready = true;
    events.onState({ status: 'online', attempt: 0, retryAt: null });
    events.onReady(hello() as never);
  };
  const disconnect = () => {
    ready = false;
    events.onState({ status: 'reconnecting', attempt: 1, retryAt: Date.now() + 1000 });
  };
  const frame = (f: Parameters<SocketEvents['onFrame']>[0]) => events.onFrame(f);
  // subscribes that follow a room's feed (not the live-only watches of rooms not open)
  const subscribes = () => sent.filter((f) => f.type === 'subscribe' && (f.last_seq !== undefined || t.controller.getState().openRooms.includes(f.room)));
  const sends = () => sent.filter((f) => f.type === 'send');
  /** Connected, ROOM open and subscribed at `head` (epoch EPOCH, base 0). */
  const openLive = async (head: number) => {
    connect();
    controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: head, base_seq: 0, online_count: 1 });
  };
  const t = { controller, api, socket, sent, connect, disconnect, frame, subscribes, sends, openLive };
  return t;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('opening a room', () => {
  it('loads the newest page, then subscribes from its last seq and epoch', async () => {
    const t = setup();
    t.connect();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.api.history).toHaveBeenCalledWith(ROOM, { limit: 50 });
    expect(t.subscribes()).toEqual([{ type: 'subscribe', room: ROOM, last_seq: 10, epoch: EPOCH }]);
    expect(t.controller.getState().feeds[ROOM]?.status).toBe('subscribing');

    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 12, base_seq: 0, online_count: 2 });
    expect(t.controller.getState().feeds[ROOM]?.status).toBe('live');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.api.online).toHaveBeenCalledWith(ROOM, { limit: 200 });
    expect(Object.keys(t.controller.getState().presence[ROOM] ?? {})).toHaveLength(2);
  });

  it('opened while offline, subscribes once connected', async () => {
    const t = setup();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.subscribes()).toEqual([]);
    t.connect();
    expect(t.subscribes()).toEqual([{ type: 'subscribe', room: ROOM, last_seq: 10, epoch: EPOCH }]);
  });
});

describe('live messages for notifications', () => {
  it('hands every live message frame to onLiveMessage, of an open room or not', async () => {
    const seen: ChatMessage[] = [];
    const t = setup(undefined, (m) => seen.push(m));
    await t.openLive(10);
    t.frame({ type: 'message', ...message(11) });
    t.frame({ type: 'message', ...message(4, { room: OTHER_ROOM }) });
    expect(seen.map((m) => [m.room, m.seq])).toEqual([
      [ROOM, 11],
      [OTHER_ROOM, 4],
    ]);
    expect(seen[0]).not.toHaveProperty('type');
  });
});

describe('reconnecting', () => {
  it('subscribes every open room again from its own last seq and epoch', async () => {
    const t = setup((room) => (room === ROOM ? page(range(1, 10), false) : page([1, 2, 3], false, { room: OTHER_ROOM })));
    t.connect();
    t.controller.openRoom(ROOM);
    t.controller.openRoom(OTHER_ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    t.frame({ type: 'message', ...message(11) });
    t.frame({ type: 'message', ...message(12) });

    t.disconnect();
    t.sent.length = 0;
    t.connect();
    expect(t.subscribes()).toEqual([
      { type: 'subscribe', room: ROOM, last_seq: 12, epoch: EPOCH },
      { type: 'subscribe', room: OTHER_ROOM, last_seq: 3, epoch: EPOCH },
    ]);
  });

  it('resends unconfirmed messages with the same client_msg_id once the room is live again', async () => {
    const t = setup();
    await t.openLive(10);
    t.controller.send(ROOM, 'hello');
    const [first] = t.sends();
    expect(first).toMatchObject({ type: 'send', room: ROOM, body: 'hello' });

    t.disconnect();
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS * 2);
    expect(selectTimeline(t.controller.getState().messages, ROOM).pending[0]?.state).toBe('sending');
    t.connect();
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    const resent = t.sends();
    expect(resent).toHaveLength(2);
    expect(resent[1]).toEqual(first);
  });

  it('resends by itself, under the same client_msg_id, a message that failed for want of an answer', async () => {
    const t = setup();
    await t.openLive(10);
    t.controller.send(ROOM, 'hello');
    const [first] = t.sends();
    // The connection died unnoticed: no ack in time.
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS);
    const pending = () => selectTimeline(t.controller.getState().messages, ROOM).pending;
    expect(pending()[0]).toMatchObject({ state: 'failed', error: { code: 'timeout' } });

    t.disconnect();
    t.connect();
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    expect(t.sends()).toEqual([first, first]);
    expect(pending()[0]?.state).toBe('sending');
    const id = (first as { client_msg_id: string }).client_msg_id;
    t.frame({ type: 'ack', room: ROOM, client_msg_id: id, id: message(11).id, seq: 11, epoch: EPOCH });
    t.frame({ type: 'message', ...message(11, { sender: ALICE, client_msg_id: id, body: 'hello' }) });
    expect(pending()).toEqual([]);
    expect(selectTimeline(t.controller.getState().messages, ROOM).messages.filter((m) => m.client_msg_id === id)).toHaveLength(1);
  });

  it('does not resend by itself a message the server refused', async () => {
    const t = setup();
    await t.openLive(10);
    t.controller.send(ROOM, 'hello');
    const id = (t.sends()[0] as { client_msg_id: string }).client_msg_id;
    t.frame({ type: 'error', code: 'invalid', message: 'no', room: ROOM, client_msg_id: id });
    t.disconnect();
    t.connect();
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    expect(t.sends()).toHaveLength(1);
  });

  it('passes the browser’s online and offline events to the socket', () => {
    const t = setup();
    t.controller.networkChanged(false);
    t.controller.networkChanged(true);
    expect(t.socket.networkChanged).toHaveBeenNthCalledWith(1, false);
    expect(t.socket.networkChanged).toHaveBeenNthCalledWith(2, true);
  });
});

describe('a refused subscribe', () => {
  it('past the resume limit (rate_limited) says so in words and subscribes again later by itself', async () => {
    const t = setup();
    t.connect();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.subscribes()).toHaveLength(1);
    t.frame({ type: 'error', code: 'rate_limited', message: 'too many resuming subscribes', room: ROOM });
    const feed = t.controller.getState().feeds[ROOM];
    expect(feed?.status).toBe('error');
    expect(feed?.error).toBe('Too many rooms are being resumed at once; trying again…');
    await vi.advanceTimersByTimeAsync(RETRY_FEED_MS);
    expect(t.subscribes()).toHaveLength(2);
  });
});

describe('resync', () => {
  it('reloads what follows the last seq, then subscribes again from the new last seq', async () => {
    const t = setup((_room, query) => (query.after === 10 ? page(range(11, 15), false) : page(range(1, 10), false)));
    await t.openLive(10);
    t.sent.length = 0;

    t.frame({ type: 'resync', room: ROOM, reason: 'lagging' });
    expect(t.controller.getState().feeds[ROOM]?.status).toBe('resyncing');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.api.history).toHaveBeenLastCalledWith(ROOM, { after: 10, limit: 100 });
    expect(t.subscribes()).toEqual([{ type: 'subscribe', room: ROOM, last_seq: 15, epoch: EPOCH }]);
  });

  it('waits RETRY_FEED_MS before reloading again when resyncs keep coming', async () => {
    const t = setup((_room, query) => (query.after !== undefined ? page([], false) : page(range(1, 10), false)));
    await t.openLive(12);
    t.sent.length = 0;

    t.frame({ type: 'resync', room: ROOM, reason: 'gap' });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.subscribes()).toHaveLength(1);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 12, base_seq: 0, online_count: 1 });
    t.frame({ type: 'resync', room: ROOM, reason: 'gap' });
    t.frame({ type: 'resync', room: ROOM, reason: 'gap' });
    await vi.advanceTimersByTimeAsync(RETRY_FEED_MS - 1);
    expect(t.subscribes(), 'the second reload waits').toHaveLength(1);
    expect(t.controller.getState().feeds[ROOM]?.status).toBe('resyncing');
    await vi.advanceTimersByTimeAsync(1);
    expect(t.api.history).toHaveBeenLastCalledWith(ROOM, { after: 10, limit: 100 });
    expect(t.subscribes(), 'one reload for the two resyncs').toHaveLength(2);
  });

  it('drops a waiting reload when the connection drops: the new connection resumes the room once', async () => {
    const t = setup((_room, query) => (query.after !== undefined ? page([], false) : page(range(1, 10), false)));
    await t.openLive(10);
    t.frame({ type: 'resync', room: ROOM, reason: 'gap' });
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    t.frame({ type: 'resync', room: ROOM, reason: 'gap' });
    const reloads = vi.mocked(t.api.history).mock.calls.length;

    t.disconnect();
    t.sent.length = 0;
    t.connect();
    expect(t.subscribes(), 'the new connection resumes the room').toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RETRY_FEED_MS);
    expect(t.api.history, 'no reload left over from the old connection').toHaveBeenCalledTimes(reloads);
    expect(t.subscribes()).toHaveLength(1);
  });

  it('starts the room over from the newest page when its epoch changed', async () => {
    let epoch = EPOCH;
    const t = setup(() => page(range(1, 10), false, { epoch }));
    await t.openLive(10);

    t.disconnect();
    epoch = EPOCH + 1;
    t.connect();
    t.sent.length = 0;
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH + 1, head_seq: 10, base_seq: 0, online_count: 1 });
    t.frame({ type: 'resync', room: ROOM, reason: 'epoch' });
    await vi.advanceTimersByTimeAsync(0);
    expect(t.api.history).toHaveBeenLastCalledWith(ROOM, { limit: 50 });
    expect(t.subscribes()).toEqual([{ type: 'subscribe', room: ROOM, last_seq: 10, epoch: EPOCH + 1 }]);
    expect(selectTimeline(t.controller.getState().messages, ROOM).epoch).toBe(EPOCH + 1);
  });
});

describe('own messages', () => {
  async function live() {
    const t = setup();
    await t.openLive(10);
    return t;
  }
  const pendingOf = (t: Awaited<ReturnType<typeof live>>) => selectTimeline(t.controller.getState().messages, ROOM).pending;

  it('fail after the timeout and are retried under the same client_msg_id', async () => {
    const t = await live();
    t.controller.send(ROOM, 'hi');
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS);
    expect(pendingOf(t)[0]).toMatchObject({ state: 'failed', error: { code: 'timeout' } });

    const id = pendingOf(t)[0]?.clientMsgId;
    t.controller.retry(ROOM, id ?? '');
    expect(t.sends().map((f) => (f as { client_msg_id: string }).client_msg_id)).toEqual([id, id]);
    t.frame({ type: 'ack', room: ROOM, client_msg_id: id ?? '', id: message(11).id, seq: 11, epoch: EPOCH });
    expect(pendingOf(t)[0]?.state).toBe('sent');
    t.frame({ type: 'message', ...message(11, { sender: ALICE, client_msg_id: id ?? '', body: 'hi' }) });
    expect(pendingOf(t)).toEqual([]);
    await vi.advanceTimersByTimeAsync(SEND_TIMEOUT_MS);
    expect(pendingOf(t)).toEqual([]);
  });

  it('are resent once by themselves after `unavailable`, then shown as failed', async () => {
    const t = await live();
    t.controller.send(ROOM, 'hi');
    const id = pendingOf(t)[0]?.clientMsgId ?? '';
    t.frame({ type: 'error', code: 'unavailable', message: 'not durable', room: ROOM, client_msg_id: id });
    expect(pendingOf(t)[0]?.state).toBe('sending');
    await vi.advanceTimersByTimeAsync(UNAVAILABLE_RESEND_MS);
    expect(t.sends()).toHaveLength(2);
    expect(t.sends()[1]).toEqual(t.sends()[0]);

    t.frame({ type: 'error', code: 'unavailable', message: 'not durable', room: ROOM, client_msg_id: id });
    expect(pendingOf(t)[0]).toMatchObject({ state: 'failed', error: { code: 'unavailable' } });
  });

  it('fail at once on other errors', async () => {
    const t = await live();
    t.controller.send(ROOM, 'x');
    const id = pendingOf(t)[0]?.clientMsgId ?? '';
    t.frame({ type: 'error', code: 'rate_limited', message: 'slow down', room: ROOM, client_msg_id: id });
    expect(pendingOf(t)[0]).toMatchObject({ state: 'failed', error: { code: 'rate_limited' } });
  });
});

describe('rooms', () => {
  it('count unread messages of rooms not on screen', async () => {
    const t = setup();
    t.controller.start();
    t.connect();
    t.controller.openRoom(OTHER_ROOM);
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'message', ...message(11, { room: OTHER_ROOM }) });
    t.frame({ type: 'message', ...message(12, { room: OTHER_ROOM }) });
    t.frame({ type: 'message', ...message(11) });
    const rooms = t.controller.getState().rooms ?? [];
    expect(rooms.find((r) => r.id === OTHER_ROOM)?.unread).toBe(2);
    expect(rooms.find((r) => r.id === ROOM)?.unread).toBe(0);
  });

  it('marks the open room read up to its last message', async () => {
    const t = setup();
    t.controller.start();
    t.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.api.markRead).toHaveBeenCalledWith(ROOM, 10);
  });

  it('drops a room when the server says the caller left it', async () => {
    const t = setup();
    t.controller.start();
    t.connect();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'member_left', room: ROOM, user: ALICE });
    const state = t.controller.getState();
    expect(state.activeRoom).toBeNull();
    expect(state.openRooms).toEqual([]);
    expect(state.rooms?.map((r) => r.id)).toEqual([OTHER_ROOM]);
    expect(state.messages.rooms[ROOM]).toBeUndefined();
    expect(state.notice).toBe('You are no longer a member of #general.');
  });

  it('shows who is typing, but not oneself, until their message arrives', async () => {
    const t = setup();
    t.connect();
    t.controller.openRoom(ROOM);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'typing', room: ROOM, user: BOB });
    t.frame({ type: 'typing', room: ROOM, user: ALICE });
    expect(Object.keys(t.controller.getState().typing[ROOM] ?? {})).toEqual([BOB.id]);
    t.frame({ type: 'message', ...message(11, { sender: BOB }) });
    expect(t.controller.getState().typing[ROOM]).toEqual({});
  });
});

describe('bot drafts', () => {
  const BOT = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bot' };
  const draft = (body: string, overrides: Partial<ServerFrameOf<'draft'>> = {}): ServerFrameOf<'draft'> => ({
    type: 'draft',
    room: ROOM,
    id: message(11).id,
    reply_to: message(10).id,
    sender: BOT,
    body,
    state: 'streaming',
    ...overrides,
  });
  const botReply = () => ({ type: 'message' as const, ...message(11, { sender: BOT, kind: 'bot' as const, body: 'Four.' }) });

  async function live(...rooms: string[]) {
    const t = setup();
    t.controller.start();
    t.connect();
    for (const room of rooms) t.controller.openRoom(room);
    await vi.advanceTimersByTimeAsync(0);
    for (const room of rooms) t.frame({ type: 'subscribed', room, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    return t;
  }
  const draftsOf = (t: ReturnType<typeof setup>, room = ROOM) =>
    selectTimeline(t.controller.getState().messages, room).drafts.map((d) => d.body);

  it('show the whole text so far, until the message with their id replaces them', async () => {
    const t = await live(ROOM);
    t.frame(draft('Two plus'));
    t.frame(draft('Two plus two'));
    expect(draftsOf(t)).toEqual(['Two plus two']);
    t.frame(botReply());
    expect(draftsOf(t)).toEqual([]);
    expect(selectTimeline(t.controller.getState().messages, ROOM).messages.at(-1)).toMatchObject({ seq: 11, kind: 'bot' });
    t.frame(draft('Two plus two is'));
    expect(draftsOf(t)).toEqual([]);
  });

  it('never count as unread, nor move the room\'s last seq', async () => {
    const t = await live(OTHER_ROOM, ROOM);
    const before = t.controller.getState().rooms;
    t.frame(draft('Two plus', { room: OTHER_ROOM }));
    expect(draftsOf(t, OTHER_ROOM)).toEqual(['Two plus']);
    expect(t.controller.getState().rooms).toBe(before);
  });

  it('of rooms not followed are ignored', async () => {
    const t = await live(ROOM);
    t.frame(draft('elsewhere', { room: OTHER_ROOM }));
    expect(t.controller.getState().messages.rooms[OTHER_ROOM]).toBeUndefined();
  });

  it('go when cancelled', async () => {
    const t = await live(ROOM);
    t.frame(draft('Two plus'));
    t.frame(draft('', { state: 'cancelled' }));
    expect(draftsOf(t)).toEqual([]);
  });

  it('go after a minute without an update, not before', async () => {
    const t = await live(ROOM);
    t.frame(draft('Two'));
    await vi.advanceTimersByTimeAsync(DRAFT_TTL_MS - 10_000);
    t.frame(draft('Two plus'));
    await vi.advanceTimersByTimeAsync(DRAFT_TTL_MS - 1);
    expect(draftsOf(t)).toEqual(['Two plus']);
    await vi.advanceTimersByTimeAsync(1);
    expect(draftsOf(t)).toEqual([]);
    t.frame(draft('Two plus two'));
    await vi.advanceTimersByTimeAsync(DRAFT_TTL_MS);
    expect(draftsOf(t)).toEqual([]);
  });

  it('are dropped when the room resyncs, and when the connection is lost', async () => {
    const t = await live(ROOM);
    t.frame(draft('Two plus'));
    t.frame({ type: 'resync', room: ROOM, reason: 'lagging' });
    expect(draftsOf(t)).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    t.frame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 10, base_seq: 0, online_count: 1 });
    t.frame(draft('Two plus two'));
    expect(draftsOf(t)).toEqual(['Two plus two']);
    t.disconnect();
    expect(draftsOf(t)).toEqual([]);
  });
});
