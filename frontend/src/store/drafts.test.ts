import { describe, expect, it } from 'vitest';
import { DRAFT_TTL_MS, type DraftUpdate } from './drafts';
import {
  emptyMessages,
  messagesReducer,
  selectNextDraftExpiry,
  selectResumePoint,
  selectTimeline,
  type MessagesAction,
  type MessagesState,
} from './messages';
import { EPOCH, OTHER_ROOM, ROOM, message, page } from '../test/fixtures';

const BOT = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bot' };
/** The id the bot's reply will have: that of message 3 (which it becomes in these tests). */
const REPLY = message(3).id;

function run(...actions: MessagesAction[]): MessagesState {
  return actions.reduce(messagesReducer, emptyMessages);
}
const drafts = (state: MessagesState, room = ROOM) => selectTimeline(state, room).drafts;
const bodies = (state: MessagesState, room = ROOM) => drafts(state, room).map((d) => d.body);
const live = (seq: number, overrides = {}): MessagesAction => ({ type: 'message/received', message: message(seq, overrides) });
const draft = (body: string, at: number, overrides: Partial<DraftUpdate> = {}): MessagesAction => ({
  type: 'draft/received',
  draft: { room: ROOM, id: REPLY, reply_to: message(2).id, sender: BOT, body, state: 'streaming', ...overrides },
  at,
});
const cancelled = (at: number, overrides: Partial<DraftUpdate> = {}) => draft('', at, { state: 'cancelled', ...overrides });
const botReply = (body = 'Two plus two is four.') => live(3, { sender: BOT, kind: 'bot', body });
const history = (seqs: number[]): MessagesAction => ({ type: 'history/loaded', room: ROOM, page: page(seqs, false), direction: 'newest' });

describe('a streaming draft', () => {
  it('creates a pending bot reply with its whole text, who wrote it and what it answers', () => {
    const state = run(live(1), live(2), draft('Two', 1000));
    expect(drafts(state)).toEqual([{ id: REPLY, replyTo: message(2).id, sender: BOT, body: 'Two', updatedAt: 1000 }]);
  });

  it('replaces the text of the draft with its id (the body is the whole text, not a delta)', () => {
    const state = run(live(1), draft('Two', 1000), draft('Two plus', 1100), draft('Two plus two', 1200));
    expect(bodies(state)).toEqual(['Two plus two']);
    expect(drafts(state)[0]?.updatedAt).toBe(1200);
  });

  it('keeps drafts of different ids apart, in the order they appeared', () => {
    const other = '0197a7f0-0000-7000-8000-00000000ffff';
    const state = run(draft('first', 1000), draft('second', 1100, { id: other }), draft('first, longer', 1200));
    expect(bodies(state)).toEqual(['first, longer', 'second']);
  });

  it('keeps rooms apart', () => {
    const state = run(draft('here', 1000), draft('there', 1000, { room: OTHER_ROOM }));
    expect(bodies(state)).toEqual(['here']);
    expect(bodies(state, OTHER_ROOM)).toEqual(['there']);
  });

  it('never touches the messages, the seq order or the resume point', () => {
    const before = run(history([1, 2]));
    const after = messagesReducer(before, draft('Two', 1000));
    expect(selectTimeline(after, ROOM).messages).toBe(selectTimeline(before, ROOM).messages);
    expect(selectResumePoint(after, ROOM)).toEqual({ lastSeq: 2, epoch: EPOCH });
  });
});

