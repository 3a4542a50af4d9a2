// Unread counts across the list, the tab title that shows them, and where a
// room's "New messages" divider goes. Pure.
import type { ChatMessage, MyRoom } from '../wire';

/** The document's title without unread messages. */
export const BASE_TITLE = 'Chat';

/** Unread messages of every room (each capped by the server at 1000). */
export function totalUnread(rooms: readonly MyRoom[] | null): number {
  return (rooms ?? []).reduce((n, r) => n + r.unread, 0);
}

/** "(3) Chat", or "Chat" when nothing is unread. */
export function titleFor(unread: number, base = BASE_TITLE): string {
  if (unread <= 0) return base;
  return `(${unread > 999 ? '999+' : unread}) ${base}`;
}

/**
 * The seq the "New messages" divider follows when `room` is opened: its read
 * marker, when something is unread; null otherwise.
 */
export function dividerAfter(room: MyRoom | undefined): number | null {
  if (room === undefined || room.unread <= 0) return null;
  return room.last_read_seq;
}

/** The id of the first message after `after` sent by someone else: the divider goes above it. */
export function firstUnreadId(messages: readonly ChatMessage[], after: number | null | undefined, me: string): string | null {
  if (after === null || after === undefined) return null;
  return messages.find((m) => m.seq > after && m.sender.id !== me)?.id ?? null;
}
