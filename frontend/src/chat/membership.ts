// Which rooms the caller follows and belongs to: a room opened (the least
// recently opened one closed past MAX_OPEN_ROOMS, its "New messages" divider
// placed, its feed started), a closed room's feed given up (watched from then
// on while it is in the list, else unsubscribed), rooms created, joined,
// opened as direct rooms or left, and a room dropped with everything of it
// when the caller is out of it (left, kicked, banned, or elsewhere).
import type { ChatApi } from '../api/endpoints';
import type { ClientFrame, NewRoomKind, Room } from '../wire';
import type { ChatStore } from './chatStore';
import type { RoomFeeds } from './feeds';
import { roomDropped } from './presence';
import { roomAdded, roomRemoved } from './rooms';
import { dividerAfter } from './unread';
import type { RoomWatch } from './watch';

/** Rooms followed at once; the least recently opened is dropped past this. */
export const MAX_OPEN_ROOMS = 20;

export interface MembershipDeps {
  api: ChatApi;
  store: ChatStore;
  send: (frame: ClientFrame) => boolean;
  feeds: RoomFeeds;
  watch: RoomWatch;
  /** The room is on screen: its read marker is due (readMarks.ts). */
  shown: (room: string) => void;
}

export class Membership {
  /** Rooms unsubscribed on purpose, whose `unsubscribed` is expected. */
  private readonly closing = new Set<string>();

  constructor(private readonly deps: MembershipDeps) {}

  private get state() {
    return this.deps.store.state;
  }

  open(room: string): void {
    const { store } = this.deps;
    const wasOpen = this.state.openRooms.includes(room);
    const open = [...this.state.openRooms.filter((r) => r !== room), room];
    const evicted = open.length > MAX_OPEN_ROOMS ? open.shift() : undefined;
    // "New messages" above the first unread one, where the reader left off
    // (decided when the list arrives if it is not known yet: a reload on the room's address)
    let dividers = this.state.dividers;
    if (this.state.rooms === null) dividers = roomDropped(dividers, room);
    else {
      const divider = dividerAfter(this.state.rooms.find((r) => r.id === room));
      if (divider !== null || !wasOpen) dividers = { ...dividers, [room]: divider };
    }
    this.deps.watch.forget(room);
    store.set({ activeRoom: room, openRooms: open, dividers });
    if (evicted !== undefined) this.closeFeed(evicted);
    const feed = store.feed(room);
    if (feed.status === 'idle' || feed.status === 'error') this.deps.feeds.start(room);
    this.deps.shown(room);
  }

  async create(name: string, kind: NewRoomKind): Promise<void> {
    const room = await this.deps.api.createRoom(name.trim(), kind);
    this.adopt(room, 'owner');
  }

  async join(room: string): Promise<void> {
    this.adopt(await this.deps.api.joinRoom(room), 'member');
  }

  async openDirect(username: string): Promise<void> {
    const { room } = await this.deps.api.openDirect(username.trim());
    this.adopt(room, 'member');
  }

  async leave(room: string): Promise<void> {
    const label = this.deps.store.roomName(room);
    await this.deps.api.leaveRoom(room);
    this.deps.watch.forget(room);
    this.closing.add(room);
    this.deps.send({ type: 'unsubscribe', room });
    this.drop(room, `You left ${label}.`);
  }

  /** An `unsubscribed` frame: true when it was asked for (and is now settled). */
  unsubscribed(room: string): boolean {
    return this.closing.delete(room);
  }

  /** A connection dropped: no `unsubscribed` is coming any more. */
  reset(): void {
    this.closing.clear();
  }

  /** The caller is out of `room`: it goes with everything of it, and `notice` says why. */
  drop(room: string, notice: string): void {
    const { store } = this.deps;
    this.deps.watch.forget(room);
    // told twice (the room's own event and the user's feed): once is enough
    if (this.state.rooms?.some((r) => r.id === room) !== true && !this.state.openRooms.includes(room)) return;
    store.dispatch({ type: 'room/forgotten', room });
    this.deps.feeds.forget(room);
    store.set({
      openRooms: this.state.openRooms.filter((r) => r !== room),
      activeRoom: this.state.activeRoom === room ? null : this.state.activeRoom,
      rooms: this.state.rooms && roomRemoved(this.state.rooms, room),
      feeds: roomDropped(this.state.feeds, room),
      presence: roomDropped(this.state.presence, room),
      typing: roomDropped(this.state.typing, room),
      loadingOlder: roomDropped(this.state.loadingOlder, room),
      replying: roomDropped(this.state.replying, room),
      members: roomDropped(this.state.members, room),
      highlight: this.state.highlight?.room === room ? null : this.state.highlight,
      dividers: roomDropped(this.state.dividers, room),
    });
    store.notify(notice);
  }

  private closeFeed(room: string): void {
    const { store } = this.deps;
    if (this.state.rooms?.some((r) => r.id === room) === true) {
      // still in the list: watched from now on (the subscribe without last_seq replaces its feed)
      store.dispatch({ type: 'room/forgotten', room });
      store.set({ feeds: roomDropped(this.state.feeds, room), typing: roomDropped(this.state.typing, room) });
      this.deps.watch.watch(room);
      return;
    }
    this.closing.add(room);
    if (!this.deps.send({ type: 'unsubscribe', room })) this.closing.delete(room);
    store.dispatch({ type: 'room/forgotten', room });
    store.set({
      feeds: roomDropped(this.state.feeds, room),
      presence: roomDropped(this.state.presence, room),
      typing: roomDropped(this.state.typing, room),
    });
  }

  private adopt(room: Room, role: 'owner' | 'member'): void {
    this.deps.store.set({ rooms: roomAdded(this.deps.store.state.rooms ?? [], room, role) });
    this.open(room.id);
  }
}
