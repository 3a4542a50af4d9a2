import { describe, expect, it } from 'vitest';
import {
  emptyMessages,
  messagesReducer,
  selectOldestSeq,
  selectPending,
  selectResumePoint,
  selectTimeline,
  selectUnconfirmed,
  type MessagesAction,
  type MessagesState,
} from './messages';
import { ALICE, BOB, EPOCH, OTHER_ROOM, ROOM, message, page, range } from '../test/fixtures';

function run(...actions: MessagesAction[]): MessagesState {
  return actions.reduce(messagesReducer, emptyMessages);
}
const seqs = (state: MessagesState, room = ROOM) => selectTimeline(state, room).messages.map((m) => m.seq);
const live = (seq: number, overrides = {}): MessagesAction => ({ type: 'message/received', message: message(seq, overrides) });
const queued = (clientMsgId: string, body = 'hello'): MessagesAction => ({
  type: 'send/queued',
  room: ROOM,
  clientMsgId,
  body,
  sender: ALICE,
  at: 1000,
});

describe('ordering', () => {
  it('keeps messages in seq order when they arrive out of order', () => {
    const state = run(live(3), live(1), live(2), live(5), live(4));
    expect(seqs(state)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps rooms apart', () => {
    const state = run(live(1), live(1, { room: OTHER_ROOM, id: '0197a7f0-0000-7000-8000-0000000fffff' }));
    expect(seqs(state)).toEqual([1]);
    expect(seqs(state, OTHER_ROOM)).toEqual([1]);
  });
});

describe('dedupe', () => {
  it('stores a message delivered twice once', () => {
    const state = run(live(1), live(2), live(1), live(2));
    expect(seqs(state)).toEqual([1, 2]);
  });

  it('drops a replayed message that history already loaded, by id', () => {
    const state = run({ type: 'history/loaded', room: ROOM, page: page([1, 2, 3], false), direction: 'newest' }, live(3), live(4));
    expect(seqs(state)).toEqual([1, 2, 3, 4]);
    expect(selectTimeline(state, ROOM).ids.size).toBe(4);
  });

  it('returns the same state object when nothing changes', () => {
    const once = run(live(1));
    expect(messagesReducer(once, live(1))).toBe(once);
  });
});

describe('resume point', () => {
  it('is the last seq of the newest page and follows live messages', () => {
    const state = run({ type: 'history/loaded', room: ROOM, page: page(range(51, 100), true), direction: 'newest' }, live(101), live(102));
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 102, epoch: EPOCH });
  });

  it('stops before a hole, so a resume replays the missing message', () => {
    const state = run(
      { type: 'history/loaded', room: ROOM, page: page([8, 9, 10], true), direction: 'newest' },
      live(11),
      live(13),
    );
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(11);
    const filled = messagesReducer(state, live(12));
    expect(selectResumePoint(filled, ROOM).lastSeq).toBe(13);
  });

  it('passes a hole at or below the epoch\'s base, which never existed, and no other', () => {
    const history: MessagesAction = { type: 'history/loaded', room: ROOM, page: page([8, 9, 11, 14], true), direction: 'newest' };
    expect(selectResumePoint(run(history), ROOM).lastSeq).toBe(9);
    const based = run(history, { type: 'room/subscribed', room: ROOM, epoch: EPOCH, headSeq: 14, baseSeq: 12 });
    expect(selectResumePoint(based, ROOM).lastSeq).toBe(11);
    expect(selectResumePoint(messagesReducer(based, live(13)), ROOM).lastSeq).toBe(14);
    const later = messagesReducer(run(history, live(15)), { type: 'room/subscribed', room: ROOM, epoch: EPOCH, headSeq: 15, baseSeq: 13 });
    expect(selectResumePoint(later, ROOM).lastSeq).toBe(15);
  });

  it('does not move when older pages are prepended', () => {
    const state = run(
      { type: 'history/loaded', room: ROOM, page: page(range(51, 100), true), direction: 'newest' },
      { type: 'history/loaded', room: ROOM, page: page(range(1, 50), false), direction: 'older' },
    );
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(100);
  });

  it('starts from 0 in an empty room, so messages sent before the subscription are replayed', () => {
    const state = run({ type: 'history/loaded', room: ROOM, page: page([], false), direction: 'newest' });
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 0 });
  });

  it('starts after head_seq when subscribed without one', () => {
    const state = run({ type: 'room/subscribed', room: ROOM, epoch: EPOCH, headSeq: 41, baseSeq: 0 }, live(42));
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 42, epoch: EPOCH });
  });

  it('leaves epoch out while it is unknown (history answers 0 without Redis)', () => {
    const state = run({ type: 'history/loaded', room: ROOM, page: page([1, 2], false, { epoch: 0 }), direction: 'newest' });
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 2 });
  });

  it('is empty for a room never seen', () => {
    expect(selectResumePoint(emptyMessages, ROOM)).toEqual({});
  });
});

