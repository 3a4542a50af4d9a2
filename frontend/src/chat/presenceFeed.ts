// Who is online in the room on screen. `subscribed` only counts them; the
// list is fetched (GET /api/rooms/{id}/online, page by page) when the room is
// on screen and its feed live, after every resubscribe (reconnect, resync):
// at once for the room on screen, when shown for another open room. The
// `presence` frames that arrive while the list is on its way are kept in
// order and applied over it, so none is lost (the fetch starts after the
// feed is live, so every change after its reads comes as a frame); after it,
// they apply at once, also while the room stays open off screen. Open rooms
// whose list is not fetched yet, and rooms not open (watched for their
// counts), keep nothing.
import type { ChatApi } from '../api/endpoints';
import type { OnlineUser, PresenceStatus, UserRef } from '../wire';
import type { ChatStore } from './chatStore';
import { RETRY_FEED_MS } from './feeds';
import { presenceChanged, presenceReplaced, roomDropped } from './presence';

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
  /** Open rooms live on this connection whose list is fetched when they are on screen. */
  private readonly due = new Set<string>();

  constructor(private readonly deps: PresenceFeedDeps) {
    deps.store.subscribe(() => this.fetchShown());
  }

  /** An open room's feed went live (`subscribed`): its list is fetched again, now or once on screen. */
  start(room: string): void {
    this.pending.delete(room);
    this.due.add(room);
    const { store } = this.deps;
    if (store.state.activeRoom !== room && room in store.state.presence) store.set({ presence: roomDropped(store.state.presence, room) });
    this.fetchShown();
  }

  /** The room on screen, if its list is due, is fetched. */
  private fetchShown(): void {
    const room = this.deps.store.state.activeRoom;
    if (room === null || !this.due.has(room) || !this.deps.isOpen(room)) return;
    this.due.delete(room);
    const pending: Pending = { buffered: [] };
    this.pending.set(room, pending);
    void this.fetch(room, pending);
  }

  /** A `presence` frame (or a member gone): applied now, or after the list on its way. */
  changed(room: string, user: UserRef, online: boolean, status?: PresenceStatus): void {
    if (!this.deps.isOpen(room) || this.due.has(room)) return;
    const pending = this.pending.get(room);
    if (pending !== undefined) {
      pending.buffered.push({ user, online, status });
      return;
    }
    const { store } = this.deps;
    store.set({ presence: presenceChanged(store.state.presence, room, user, online, status) });
  }

  /** The connection is down: every fetch under way is dropped, nothing is due until the next `subscribed`. */
  reset(): void {
    this.pending.clear();
    this.due.clear();
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
