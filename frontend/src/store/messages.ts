// The message store: for each room, its messages in seq order, the resume point
// (`lastSeq`, `epoch`), the caller's own messages on their way and the bot's
// replies being written (drafts). Pure: a reducer and selectors over plain
// immutable data, no React, no I/O.
import type { ChatMessage, HistoryPage, UserRef } from '../wire';
import { foldAll } from './fold';
import { draftReceived, draftsDelivered, draftsExpired, nextDraftExpiry, type BotDraft, type DraftUpdate } from './drafts';

/** `waiting`: refused by slow mode; sent again by itself at `retryAt` (not a failure). */
export type PendingState = 'sending' | 'sent' | 'failed' | 'waiting';

/** One of the caller's messages that the room's feed has not delivered back yet. */
export interface PendingMessage {
  readonly room: string;
  /** The idempotency key: every resend of this message uses it. */
  readonly clientMsgId: string;
  readonly body: string;
  readonly sender: UserRef;
  /** When it was written (ms since 1970), for display. */
  readonly createdAt: number;
  readonly state: PendingState;
  /** How many times it was sent again after failing (Retry, or by itself on reconnect). */
  readonly retries: number;
  /** Known once acknowledged. */
  readonly id?: string;
  readonly seq?: number;
  /** When a `waiting` message is sent again (ms since 1970). */
  readonly retryAt?: number;
  /** The message it answers. */
  readonly replyTo?: string;
  /** Why it failed (`timeout` or an `error` frame's code). */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RoomTimeline {
  /** The room epoch its seqs belong to; null until one is known. */
  readonly epoch: number | null;
  /** Ascending by seq; no two share a seq or an id. */
  readonly messages: readonly ChatMessage[];
  readonly ids: ReadonlySet<string>;
  /**
   * Where to resume: every message from the first one loaded up to this seq is
   * here, without a hole. Null when nothing is known yet.
   */
  readonly lastSeq: number | null;
  /**
   * The seq the room's epoch started from (`subscribed`'s `base_seq`): a seq at
   * or below it that is not here never existed, so the resume point passes it.
   */
  readonly base: number;
  /** Whether older messages than the first loaded one may exist. */
  readonly hasOlder: boolean;
  /** The caller's own messages, in the order written. */
  readonly pending: readonly PendingMessage[];
  /**
   * The bot's replies being written, in the order they appeared. Outside the
   * seq order: they never move the resume point, and go when their message
   * arrives, when cancelled, after DRAFT_TTL_MS of silence, and on a reload.
   */
  readonly drafts: readonly BotDraft[];
}

export interface MessagesState {
  readonly rooms: Readonly<Record<string, RoomTimeline>>;
}

export type HistoryDirection = 'newest' | 'older' | 'newer';

export type MessagesAction =
  /** `me`: the caller's id, for the `me` flag of reactions folded in. */
  | { type: 'history/loaded'; room: string; page: HistoryPage; direction: HistoryDirection; me?: string }
  | { type: 'message/received'; message: ChatMessage; me?: string }
  | { type: 'room/subscribed'; room: string; epoch: number; headSeq: number; baseSeq: number }
  | { type: 'room/forgotten'; room: string }
  | { type: 'send/queued'; room: string; clientMsgId: string; body: string; sender: UserRef; at: number; replyTo?: string | undefined }
  | { type: 'send/acked'; room: string; clientMsgId: string; id: string; seq: number }
  | { type: 'send/failed'; room?: string | undefined; clientMsgId: string; code: string; message: string }
  | { type: 'send/timedOut'; room: string; clientMsgId: string }
  | { type: 'send/retried'; room: string; clientMsgId: string }
  /** Slow mode: wait until `until`, then send again. */
  | { type: 'send/deferred'; room: string; clientMsgId: string; until: number }
  | { type: 'send/resumed'; room: string; clientMsgId: string }
  | { type: 'draft/received'; draft: DraftUpdate; at: number }
  | { type: 'drafts/expired'; now: number }
  /** The room's feed restarts (reload, resync) or, without a room, the connection is gone. */
  | { type: 'drafts/cleared'; room?: string | undefined };

export const TIMEOUT_ERROR = { code: 'timeout', message: 'The server did not confirm the message in time.' };

export const emptyMessages: MessagesState = { rooms: {} };

export const emptyTimeline: RoomTimeline = {
  epoch: null,
  messages: [],
  ids: new Set(),
  lastSeq: null,
  base: 0,
  hasOlder: true,
  pending: [],
  drafts: [],
};

export function messagesReducer(state: MessagesState, action: MessagesAction): MessagesState {
  switch (action.type) {
    case 'history/loaded':
      return update(state, action.room, (t) => historyLoaded(t, action.page, action.direction, action.me));
    case 'message/received':
      return update(state, action.message.room, (t) => merge(withEpoch(t, action.message.epoch), [action.message], action.me));
    case 'room/subscribed':
      return update(state, action.room, (t) => {
        const epochal = withEpoch(t, action.epoch);
        const base = action.baseSeq;
        const next = base === epochal.base ? epochal : { ...epochal, base, lastSeq: advance(epochal.messages, epochal.lastSeq, base) };
        // Subscribed without a resume point: the feed starts after head_seq.
        return next.lastSeq === null ? { ...next, lastSeq: action.headSeq } : next;
      });
    case 'room/forgotten': {
      if (!(action.room in state.rooms)) return state;
      const rooms = { ...state.rooms };
      delete rooms[action.room];
      return { rooms };
    }
    case 'send/queued':
      return update(state, action.room, (t) =>
        t.pending.some((p) => p.clientMsgId === action.clientMsgId)
          ? t
          : {
              ...t,
              pending: [
                ...t.pending,
                {
                  room: action.room,
                  clientMsgId: action.clientMsgId,
                  body: action.body,
                  sender: action.sender,
                  createdAt: action.at,
                  state: 'sending',
                  retries: 0,
                  ...(action.replyTo !== undefined ? { replyTo: action.replyTo } : {}),
                },
              ],
            },
      );
    case 'send/acked':
      return update(state, action.room, (t) =>
        t.ids.has(action.id)
          ? dropPending(t, (p) => p.clientMsgId === action.clientMsgId)
          : editPending(t, action.clientMsgId, (p) =>
              p.state === 'failed' || p.state === 'sending'
                ? { ...withoutError(p), state: 'sent', id: action.id, seq: action.seq }
                : p,
            ),
      );
    case 'send/failed': {
      const room = action.room ?? findPendingRoom(state, action.clientMsgId);
      if (room === undefined) return state;
      const error = { code: action.code, message: action.message };
      return update(state, room, (t) =>
        editPending(t, action.clientMsgId, (p) => (p.state === 'sending' ? { ...p, state: 'failed', error } : p)),
      );
    }
    case 'send/timedOut':
      return update(state, action.room, (t) =>
        editPending(t, action.clientMsgId, (p) =>
          p.state === 'sending' ? { ...p, state: 'failed', error: TIMEOUT_ERROR } : p,
        ),
      );
    case 'send/retried':
      return update(state, action.room, (t) =>
        editPending(t, action.clientMsgId, (p) =>
          p.state === 'failed' ? { ...withoutError(p), state: 'sending', retries: p.retries + 1 } : p,
        ),
      );
    case 'send/deferred':
      return update(state, action.room, (t) =>
        editPending(t, action.clientMsgId, (p) =>
          p.state === 'sending' || p.state === 'waiting' ? { ...withoutError(p), state: 'waiting', retryAt: action.until } : p,
        ),
      );
    case 'send/resumed':
      return update(state, action.room, (t) =>
        editPending(t, action.clientMsgId, (p) => {
          if (p.state !== 'waiting') return p;
          const { retryAt: _at, ...rest } = p;
          return { ...rest, state: 'sending' };
        }),
      );
    case 'draft/received':
      // A late draft (its message is already here) is ignored.
      return update(state, action.draft.room, (t) =>
        t.ids.has(action.draft.id) ? t : withDrafts(t, draftReceived(t.drafts, action.draft, action.at)),
      );
    case 'drafts/expired':
      return updateEach(state, undefined, (t) => withDrafts(t, draftsExpired(t.drafts, action.now)));
    case 'drafts/cleared':
      return updateEach(state, action.room, (t) => withDrafts(t, []));
  }
}

// ---- selectors ----

export function selectTimeline(state: MessagesState, room: string): RoomTimeline {
  return state.rooms[room] ?? emptyTimeline;
}

/** What a `subscribe` frame should carry to resume the room without a gap. */
export function selectResumePoint(state: MessagesState, room: string): { lastSeq?: number; epoch?: number } {
  const t = state.rooms[room];
  if (t === undefined) return {};
  return {
    ...(t.lastSeq !== null ? { lastSeq: t.lastSeq } : {}),
    ...(t.epoch !== null && t.epoch !== 0 ? { epoch: t.epoch } : {}),
  };
}

/** Messages still waiting for an answer: resent (same client_msg_id) once the room is live again. */
export function selectUnconfirmed(state: MessagesState, room: string): readonly PendingMessage[] {
  return selectTimeline(state, room).pending.filter((p) => p.state === 'sending');
}

/**
 * The room's own messages to send again once its feed is live: those still
 * sending, and those that failed for want of an answer (a dead connection, a
 * write not made durable); not those the server refused.
 */
export function selectResendable(state: MessagesState, room: string): readonly PendingMessage[] {
  return selectTimeline(state, room).pending.filter(
    (p) => p.state === 'sending' || (p.state === 'failed' && RESENDABLE_CODES.has(p.error?.code ?? '')),
  );
}

const RESENDABLE_CODES: ReadonlySet<string> = new Set([TIMEOUT_ERROR.code, 'unavailable']);

export function selectPending(state: MessagesState, room: string, clientMsgId: string): PendingMessage | undefined {
  return state.rooms[room]?.pending.find((p) => p.clientMsgId === clientMsgId);
}

/** Until when slow mode holds the room's sends back (ms since 1970), or null. */
export function selectSlowUntil(state: MessagesState, room: string): number | null {
  let until: number | null = null;
  for (const p of selectTimeline(state, room).pending) {
    if (p.state === 'waiting' && p.retryAt !== undefined && (until === null || p.retryAt > until)) until = p.retryAt;
  }
  return until;
}

/** When the first draft of any room expires (ms since 1970), or null when there is none. */
export function selectNextDraftExpiry(state: MessagesState): number | null {
  let next: number | null = null;
  for (const t of Object.values(state.rooms)) {
    const expiry = nextDraftExpiry(t.drafts);
    if (expiry !== null && (next === null || expiry < next)) next = expiry;
  }
  return next;
}

/** The seq of the oldest loaded message (the `before` of the next older page). */
export function selectOldestSeq(state: MessagesState, room: string): number | null {
  return state.rooms[room]?.messages[0]?.seq ?? null;
}

// ---- helpers ----

function update(state: MessagesState, room: string, change: (t: RoomTimeline) => RoomTimeline): MessagesState {
  const before = state.rooms[room] ?? emptyTimeline;
  const after = change(before);
  return after === before ? state : { rooms: { ...state.rooms, [room]: after } };
}

/** Applies `change` to `room`'s timeline if it exists, or to every room's when `room` is undefined. */
function updateEach(state: MessagesState, room: string | undefined, change: (t: RoomTimeline) => RoomTimeline): MessagesState {
  const rooms = room === undefined ? Object.keys(state.rooms) : [room];
  return rooms.reduce((s, r) => (r in s.rooms ? update(s, r, change) : s), state);
}

function withDrafts(t: RoomTimeline, drafts: readonly BotDraft[]): RoomTimeline {
  return drafts === t.drafts || (drafts.length === 0 && t.drafts.length === 0) ? t : { ...t, drafts };
}

/**
 * Adopts `epoch` for the room. Epoch 0 means "unknown" (history answers it when
 * Redis is away) and changes nothing. Another epoch than the known one means the
 * room's seqs were reassigned: every loaded message goes; the caller's own
 * unconfirmed messages stay (they come back through history or a resend).
 */
function withEpoch(t: RoomTimeline, epoch: number): RoomTimeline {
  if (epoch === 0 || t.epoch === epoch) return t;
  if (t.epoch === null) return { ...t, epoch };
  return { ...emptyTimeline, epoch, pending: t.pending };
}

function historyLoaded(t: RoomTimeline, page: HistoryPage, direction: HistoryDirection, me?: string): RoomTimeline {
  const epoch = page.messages.find((m) => m.epoch !== 0)?.epoch;
  const current = epoch === undefined ? t : withEpoch(t, epoch);
  const firstBefore = current.messages[0]?.seq;
  const added = merge(current, page.messages, me);
  // An empty room: resume from its start, so nothing sent meanwhile is missed.
  const merged = direction === 'newest' && added.lastSeq === null ? { ...added, lastSeq: 0 } : added;
  if (direction === 'newer') return merged;
  const pageFirst = page.messages[0]?.seq;
  // has_more speaks of what lies before this page: it matters when the page
  // reaches further back than what was loaded.
  const reachesBack = firstBefore === undefined || pageFirst === undefined || pageFirst <= firstBefore;
  if (direction === 'older' && pageFirst === undefined) return { ...merged, hasOlder: false };
  return reachesBack ? { ...merged, hasOlder: page.has_more } : merged;
}

/**
 * Adds events in seq order, drops ones already here, folds edits, deletes and
 * reactions into their messages (fold.ts), moves the resume point (every op
 * counts), replaces own pending ones.
 */
function merge(t: RoomTimeline, incoming: readonly ChatMessage[], me?: string): RoomTimeline {
  const seqs = new Set(t.messages.map((m) => m.seq));
  const fresh: ChatMessage[] = [];
  const ids = new Set(t.ids);
  for (const m of incoming) {
    // Seqs of another epoch are not comparable: such a message waits for the room's reload.
    if (t.epoch !== null && m.epoch !== 0 && m.epoch !== t.epoch) continue;
    if (ids.has(m.id) || seqs.has(m.seq)) continue;
    ids.add(m.id);
    seqs.add(m.seq);
    fresh.push(m);
  }
  if (fresh.length === 0) return t;
  const last = t.messages[t.messages.length - 1];
  const combined = [...t.messages, ...fresh];
  const inOrder = (last === undefined || (fresh[0] as ChatMessage).seq > last.seq) && isAscending(fresh);
  const sorted = inOrder ? combined : combined.sort((a, b) => a.seq - b.seq);
  const messages = foldAll(sorted, new Set(fresh.map((m) => m.id)), me);
  const delivered = (p: PendingMessage) =>
    fresh.some((m) => m.client_msg_id === p.clientMsgId && m.sender.id === p.sender.id);
  const pending = t.pending.some(delivered) ? t.pending.filter((p) => !delivered(p)) : t.pending;
  // A bot reply takes the place of its draft.
  const drafts = draftsDelivered(t.drafts, new Set(fresh.map((m) => m.id)));
  return { ...t, messages, ids, pending, drafts, lastSeq: advance(messages, t.lastSeq, t.base) };
}

function isAscending(messages: readonly ChatMessage[]): boolean {
  for (let i = 1; i < messages.length; i += 1) {
    if ((messages[i] as ChatMessage).seq <= (messages[i - 1] as ChatMessage).seq) return false;
  }
  return true;
}

/**
 * The resume point: from `lastSeq` (or just before the first loaded message),
 * forward over consecutive seqs. A hole stops it, so a resume replays the hole,
 * unless the hole lies at or below the epoch's `base` (it never existed).
 */
function advance(messages: readonly ChatMessage[], lastSeq: number | null, base: number): number | null {
  const first = messages[0];
  if (first === undefined) return lastSeq;
  let frontier = lastSeq ?? first.seq - 1;
  let i = firstIndexAfter(messages, frontier);
  while (i < messages.length) {
    const seq = (messages[i] as ChatMessage).seq;
    if (seq !== frontier + 1 && seq - 1 > base) break;
    frontier = seq;
    i += 1;
  }
  return frontier;
}

/** Index of the first message with seq > `seq` (binary search). */
function firstIndexAfter(messages: readonly ChatMessage[], seq: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((messages[mid] as ChatMessage).seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function editPending(
  t: RoomTimeline,
  clientMsgId: string,
  change: (p: PendingMessage) => PendingMessage,
): RoomTimeline {
  const index = t.pending.findIndex((p) => p.clientMsgId === clientMsgId);
  const found = t.pending[index];
  if (found === undefined) return t;
  const changed = change(found);
  if (changed === found) return t;
  const pending = [...t.pending];
  pending[index] = changed;
  return { ...t, pending };
}

function dropPending(t: RoomTimeline, match: (p: PendingMessage) => boolean): RoomTimeline {
  return t.pending.some(match) ? { ...t, pending: t.pending.filter((p) => !match(p)) } : t;
}

function withoutError(p: PendingMessage): PendingMessage {
  const { error: _error, ...rest } = p;
  return rest;
}

function findPendingRoom(state: MessagesState, clientMsgId: string): string | undefined {
  for (const [room, t] of Object.entries(state.rooms)) {
    if (t.pending.some((p) => p.clientMsgId === clientMsgId)) return room;
  }
  return undefined;
}
