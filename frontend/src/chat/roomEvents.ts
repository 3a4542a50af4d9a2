// What a topic or moderation event changes for the caller: the room's entry
// in their list (topic, slow mode, their role), whether they are out of the
// room (kicked or banned), whether the member list is stale. Pure.
import { opOf } from '../store/fold';
import type { ChatMessage, MyRoom } from '../wire';

export interface RoomEffect {
  readonly patch?: Partial<MyRoom>;
  /** The caller was removed (kick, ban): the room leaves their list. */
  readonly removed?: boolean;
  /** Someone's membership or role changed. */
  readonly membersChanged?: boolean;
}

export function roomEffect(m: ChatMessage, me: string): RoomEffect | null {
  const op = opOf(m);
  if (op === 'topic') return { patch: { topic: m.body } };
  const mod = m.moderation;
  if (op !== 'moderation' || mod === undefined) return null;
  if (mod.action === 'slow_mode') return mod.seconds === undefined ? null : { patch: { slow_mode_seconds: mod.seconds } };
  const mine = mod.user?.id === me;
  if (mod.action === 'role') return { membersChanged: true, ...(mine && mod.role !== undefined ? { patch: { role: mod.role } } : {}) };
  if (mod.action === 'kick' || mod.action === 'ban') return { membersChanged: true, ...(mine ? { removed: true } : {}) };
  return { membersChanged: true };
}
