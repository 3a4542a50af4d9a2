// The caller's room list (`GET /api/rooms/mine`) and its live updates. Pure.
import type { MyRoom, Room } from '../wire';

/** Direct rooms last, then by name. */
export function sortRooms(rooms: readonly MyRoom[]): MyRoom[] {
  return [...rooms].sort((a, b) => {
    const direct = Number(a.kind === 'direct') - Number(b.kind === 'direct');
    return direct !== 0 ? direct : a.name.localeCompare(b.name);
  });
}

/** A room just created or joined, before the list is fetched again. */
export function roomAdded(rooms: readonly MyRoom[], room: Room, role: MyRoom['role']): MyRoom[] {
  if (rooms.some((r) => r.id === room.id)) return [...rooms];
  const { member_count: _count, ...fields } = room;
  return sortRooms([...rooms, { ...fields, role, last_seq: 0, last_read_seq: 0, unread: 0 }]);
}

export function roomRemoved(rooms: readonly MyRoom[], room: string): MyRoom[] {
  return rooms.filter((r) => r.id !== room);
}

/**
 * A live event: the room's last seq moves; a message is unread unless read at
 * once or one's own, and an unread one that mentions the caller adds a mention.
 */
export function messageArrived(rooms: readonly MyRoom[], room: string, seq: number, unread: boolean, mention = false): readonly MyRoom[] {
  const index = rooms.findIndex((r) => r.id === room);
  const current = rooms[index];
  if (current === undefined || seq <= current.last_seq) return rooms;
  const next = [...rooms];
  const mentions = unread && mention ? (current.mentions ?? 0) + 1 : current.mentions;
  next[index] = {
    ...current,
    last_seq: seq,
    unread: unread ? current.unread + 1 : current.unread,
    ...(mentions !== undefined ? { mentions } : {}),
  };
  return next;
}

/** Changes one room of the list (a topic, a setting, the caller's role). */
export function roomChanged(rooms: readonly MyRoom[], room: string, patch: Partial<MyRoom>): readonly MyRoom[] {
  const index = rooms.findIndex((r) => r.id === room);
  const current = rooms[index];
  if (current === undefined) return rooms;
  const next = [...rooms];
  next[index] = { ...current, ...patch };
  return next;
}

export function roomRead(rooms: readonly MyRoom[], room: string, seq: number): readonly MyRoom[] {
  const index = rooms.findIndex((r) => r.id === room);
  const current = rooms[index];
  if (current === undefined || (current.unread === 0 && current.last_read_seq >= seq)) return rooms;
  const next = [...rooms];
  const lastRead = Math.max(current.last_read_seq, seq);
  // seqs count room events too: past the head nothing is unread, before it at most what was
  const unread = lastRead >= current.last_seq ? 0 : Math.min(current.unread, current.last_seq - lastRead);
  next[index] = {
    ...current,
    last_read_seq: lastRead,
    unread,
    ...(current.mentions !== undefined ? { mentions: unread === 0 ? 0 : current.mentions } : {}),
  };
  return next;
}

/** The label of a room in lists and headers: `#name`, `@name` for a direct room. */
export function roomLabel(room: Pick<MyRoom, 'name' | 'kind'>): string {
  return room.kind === 'direct' ? `@${room.name}` : `#${room.name}`;
}