describe('own messages', () => {
  it('go from sending to sent on ack, and are replaced by the real message', () => {
    let state = run(queued('c-1'));
    expect(selectPending(state, ROOM, 'c-1')?.state).toBe('sending');

    const real = message(7, { sender: ALICE, client_msg_id: 'c-1', body: 'hello' });
    state = messagesReducer(state, { type: 'send/acked', room: ROOM, clientMsgId: 'c-1', id: real.id, seq: 7 });
    expect(selectPending(state, ROOM, 'c-1')).toMatchObject({ state: 'sent', id: real.id, seq: 7 });

    state = messagesReducer(state, { type: 'message/received', message: real });
    expect(selectPending(state, ROOM, 'c-1')).toBeUndefined();
    expect(selectTimeline(state, ROOM).messages).toEqual([real]);
  });

  it('are replaced when the real message arrives before the ack, and the late ack changes nothing', () => {
    const real = message(3, { sender: ALICE, client_msg_id: 'c-1' });
    const state = run(queued('c-1'), { type: 'message/received', message: real });
    expect(selectTimeline(state, ROOM).pending).toEqual([]);
    const acked = messagesReducer(state, { type: 'send/acked', room: ROOM, clientMsgId: 'c-1', id: real.id, seq: 3 });
    expect(acked).toBe(state);
  });

  it('are not replaced by someone else’s message with the same client_msg_id', () => {
    const state = run(queued('c-1'), live(3, { sender: BOB, client_msg_id: 'c-1' }));
    expect(selectPending(state, ROOM, 'c-1')?.state).toBe('sending');
  });

  it('fail on an error frame, and a retry keeps the same client_msg_id', () => {
    let state = run(queued('c-1'), queued('c-2'));
    state = messagesReducer(state, {
      type: 'send/failed',
      clientMsgId: 'c-1',
      code: 'unavailable',
      message: 'try again',
    });
    expect(selectPending(state, ROOM, 'c-1')).toMatchObject({ state: 'failed', error: { code: 'unavailable' } });
    expect(selectUnconfirmed(state, ROOM).map((p) => p.clientMsgId)).toEqual(['c-2']);

    state = messagesReducer(state, { type: 'send/retried', room: ROOM, clientMsgId: 'c-1' });
    const retried = selectPending(state, ROOM, 'c-1');
    expect(retried).toMatchObject({ state: 'sending', clientMsgId: 'c-1', body: 'hello', retries: 1 });
    expect(retried?.error).toBeUndefined();
    expect(selectUnconfirmed(state, ROOM).map((p) => p.clientMsgId)).toEqual(['c-1', 'c-2']);
  });

  it('fail on timeout only while still sending', () => {
    let state = run(queued('c-1'));
    state = messagesReducer(state, { type: 'send/timedOut', room: ROOM, clientMsgId: 'c-1' });
    expect(selectPending(state, ROOM, 'c-1')).toMatchObject({ state: 'failed', error: { code: 'timeout' } });

    const acked = run(queued('c-2'), { type: 'send/acked', room: ROOM, clientMsgId: 'c-2', id: message(9).id, seq: 9 });
    expect(messagesReducer(acked, { type: 'send/timedOut', room: ROOM, clientMsgId: 'c-2' })).toBe(acked);
  });

  it('become sent when an ack arrives after a timeout (the resend was not needed)', () => {
    const state = run(queued('c-1'), { type: 'send/timedOut', room: ROOM, clientMsgId: 'c-1' }, {
      type: 'send/acked',
      room: ROOM,
      clientMsgId: 'c-1',
      id: message(4).id,
      seq: 4,
    });
    expect(selectPending(state, ROOM, 'c-1')?.state).toBe('sent');
  });

  it('are queued once per client_msg_id', () => {
    const state = run(queued('c-1'), queued('c-1'));
    expect(selectTimeline(state, ROOM).pending).toHaveLength(1);
  });
});

