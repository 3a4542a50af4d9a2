// Room feeds: how a room goes live and stays gap-free. History first, then
// `subscribe` with the resume point (last seq and epoch); after a `resync`,
// history again from the resume point (or the newest page for a new epoch),
// then `subscribe` again. Feed states are written to the chat state for the UI.
// A (re)starting feed drops the room's drafts: they are not replayed.
import type { ChatApi } from '../api/endpoints';
import { selectResumePoint, type MessagesAction, type MessagesState } from '../store/messages';
import type { ClientFrame } from '../wire';
import { errorText } from './errors';
import { idleFeed, type Feed } from './state';

export const PAGE_SIZE = 50;
const CATCH_UP_PAGE = 100;
export const RETRY_FEED_MS = 3_000;

export interface FeedDeps {
  api: ChatApi;
  send: (frame: ClientFrame) => boolean;
  /** A connection is up (after `hello`). */
  isReady: () => boolean;
  isOpen: (room: string) => boolean;
  messages: () => MessagesState;
  /** The caller's id (reactions' `me` flag when events are folded). */
  me?: () => string;
  dispatch: (action: MessagesAction) => void;
  setFeed: (room: string, feed: Feed) => void;
  later: (task: () => void, ms: number) => void;
  /** The clock (ms since 1970). */
  now: () => number;
}

export class RoomFeeds {
  private readonly resyncing = new Set<string>();
  /** When each room's last reload began: a second one within RETRY_FEED_MS waits. */
  private readonly reloadedAt = new Map<string, number>();
  /** Each waiting reload's token: `reset` and `forget` drop it, and the wait then ends in nothing. */
  private readonly waiting = new Map<string, object>();

  constructor(private readonly deps: FeedDeps) {}

  /** Starts a room's feed: from its resume point, or from the newest page when it has none. */
  start(room: string): void {
    this.deps.dispatch({ type: 'drafts/cleared', room });
    if (selectResumePoint(this.deps.messages(), room).lastSeq === undefined) void this.loadNewest(room);
    else this.subscribe(room);
  }

  /** Follows the room from its resume point (nothing missing, nothing twice). */
  subscribe(room: string): void {
    const { deps } = this;
    if (!deps.isOpen(room)) return;
    if (!deps.isReady()) return deps.setFeed(room, idleFeed);
    const { lastSeq, epoch } = selectResumePoint(deps.messages(), room);
    const frame: ClientFrame = {
      type: 'subscribe',
      room,
      ...(lastSeq !== undefined ? { last_seq: lastSeq } : {}),
      ...(epoch !== undefined ? { epoch } : {}),
    };
    if (deps.send(frame) && !this.resyncing.has(room)) deps.setFeed(room, { status: 'subscribing' });
  }

  isResyncing(room: string): boolean {
    return this.resyncing.has(room);
  }

  /**
   * Reloads a room whose feed the server stopped: `after` fetches what follows
   * the resume point; `newest` (a new epoch) the latest page. Then subscribes again.
   * A room told to resync again within RETRY_FEED_MS of its last reload (a
   * `gap` while the server's store catches up) waits that long first, so a
   * resync that keeps coming costs one reload per RETRY_FEED_MS, not a loop.
   */
  async resync(room: string, mode: 'after' | 'newest'): Promise<void> {
    const { deps } = this;
    if (this.resyncing.has(room) || !deps.isOpen(room)) return;
    this.resyncing.add(room);
    deps.dispatch({ type: 'drafts/cleared', room });
    deps.setFeed(room, { status: 'resyncing' });
    const now = deps.now();
    const last = this.reloadedAt.get(room);
    if (last !== undefined && now - last < RETRY_FEED_MS) {
      const token = {};
      this.waiting.set(room, token);
      deps.later(() => {
        if (this.waiting.get(room) !== token) return;
        this.waiting.delete(room);
        this.resyncing.delete(room);
        void this.resync(room, mode);
      }, RETRY_FEED_MS - (now - last));
      return;
    }
    this.reloadedAt.set(room, now);
    try {
      const { lastSeq } = selectResumePoint(deps.messages(), room);
      const after = mode === 'after' ? lastSeq : undefined;
      const page =
        after !== undefined
          ? await deps.api.history(room, { after, limit: CATCH_UP_PAGE })
          : await deps.api.history(room, { limit: PAGE_SIZE });
      deps.dispatch({ type: 'history/loaded', room, page, direction: after !== undefined ? 'newer' : 'newest', ...this.me() });
      this.resyncing.delete(room);
      this.subscribe(room);
    } catch (error) {
      this.resyncing.delete(room);
      deps.setFeed(room, { status: 'error', error: errorText(error, 'Could not catch up with the room; trying again…', 'room') });
      deps.later(() => void this.resync(room, mode), RETRY_FEED_MS);
    }
  }

  /** The connection is gone: every feed starts over on the next one. */
  reset(): void {
    this.resyncing.clear();
    this.reloadedAt.clear();
    this.waiting.clear();
  }

  forget(room: string): void {
    this.resyncing.delete(room);
    this.reloadedAt.delete(room);
    this.waiting.delete(room);
  }

  private me(): { me?: string } {
    return this.deps.me ? { me: this.deps.me() } : {};
  }

  private async loadNewest(room: string): Promise<void> {
    const { deps } = this;
    deps.setFeed(room, { status: 'loading' });
    try {
      const page = await deps.api.history(room, { limit: PAGE_SIZE });
      deps.dispatch({ type: 'history/loaded', room, page, direction: 'newest', ...this.me() });
      this.subscribe(room);
    } catch (error) {
      deps.setFeed(room, { status: 'error', error: errorText(error, 'Could not load the messages.', 'room') });
    }
  }
}
