// Who is online and who is typing, per room. Pure functions over plain data.
import type { OnlineUser, PresenceStatus, UserRef } from '../wire';

/** Online members of each room, by user id, active or away. */
export type Presence = Readonly<Record<string, Readonly<Record<string, OnlineUser>>>>;

/** Who is typing in each room: user and until when (ms since 1970). */
export type Typing = Readonly<Record<string, Readonly<Record<string, { user: UserRef; until: number }>>>>;

/** How long a `typing` frame shows (the client sends one at most every 2 s). */
export const TYPING_SHOWN_MS = 4_000;

export function presenceReplaced(presence: Presence, room: string, online: readonly OnlineUser[]): Presence {
  return { ...presence, [room]: Object.fromEntries(online.map((u) => [u.id, u])) };
}

/** Someone came online, changed status (active when the frame does not say) or went offline. */
export function presenceChanged(presence: Presence, room: string, user: UserRef, online: boolean, status: PresenceStatus = 'active'): Presence {
  const current = presence[room] ?? {};
  if (online) return { ...presence, [room]: { ...current, [user.id]: { id: user.id, username: user.username, status } } };
  if (!(user.id in current)) return presence;
  const next = { ...current };
  delete next[user.id];
  return { ...presence, [room]: next };
}

export function roomDropped<T>(byRoom: Readonly<Record<string, T>>, room: string): Readonly<Record<string, T>> {
  if (!(room in byRoom)) return byRoom;
  const next = { ...byRoom };
  delete next[room];
  return next;
}

export function typingStarted(typing: Typing, room: string, user: UserRef, now: number): Typing {
  return { ...typing, [room]: { ...(typing[room] ?? {}), [user.id]: { user, until: now + TYPING_SHOWN_MS } } };
}

export function typingStopped(typing: Typing, room: string, userId: string): Typing {
  const current = typing[room];
  if (current === undefined || !(userId in current)) return typing;
  const next = { ...current };
  delete next[userId];
  return { ...typing, [room]: next };
}

/** Who is typing in `room` right now, other than `self`, by name. */
export function typingNow(typing: Typing, room: string, now: number, selfId: string | undefined): UserRef[] {
  return Object.values(typing[room] ?? {})
    .filter((t) => t.until > now && t.user.id !== selfId)
    .map((t) => t.user)
    .sort((a, b) => a.username.localeCompare(b.username));
}

/** "alice is typing…", "alice and bob are typing…", "alice, bob and 2 others are typing…". */
export function typingSentence(users: readonly UserRef[]): string {
  const names = users.map((u) => u.username);
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  const others = names.length - 2;
  return `${names[0]}, ${names[1]} and ${others} ${others === 1 ? 'other' : 'others'} are typing…`;
}
