// Who is online in the open rooms. `subscribed` only counts them; the list is
// fetched (GET /api/rooms/{id}/online, page by page) each time an open room's
// feed goes live: when it opens, after every resubscribe (reconnect, resync).
// `presence` frames that arrive while the list is on its way are kept in
// order and applied over it, so none is lost; after it, they apply at once.
// Rooms not open (watched for their counts) fetch nothing and keep nothing.
import type { ChatApi } from '../api/endpoints';
import type { OnlineUser, PresenceStatus, UserRef } from '../wire';
import type { ChatStore } from './chatStore';
import { RETRY_FEED_MS } from './feeds';
import { presenceChanged, presenceReplaced } from './presence';

/** Users per page asked for (the server's maximum). */
export const ONLINE_PAGE = 200;
/** Pages read at most per fetch: the list shows at most this many times ONLINE_PAGE users. */
export const ONLINE_PAGES_MAX = 10;

interface Change {
  user: UserRef;
  online: boolean;
  status: PresenceStatus | undefined;
}

/** A fetch under way and the frames that arrived since it started. */
interface Pending {
  readonly buffered: Change[];
}

export interface PresenceFeedDeps {
  api: Pick<ChatApi, 'online'>;
  store: ChatStore;
  isOpen: (room: string) => boolean;
  later: (task: () => void, ms: number) => void;
}

export class PresenceFeed {
  /** Rooms whose list is on its way; a fetch whose entry was replaced or removed is dropped. */
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly deps: PresenceFeedDeps) {}

  /** An open room's feed went live (`subscribed`): its list is fetched again. */
  start(room: string): void {
    const pending: Pending = { buffered: [] };
    this.pending.set(room, pending);
    void this.fetch(room, pending);
  }

  /** A `presence` frame (or a member gone): applied now, or after the list on its way. */
  changed(room: string, user: UserRef, online: boolean, status?: PresenceStatus): void {
    if (!this.deps.isOpen(room)) return;
    const pending = this.pending.get(room);
    if (pending !== undefined) {
      pending.buffered.push({ user, online, status });
      return;
    }
    const { store } = this.deps;
    store.set({ presence: presenceChanged(store.state.presence, room, user, online, status) });
  }

  /** The connection is down: every fetch under way is dropped. */
  reset(): void {
    this.pending.clear();
  }

  private async fetch(room: string, pending: Pending): Promise<void> {
    const current = () => this.pending.get(room) === pending && this.deps.isOpen(room);
    const users: OnlineUser[] = [];
    try {
      let after: string | undefined;
      for (let pages = 0; pages < ONLINE_PAGES_MAX; pages += 1) {
        const page = await this.deps.api.online(room, after === undefined ? { limit: ONLINE_PAGE } : { after, limit: ONLINE_PAGE });
        if (!current()) return;
        users.push(...page.online);
        if (page.next === null) break;
        after = page.next;
      }
    } catch {
      // asked again later, the frames meanwhile still kept
      if (current()) this.deps.later(() => void (current() && this.fetch(room, pending)), RETRY_FEED_MS);
      return;
    }
    this.pending.delete(room);
    const { store } = this.deps;
    let presence = presenceReplaced(store.state.presence, room, users);
    for (const change of pending.buffered) presence = presenceChanged(presence, room, change.user, change.online, change.status);
    store.set({ presence });
  }
}
