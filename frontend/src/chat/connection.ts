// The connection's lifecycle as the chat sees it: while it is down, nothing
// is sent (the outbox waits), feeds and watches are forgotten, drafts,
// presence and typing cleared, and feeds not in error shown idle; on each
// `hello`, the limits are kept, the person's away status told first, every
// open room's feed started again from its resume point, the list watched and
// fetched again. The away status (activity.ts) is told on every connection.
import type { ConnectionState } from '../api/socket';
import type { ClientFrame, ServerFrameOf } from '../wire';
import type { ChatStore } from './chatStore';
import type { RoomFeeds } from './feeds';
import type { Membership } from './membership';
import type { Outbox } from './outbox';
import type { PresenceFeed } from './presenceFeed';
import type { RoomList } from './roomList';
import { idleFeed } from './state';
import type { RoomWatch } from './watch';

export interface ConnectionDeps {
  store: ChatStore;
  send: (frame: ClientFrame) => boolean;
  outbox: Outbox;
  feeds: RoomFeeds;
  watch: RoomWatch;
  membership: Membership;
  roomList: RoomList;
  presence: PresenceFeed;
}

export class Connection {
  private ready = false;
  /** The person is away (activity.ts); told to the server on every connection. */
  private away = false;

  constructor(private readonly deps: ConnectionDeps) {}

  /** A connection is up (after `hello`). */
  isReady(): boolean {
    return this.ready;
  }

  /** The person went away or came back (activity.ts): every connection's rooms learn it. */
  setAway(away: boolean): void {
    if (away === this.away) return;
    this.away = away;
    if (this.ready) this.deps.send({ type: 'status', status: away ? 'away' : 'active' });
  }

  stateChanged(connection: ConnectionState): void {
    const { store } = this.deps;
    if (connection.status !== 'online') {
      this.ready = false;
      this.deps.outbox.pause();
      this.deps.feeds.reset();
      this.deps.watch.reset();
      this.deps.membership.reset();
      this.deps.presence.reset();
      // Whatever a draft became meanwhile (sent, cancelled) comes with the resumed feeds, or not at all.
      store.dispatch({ type: 'drafts/cleared' });
      const feeds = Object.fromEntries(
        Object.entries(store.state.feeds).map(([room, feed]) => [room, feed.status === 'error' ? feed : idleFeed]),
      );
      store.set({ connection, feeds, presence: {}, typing: {} });
    } else {
      store.set({ connection });
    }
  }

  connected(hello: ServerFrameOf<'hello'>): void {
    this.ready = true;
    this.deps.store.set({ limits: hello.limits });
    // before any subscribe, so that the rooms are joined away
    if (this.away) this.deps.send({ type: 'status', status: 'away' });
    this.deps.watch.connect();
    for (const room of this.deps.store.state.openRooms) this.deps.feeds.start(room);
    // the list known so far at once, then the list as it is now (a feed frame may have been missed)
    this.deps.roomList.syncWatch();
    void this.deps.roomList.refresh();
  }
}
