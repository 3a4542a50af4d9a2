import { describe, expect, it } from 'vitest';
import { ALICE, message } from '../test/fixtures';
import { myRoom } from '../test/chatHarness';
import { dividerAfter, firstUnreadId, titleFor, totalUnread } from './unread';

describe('the tab title', () => {
  it('shows the unread total before the name, and nothing when all is read', () => {
    expect(titleFor(0)).toBe('Chat');
    expect(titleFor(3)).toBe('(3) Chat');
    expect(titleFor(12_000)).toBe('(999+) Chat');
  });

  it('sums every room', () => {
    expect(totalUnread(null)).toBe(0);
    expect(totalUnread([myRoom('a', 'a', { unread: 2 }), myRoom('b', 'b', { unread: 5 })])).toBe(7);
  });
});

describe('the new messages divider', () => {
  it('follows the read marker of a room with unread messages', () => {
    expect(dividerAfter(myRoom('a', 'a', { last_read_seq: 4, unread: 2 }))).toBe(4);
    expect(dividerAfter(myRoom('a', 'a', { last_read_seq: 4, unread: 0 }))).toBeNull();
    expect(dividerAfter(undefined)).toBeNull();
  });

  it('goes above the first message after it from someone else', () => {
    const messages = [message(4), message(5, { sender: ALICE }), message(6), message(7)];
    expect(firstUnreadId(messages, 4, ALICE.id)).toBe(message(6).id);
    expect(firstUnreadId(messages, 7, ALICE.id)).toBeNull();
    expect(firstUnreadId(messages, null, ALICE.id)).toBeNull();
  });
});
