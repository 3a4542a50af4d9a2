import { describe, expect, it } from 'vitest';
import { ALICE, BOB, ROOM, message } from '../test/fixtures';
import type { ChatMessage } from '../wire';
import { foldEvent, isShown } from './fold';
import { emptyMessages, messagesReducer, selectResumePoint, selectTimeline, type MessagesAction, type MessagesState } from './messages';

const target = message(1, { op: 'message', body: 'original', sender: ALICE });
const id = (seq: number) => message(seq).id;

function event(seq: number, fields: Partial<ChatMessage>): ChatMessage {
  return message(seq, { body: '', target: target.id, ...fields });
}
const live = (m: ChatMessage): MessagesAction => ({ type: 'message/received', message: m, me: ALICE.id });
const run = (...actions: MessagesAction[]): MessagesState => actions.reduce(messagesReducer, emptyMessages);
const shown = (state: MessagesState) => selectTimeline(state, ROOM).messages.filter(isShown);
const first = (state: MessagesState) => shown(state)[0] as ChatMessage;

describe('folding an event into its message', () => {
  it('an edit replaces the body, marks it edited and moves state_seq', () => {
    const edited = foldEvent(target, event(2, { op: 'edit', body: 'fixed', sender: ALICE, mentions: [BOB.id] }));
    expect(edited).toMatchObject({ body: 'fixed', edited_at: target.sent_at, edit_seq: 2, state_seq: 2, mentions: [BOB.id] });
  });

  it('an event with a seq not above state_seq changes nothing (already in the history row)', () => {
    const fromHistory = { ...target, body: 'fixed twice', state_seq: 5 };
    expect(foldEvent(fromHistory, event(4, { op: 'edit', body: 'older' }))).toBe(fromHistory);
    expect(foldEvent(fromHistory, event(5, { op: 'react', emoji: '👍' }))).toBe(fromHistory);
    expect(foldEvent(fromHistory, event(6, { op: 'edit', body: 'newer' })).body).toBe('newer');
  });

  it('a delete scrubs the body, reactions and mentions; a later edit does not bring text back', () => {
    const reacted = foldEvent(target, event(2, { op: 'react', emoji: '👍' }));
    const deleted = foldEvent(reacted, event(3, { op: 'delete' }));
    expect(deleted).toMatchObject({ body: '', deleted: true, reactions: [], state_seq: 3 });
    const late = foldEvent(deleted, event(4, { op: 'edit', body: 'resurrected' }));
    expect(late.body).toBe('');
    expect(late.state_seq).toBe(4);
  });

  it('reactions count once per user and carry the caller’s own flag', () => {
    let m = foldEvent(target, event(2, { op: 'react', emoji: '👍', sender: BOB }), ALICE.id);
    m = foldEvent(m, event(3, { op: 'react', emoji: '👍', sender: BOB }), ALICE.id);
    m = foldEvent(m, event(4, { op: 'react', emoji: '👍', sender: ALICE }), ALICE.id);
    m = foldEvent(m, event(5, { op: 'react', emoji: '🎉', sender: ALICE }), ALICE.id);
    expect(m.reactions).toEqual([
      { emoji: '👍', count: 2, users: [BOB, ALICE], me: true },
      { emoji: '🎉', count: 1, users: [ALICE], me: true },
    ]);
    m = foldEvent(m, event(6, { op: 'unreact', emoji: '👍', sender: ALICE }), ALICE.id);
    m = foldEvent(m, event(7, { op: 'unreact', emoji: '🎉', sender: ALICE }), ALICE.id);
    expect(m.reactions).toEqual([{ emoji: '👍', count: 1, users: [BOB], me: false }]);
  });

  it('an unreact of someone who had not reacted changes no count', () => {
    const m = foldEvent(target, event(2, { op: 'react', emoji: '👍', sender: BOB }));
    expect(foldEvent(m, event(3, { op: 'unreact', emoji: '👍', sender: ALICE })).reactions).toEqual(m.reactions);
  });

  it('only events aimed at the message apply', () => {
    expect(foldEvent(target, event(2, { op: 'edit', body: 'x', target: id(9) }))).toBe(target);
  });
});

describe('the store folds events and counts every op in the resume point', () => {
  it('live edits, reactions and deletes change the message, are not shown, and advance last_seq', () => {
    const state = run(
      live(target),
      live(event(2, { op: 'edit', body: 'fixed' })),
      live(event(3, { op: 'react', emoji: '👍', sender: ALICE })),
      live(message(4, { op: 'topic', body: 'New topic', kind: 'system' })),
    );
    expect(shown(state).map((m) => m.seq)).toEqual([1, 4]);
    expect(first(state)).toMatchObject({ body: 'fixed', state_seq: 3 });
    expect(first(state).reactions?.[0]).toMatchObject({ emoji: '👍', me: true });
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(4);
  });

  it('a gap left by a missing event stops the resume point like a missing message', () => {
    const state = run(live(target), live(event(3, { op: 'react', emoji: '👍' })));
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(1);
  });

  it('a history row already holding an event is not changed again by that event', () => {
    const row = { ...target, body: 'fixed', edited_at: target.sent_at, edit_seq: 2, state_seq: 3, reactions: [{ emoji: '👍', count: 1, users: [BOB], me: false }] };
    const state = run(
      {
        type: 'history/loaded',
        room: ROOM,
        page: { messages: [row, event(2, { op: 'edit', body: 'fixed' }), event(3, { op: 'react', emoji: '👍', sender: BOB })], has_more: false },
        direction: 'newest',
      },
      // The same react replayed by the socket: already folded.
      live(event(3, { op: 'react', emoji: '👍', sender: BOB })),
    );
    expect(first(state).reactions).toEqual(row.reactions);
    expect(selectResumePoint(state, ROOM).lastSeq).toBe(3);
  });

  it('an event loaded before its message (an older page loaded later) folds when the message arrives', () => {
    const state = run(
      { type: 'history/loaded', room: ROOM, page: { messages: [event(5, { op: 'edit', body: 'late edit' })], has_more: true }, direction: 'newest' },
      { type: 'history/loaded', room: ROOM, page: { messages: [{ ...target, state_seq: 1 }], has_more: false }, direction: 'older' },
    );
    expect(first(state).body).toBe('late edit');
  });
});
