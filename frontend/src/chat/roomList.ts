// The caller's room list as the controller keeps it: fetched at start, after
// every connection's `hello`, when the page comes back into view after a
// while, and a moment after a watched room turned out to have moved (once
// however many ask); kept live meanwhile by the user's feed (`room_added`).
// When it arrives, rooms opened before it get their "New messages" divider,
// and every room of it that is not open is handed to watch.ts.
import type { ChatApi } from '../api/endpoints';
import type { MyRoom } from '../wire';
import type { ChatStore } from './chatStore';
import { errorText } from './errors';
import { sortRooms } from './rooms';
import { dividerAfter } from './unread';
import type { RoomWatch } from './watch';

/** The list is fetched again when the page comes back into view after this long (the feed keeps it live meanwhile). */
const ROOMS_STALE_MS = 30_000;
/** How long after a watched room turned out to have moved the list is fetched again (the writer stores it meanwhile). */
const ROOMS_CATCH_UP_MS = 1_000;
/** A connection's room limit when the server has not said one. */
const DEFAULT_MAX_ROOMS = 100;

export interface RoomListDeps {
  api: ChatApi;
  store: ChatStore;
  watch: RoomWatch;
  now: () => number;
  /** A connection is up (after `hello`). */
  isReady: () => boolean;
}

export class RoomList {
  private fetchedAt = -Infinity;
  private refreshPending = false;

  constructor(private readonly deps: RoomListDeps) {}

  private get state() {
    return this.deps.store.state;
  }

  async refresh(): Promise<void> {
    const { store } = this.deps;
    this.fetchedAt = this.deps.now();
    try {
      const rooms = await this.deps.api.myRooms();
      store.set({ rooms: sortRooms(rooms), roomsError: null });
      this.placeDividers();
      this.syncWatch();
    } catch (error) {
      store.set({ roomsError: errorText(error, 'Could not load your rooms.') });
    }
  }

  /** The page came back into view: the list is fetched again if it is old. */
  refreshIfStale(): void {
    if (this.deps.now() - this.fetchedAt > ROOMS_STALE_MS) void this.refresh();
  }

  /** One list fetch a moment from now, however many rooms ask for it meanwhile. */
  refreshSoon(): void {
    if (this.refreshPending) return;
    this.refreshPending = true;
    this.deps.store.later(() => {
      this.refreshPending = false;
      void this.refresh();
    }, ROOMS_CATCH_UP_MS);
  }

  /** The user's feed: a room more (invited, a direct room, created or joined elsewhere), or its entry anew. */
  added(room: MyRoom): void {
    if (this.state.rooms === null) return; // the list being fetched has it
    const others = this.state.rooms.filter((r) => r.id !== room.id);
    this.deps.store.set({ rooms: sortRooms([...others, room]) });
    if (!this.state.openRooms.includes(room.id)) this.syncWatch();
  }

  /** Watches every room of the list that is not open (watch.ts). */
  syncWatch(): void {
    if (!this.deps.isReady() || this.state.rooms === null) return;
    const limit = (this.state.limits?.max_rooms ?? DEFAULT_MAX_ROOMS) - this.state.openRooms.length;
    this.deps.watch.sync(
      this.state.rooms.map((r) => r.id),
      this.state.openRooms,
      limit,
    );
  }

  /** Open rooms opened before the list was known get their divider now. */
  private placeDividers(): void {
    const rooms = this.state.rooms ?? [];
    const undecided = this.state.openRooms.filter((room) => !(room in this.state.dividers));
    if (undecided.length === 0) return;
    const decided = Object.fromEntries(undecided.map((room) => [room, dividerAfter(rooms.find((r) => r.id === room))]));
    this.deps.store.set({ dividers: { ...this.state.dividers, ...decided } });
  }
}
