// The composer's @mention autocomplete: which partial name the caret is at,
// which members match it, and the text with the chosen name put in; whether
// a message mentions the caller. Pure.
import type { ChatMessage, UserRef } from '../wire';
import { mentionedNames, mentionIs } from './markdown';

/** A partial mention ending at the caret: `@` at `start`, then `query`. */
export interface MentionQuery {
  readonly start: number;
  readonly query: string;
}

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** The mention being typed at `caret`, or null (no `@` word there, or one inside a word like an address). */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && caret - i <= 32 && NAME_CHAR.test(text[i - 1] as string)) i -= 1;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  const before = text[at - 1];
  if (before !== undefined && /[\p{L}\p{N}_]/u.test(before)) return null;
  return { start: at, query: text.slice(i, caret) };
}

/** Members whose name starts with the query first, then those containing it; at most `limit`. */
export function matchMembers<T extends { username: string }>(members: readonly T[], query: string, limit = 8): T[] {
  const q = query.toLowerCase();
  const starts = members.filter((m) => m.username.toLowerCase().startsWith(q));
  const contains = members.filter((m) => !m.username.toLowerCase().startsWith(q) && m.username.toLowerCase().includes(q));
  return [...starts, ...contains].slice(0, limit);
}

/** Replaces the partial mention with `@username ` and says where the caret goes. */
export function completeMention(text: string, caret: number, at: MentionQuery, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^[A-Za-z0-9_.-]*/, '');
  const next = text.slice(0, at.start) + inserted + after.replace(/^ /, '');
  return { text: next, caret: at.start + inserted.length };
}

/**
 * Whether a message mentions `me`: by the ids the gateway resolved, by `@room`,
 * or (a server that sends no ids) by name in the text. Not one's own, not a
 * deleted one, only messages.
 */
export function mentionsMe(m: ChatMessage, me: UserRef): boolean {
  if ((m.op ?? 'message') !== 'message' || m.deleted === true || m.sender.id === me.id) return false;
  if (m.mentions?.includes(me.id) === true || m.mention_room === true) return true;
  return mentionedNames(m.body).some((name) => mentionIs(name, me.username));
}
