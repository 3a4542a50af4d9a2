// Room events folded into the messages they change (docs/protocol.md, issue 13):
// edit, delete, react and unreact change their target; topic and moderation
// are shown as lines of their own. The rule: an event is folded into a message
// only when its seq is greater than the message's state_seq, which then becomes
// the event's seq; so an event already counted in a history row's state, or
// delivered twice, changes nothing. Pure.
import type { ChatMessage, EventOp, Reaction } from '../wire';

/** Most users a reaction lists (the server sends the first 50 by seq). */
export const REACTION_USERS_MAX = 50;

/** The op of an event; a frame without one (an older server) is a message. */
export function opOf(m: Pick<ChatMessage, 'op'>): EventOp {
  return m.op ?? 'message';
}

/** Events that change another message rather than being shown. */
export function changesTarget(m: Pick<ChatMessage, 'op'>): boolean {
  const op = opOf(m);
  return op === 'edit' || op === 'delete' || op === 'react' || op === 'unreact';
}

/** Shown in the timeline: messages, and topic and moderation events as system lines. */
export function isShown(m: Pick<ChatMessage, 'op'>): boolean {
  return !changesTarget(m);
}

/** The greatest seq already folded into a message. */
export function stateSeq(m: Pick<ChatMessage, 'seq' | 'state_seq'>): number {
  return m.state_seq ?? m.seq;
}

/**
 * The message `target` after `event` (which targets it). Returns `target` itself
 * when the event does not apply: an older event than the state, or another op.
 * `me` is the caller's id (a reaction's `me` flag).
 */
export function foldEvent(target: ChatMessage, event: ChatMessage, me?: string): ChatMessage {
  if (event.target !== target.id || event.seq <= stateSeq(target) || opOf(target) !== 'message') return target;
  const next: ChatMessage = { ...target, state_seq: event.seq };
  switch (opOf(event)) {
    case 'edit':
      if (target.deleted === true) return next;
      return withMentions({ ...next, body: event.body, edited_at: event.sent_at, edit_seq: event.seq }, event);
    case 'delete': {
      const { mentions: _m, mention_room: _r, ...rest } = next;
      return { ...rest, body: '', deleted: true, reactions: [] };
    }
    case 'react':
      return event.emoji === undefined ? next : { ...next, reactions: reacted(target.reactions ?? [], event, me) };
    case 'unreact':
      return event.emoji === undefined ? next : { ...next, reactions: unreacted(target.reactions ?? [], event, me) };
    default:
      return target;
  }
}

function withMentions(m: ChatMessage, from: ChatMessage): ChatMessage {
  const { mentions: _m, mention_room: _r, ...rest } = m;
  return {
    ...rest,
    ...(from.mentions !== undefined ? { mentions: from.mentions } : {}),
    ...(from.mention_room !== undefined ? { mention_room: from.mention_room } : {}),
  };
}

function reacted(reactions: readonly Reaction[], event: ChatMessage, me: string | undefined): Reaction[] {
  const emoji = event.emoji as string;
  const mine = me !== undefined && event.sender.id === me;
  const index = reactions.findIndex((r) => r.emoji === emoji);
  const found = reactions[index];
  if (found === undefined) return [...reactions, { emoji, count: 1, users: [event.sender], me: mine }];
  if (found.users.some((u) => u.id === event.sender.id) || (mine && found.me)) return [...reactions];
  const users = found.users.length < REACTION_USERS_MAX ? [...found.users, event.sender] : found.users;
  const next = [...reactions];
  next[index] = { ...found, count: found.count + 1, users, me: found.me || mine };
  return next;
}

function unreacted(reactions: readonly Reaction[], event: ChatMessage, me: string | undefined): Reaction[] {
  const mine = me !== undefined && event.sender.id === me;
  const index = reactions.findIndex((r) => r.emoji === event.emoji);
  const found = reactions[index];
  if (found === undefined) return [...reactions];
  const listed = found.users.some((u) => u.id === event.sender.id) || (mine && found.me);
  // Not listed: it counts only if the reaction has more users than it lists.
  if (!listed && found.count <= found.users.length) return [...reactions];
  const count = found.count - 1;
  const next = [...reactions];
  if (count <= 0) next.splice(index, 1);
  else next[index] = { ...found, count, users: found.users.filter((u) => u.id !== event.sender.id), me: mine ? false : found.me };
  return next;
}

/**
 * Folds every event of `messages` (seq order) that `touched` names (an event's
 * id or a target's id) into its target, in seq order. Returns a new array only
 * when something changed.
 */
export function foldAll(messages: readonly ChatMessage[], touched: ReadonlySet<string>, me?: string): readonly ChatMessage[] {
  let out: ChatMessage[] | null = null;
  let index: Map<string, number> | null = null;
  for (const event of messages) {
    if (!changesTarget(event) || event.target === undefined) continue;
    if (!touched.has(event.id) && !touched.has(event.target)) continue;
    index ??= new Map(messages.map((m, i) => [m.id, i]));
    const i = index.get(event.target);
    if (i === undefined) continue;
    const list: ChatMessage[] = out ?? [...messages];
    const before = list[i] as ChatMessage;
    const after = foldEvent(before, event, me);
    if (after !== before) {
      list[i] = after;
      out = list;
    }
  }
  return out ?? messages;
}