describe('history', () => {
  it('prepends older pages and remembers when the start is reached', () => {
    let state = run({ type: 'history/loaded', room: ROOM, page: page(range(51, 100), true), direction: 'newest' });
    expect(selectTimeline(state, ROOM).hasOlder).toBe(true);
    expect(selectOldestSeq(state, ROOM)).toBe(51);

    state = messagesReducer(state, { type: 'history/loaded', room: ROOM, page: page(range(1, 50), false), direction: 'older' });
    expect(seqs(state)).toEqual(range(1, 100));
    expect(selectTimeline(state, ROOM).hasOlder).toBe(false);
  });

  it('merges a page that overlaps live messages', () => {
    const state = run(live(10), live(11), { type: 'history/loaded', room: ROOM, page: page(range(5, 11), true), direction: 'newest' });
    expect(seqs(state)).toEqual(range(5, 11));
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(11);
  });

  it('replaces a sent message found in history', () => {
    const state = run(
      queued('mine'),
      { type: 'send/acked', room: ROOM, clientMsgId: 'mine', id: message(2).id, seq: 2 },
      { type: 'history/loaded', room: ROOM, page: page([1, 2], false, { sender: ALICE, client_msg_id: 'mine' }), direction: 'newest' },
    );
    expect(selectTimeline(state, ROOM).pending).toEqual([]);
  });

  it('marks the start reached when an older page is empty', () => {
    const state = run(
      { type: 'history/loaded', room: ROOM, page: page([1], true), direction: 'newest' },
      { type: 'history/loaded', room: ROOM, page: page([], false), direction: 'older' },
    );
    expect(selectTimeline(state, ROOM).hasOlder).toBe(false);
  });
});

describe('epoch', () => {
  it('a new epoch resets the room but keeps unconfirmed own messages', () => {
    let state = run(
      { type: 'history/loaded', room: ROOM, page: page(range(1, 20), false), direction: 'newest' },
      queued('c-9'),
    );
    state = messagesReducer(state, { type: 'room/subscribed', room: ROOM, epoch: EPOCH + 1, headSeq: 15, baseSeq: 0 });
    const t = selectTimeline(state, ROOM);
    expect(t.messages).toEqual([]);
    expect(t.epoch).toBe(EPOCH + 1);
    expect(t.hasOlder).toBe(true);
    expect(t.pending.map((p) => p.clientMsgId)).toEqual(['c-9']);
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 15, epoch: EPOCH + 1 });
  });

  it('a live message of a new epoch starts the room over from it', () => {
    const state = run(live(1), live(2), live(3), live(1, { epoch: EPOCH + 5, id: '0197a7f0-0000-7000-8000-00000000aaaa' }));
    expect(seqs(state)).toEqual([1]);
    expect(selectResumePoint(state, ROOM)).toEqual({ lastSeq: 1, epoch: EPOCH + 5 });
  });

  it('the same epoch, or an unknown one (0), keeps the room', () => {
    const state = run(live(1), live(2));
    expect(messagesReducer(state, { type: 'room/subscribed', room: ROOM, epoch: EPOCH, headSeq: 2, baseSeq: 0 })).toBe(state);
    const unknown = messagesReducer(state, { type: 'history/loaded', room: ROOM, page: page([1, 2], false, { epoch: 0 }), direction: 'newest' });
    expect(seqs(unknown)).toEqual([1, 2]);
  });
});

describe('forgetting a room', () => {
  it('drops everything about it', () => {
    const state = run(live(1), { type: 'room/forgotten', room: ROOM });
    expect(state.rooms).toEqual({});
  });
});
