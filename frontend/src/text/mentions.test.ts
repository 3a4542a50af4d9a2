import { describe, expect, it } from 'vitest';
import { ALICE, BOB, message } from '../test/fixtures';
import { completeMention, mentionAt, matchMembers, mentionsMe } from './mentions';

describe('mentionAt', () => {
  it('finds the name being typed after @', () => {
    expect(mentionAt('hi @al', 6)).toEqual({ start: 3, query: 'al' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('(@bo', 4)).toEqual({ start: 1, query: 'bo' });
  });

  it('ignores an @ inside a word (an address) and text without one', () => {
    expect(mentionAt('mail bob@exa', 12)).toBeNull();
    expect(mentionAt('hello there', 11)).toBeNull();
    expect(mentionAt('@alice and', 10)).toBeNull();
  });
});

describe('matchMembers', () => {
  const members = [{ username: 'Malory' }, { username: 'alice' }, { username: 'alan' }, { username: 'bob' }];
  it('puts prefix matches first, case-insensitively', () => {
    expect(matchMembers(members, 'AL').map((m) => m.username)).toEqual(['alice', 'alan', 'Malory']);
    expect(matchMembers(members, '').length).toBe(4);
    expect(matchMembers(members, '', 2).length).toBe(2);
  });
});

describe('completeMention', () => {
  it('replaces the partial name and places the caret after it', () => {
    expect(completeMention('hi @al', 6, { start: 3, query: 'al' }, 'alice')).toEqual({ text: 'hi @alice ', caret: 10 });
    expect(completeMention('@al there', 3, { start: 0, query: 'al' }, 'alice')).toEqual({ text: '@alice there', caret: 7 });
  });
});

describe('mentionsMe', () => {
  it('by resolved ids, @room, or the name in the text; never one’s own or a deleted one', () => {
    expect(mentionsMe(message(1, { mentions: [ALICE.id] }), ALICE)).toBe(true);
    expect(mentionsMe(message(1, { mention_room: true }), ALICE)).toBe(true);
    expect(mentionsMe(message(1, { body: 'hey @Alice.' }), ALICE)).toBe(true);
    expect(mentionsMe(message(1, { body: 'hey @alicette' }), ALICE)).toBe(false);
    expect(mentionsMe(message(1, { body: '`@alice`' }), ALICE)).toBe(false);
    expect(mentionsMe(message(1, { body: '@alice', sender: ALICE }), ALICE)).toBe(false);
    expect(mentionsMe(message(1, { body: '@alice', deleted: true }), ALICE)).toBe(false);
    expect(mentionsMe(message(1, { body: '@alice', op: 'edit' }), ALICE)).toBe(false);
    expect(mentionsMe(message(1, { body: '@bob' }), BOB)).toBe(false);
  });
});
