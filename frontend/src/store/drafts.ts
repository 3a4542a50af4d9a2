// The bot's replies while it writes them (`draft` frames), for one room: at
// most one per final message id, in the order they appeared. Pure functions
// over plain immutable lists; the message store (./messages.ts) holds one list
// per room and decides when a draft is late (its message is already here).
import type { DraftFrame, UserRef } from '../wire';

/** A draft with no update for this long is dropped: the bot may have died (a restarted one resumes under the same id). */
export const DRAFT_TTL_MS = 60_000;

/** A bot reply being written, shown after the room's messages until its `message` arrives. */
export interface BotDraft {
  /** The id the final message will have. */
  readonly id: string;
  /** The message it answers. */
  readonly replyTo: string;
  readonly sender: UserRef;
  /** The whole text so far: plain text, like a message body. */
  readonly body: string;
  /** When the last update arrived (ms since 1970). */
  readonly updatedAt: number;
}

/** A `draft` frame without its tag, as the store takes it. */
export type DraftUpdate = Omit<DraftFrame, 'type'>;

/** A `streaming` draft creates or replaces the one with its id (in place); a `cancelled` one removes it. */
export function draftReceived(drafts: readonly BotDraft[], update: DraftUpdate, at: number): readonly BotDraft[] {
  const index = drafts.findIndex((d) => d.id === update.id);
  if (update.state === 'cancelled') return index === -1 ? drafts : drafts.filter((d) => d.id !== update.id);
  const draft: BotDraft = { id: update.id, replyTo: update.reply_to, sender: update.sender, body: update.body, updatedAt: at };
  if (index === -1) return [...drafts, draft];
  const next = [...drafts];
  next[index] = draft;
  return next;
}

/** Drops the drafts whose final message has arrived. */
export function draftsDelivered(drafts: readonly BotDraft[], delivered: ReadonlySet<string>): readonly BotDraft[] {
  return drafts.some((d) => delivered.has(d.id)) ? drafts.filter((d) => !delivered.has(d.id)) : drafts;
}

/** Drops the drafts silent for DRAFT_TTL_MS or longer at `now`. */
export function draftsExpired(drafts: readonly BotDraft[], now: number): readonly BotDraft[] {
  return drafts.some((d) => isExpired(d, now)) ? drafts.filter((d) => !isExpired(d, now)) : drafts;
}

/** When the first of these drafts expires (ms since 1970), or null when there are none. */
export function nextDraftExpiry(drafts: readonly BotDraft[]): number | null {
  if (drafts.length === 0) return null;
  return Math.min(...drafts.map((d) => d.updatedAt)) + DRAFT_TTL_MS;
}

function isExpired(draft: BotDraft, now: number): boolean {
  return draft.updatedAt + DRAFT_TTL_MS <= now;
}