describe('the final message', () => {
  it('replaces the draft with its id and takes its seq place', () => {
    const state = run(live(1), live(2), draft('Two plus', 1000), botReply());
    expect(drafts(state)).toEqual([]);
    expect(selectTimeline(state, ROOM).messages.map((m) => [m.seq, m.kind])).toEqual([
      [1, 'user'],
      [2, 'user'],
      [3, 'bot'],
    ]);
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(3);
  });

  it('replaces it when it comes in a history page too (a catch-up after a resync)', () => {
    const state = run(live(1), live(2), draft('Two plus', 1000), {
      type: 'history/loaded',
      room: ROOM,
      page: page([3], false, { sender: BOT, kind: 'bot' }),
      direction: 'newer',
    });
    expect(drafts(state)).toEqual([]);
  });

  it('leaves other drafts alone', () => {
    const other = '0197a7f0-0000-7000-8000-00000000ffff';
    const state = run(draft('mine', 1000), draft('another', 1000, { id: other }), botReply());
    expect(drafts(state).map((d) => d.id)).toEqual([other]);
  });

  it('makes a late draft of it ignored', () => {
    const before = run(live(1), live(2), draft('Two plus', 1000), botReply(), live(4));
    expect(messagesReducer(before, draft('Two plus two', 1100))).toBe(before);
    expect(messagesReducer(before, cancelled(1100))).toBe(before);
  });
});

describe('a cancelled draft', () => {
  it('removes the pending reply', () => {
    const state = run(live(1), draft('Two plus', 1000), cancelled(1100));
    expect(drafts(state)).toEqual([]);
    expect(selectTimeline(state, ROOM).messages).toHaveLength(1);
  });

  it('changes nothing when its draft is not here (lost, or cancelled twice)', () => {
    const before = run(live(1));
    expect(messagesReducer(before, cancelled(1000))).toBe(before);
  });

  it('does not stop a restarted bot from resuming under the same id', () => {
    const state = run(draft('Two', 1000), cancelled(1100), draft('Two plus', 1200));
    expect(bodies(state)).toEqual(['Two plus']);
  });
});

describe('expiry', () => {
  it('drops a draft with no update for a minute, and only that one', () => {
    const other = '0197a7f0-0000-7000-8000-00000000ffff';
    const state = run(draft('silent', 1000), draft('busy', 1000, { id: other }), draft('busy still', 30_000, { id: other }), {
      type: 'drafts/expired',
      now: 1000 + DRAFT_TTL_MS,
    });
    expect(bodies(state)).toEqual(['busy still']);
  });

  it('keeps a draft updated within the minute', () => {
    const before = run(draft('Two', 1000), draft('Two plus', 50_000));
    expect(messagesReducer(before, { type: 'drafts/expired', now: 1000 + DRAFT_TTL_MS })).toBe(before);
  });

  it('says when the next draft of any room expires', () => {
    expect(selectNextDraftExpiry(run(live(1)))).toBeNull();
    const state = run(draft('a', 5000), draft('b', 2000, { room: OTHER_ROOM }), draft('a2', 9000));
    expect(selectNextDraftExpiry(state)).toBe(2000 + DRAFT_TTL_MS);
  });
});

describe('reloads', () => {
  it('drop the drafts of the room resynced, and only of that room', () => {
    const state = run(draft('here', 1000), draft('there', 1000, { room: OTHER_ROOM }), { type: 'drafts/cleared', room: ROOM });
    expect(drafts(state)).toEqual([]);
    expect(bodies(state, OTHER_ROOM)).toEqual(['there']);
  });

  it('drop every draft when the connection is gone', () => {
    const state = run(draft('here', 1000), draft('there', 1000, { room: OTHER_ROOM }), { type: 'drafts/cleared' });
    expect(drafts(state)).toEqual([]);
    expect(drafts(state, OTHER_ROOM)).toEqual([]);
  });

  it('change nothing when there is no draft (nor a room) to drop', () => {
    const before = run(live(1));
    expect(messagesReducer(before, { type: 'drafts/cleared', room: ROOM })).toBe(before);
    expect(messagesReducer(before, { type: 'drafts/cleared', room: OTHER_ROOM })).toBe(before);
  });

  it('drop the drafts on a new epoch (the seqs, and what they answer, were reset)', () => {
    const state = run(live(1), draft('Two', 1000), live(1, { epoch: EPOCH + 1, id: '0197a7f0-0000-7000-8000-0000000fffff' }));
    expect(drafts(state)).toEqual([]);
  });

  it('drop the drafts when the room is forgotten', () => {
    const state = run(draft('Two', 1000), { type: 'room/forgotten', room: ROOM });
    expect(drafts(state)).toEqual([]);
  });
});
