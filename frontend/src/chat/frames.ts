// The server's frames, each taken to the part it concerns: `subscribed` makes
// an open room's feed live and fetches who is online there (presenceFeed.ts;
// a watched room's only moves its counts), `message`
// goes to the store and the room's counts (or only the counts of a room not
// open), `ack` and `error` settle the outbox and message actions (or say why
// a feed or a watch was refused), `resync` to the feeds, presence to
// presenceFeed.ts, typing to the state, and the user's feed (`room_added`, `room_removed`, `read`)
// and the end of a membership to the room list.
import { selectResendable, selectTimeline } from '../store/messages';
import { opOf } from '../store/fold';
import { mentionsMe } from '../text/mentions';
import type { ChatMessage, Member, ServerFrame, ServerFrameOf } from '../wire';
import type { MessageActions } from './actions';
import type { ChatStore } from './chatStore';
import type { DraftExpiry } from './draftExpiry';
import { RETRY_FEED_MS, type RoomFeeds } from './feeds';
import type { Membership } from './membership';
import type { Outbox } from './outbox';
import { typingStarted, typingStopped } from './presence';
import type { PresenceFeed } from './presenceFeed';
import { roomEffect } from './roomEvents';
import type { RoomList } from './roomList';
import { messageArrived, roomChanged, roomRead } from './rooms';
import type { RoomWatch } from './watch';

export interface FrameDeps {
  store: ChatStore;
  feeds: RoomFeeds;
  outbox: Outbox;
  actions: MessageActions;
  watch: RoomWatch;
  draftExpiry: DraftExpiry;
  roomList: RoomList;
  membership: Membership;
  presence: PresenceFeed;
  /** A message arrived in the room on screen: its read marker is due (readMarks.ts). */
  shown: (room: string) => void;
  loadMembers: (room: string) => Promise<readonly Member[]>;
  /** Every live message frame of any room (notify.ts). */
  onLiveMessage: (message: ChatMessage) => void;
  isVisible: () => boolean;
  now: () => number;
}

export class FrameHandler {
  constructor(private readonly deps: FrameDeps) {}

  private get state() {
    return this.deps.store.state;
  }

  handle(frame: ServerFrame): void {
    const { store } = this.deps;
    switch (frame.type) {
      case 'subscribed':
        return this.onSubscribed(frame);
      case 'message':
        return this.onMessage(frame);
      case 'ack':
        if (this.deps.actions.acked(frame.client_msg_id)) return;
        this.deps.outbox.settled(frame.client_msg_id);
        return store.dispatch({ type: 'send/acked', room: frame.room, clientMsgId: frame.client_msg_id, id: frame.id, seq: frame.seq });
      case 'error':
        return this.onError(frame);
      case 'resync':
        return void this.deps.feeds.resync(frame.room, frame.reason === 'epoch' ? 'newest' : 'after');
      case 'presence':
        return this.deps.presence.changed(frame.room, frame.user, frame.online, frame.status);
      case 'typing':
        if (frame.user.id === this.state.me.id) return;
        return store.set({ typing: typingStarted(this.state.typing, frame.room, frame.user, this.deps.now()) });
      case 'draft':
        return this.onDraft(frame);
      case 'member_left':
        if (frame.user.id === this.state.me.id) return this.deps.membership.drop(frame.room, `You are no longer a member of ${store.roomName(frame.room)}.`);
        return this.deps.presence.changed(frame.room, frame.user, false);
      case 'room_added':
        return this.deps.roomList.added(frame.room);
      case 'room_removed':
        return this.deps.membership.drop(frame.room, removedNotice(frame.reason, store.roomName(frame.room)));
      case 'read':
        return store.set({ rooms: this.state.rooms && roomRead(this.state.rooms, frame.room, frame.seq) });
      case 'unsubscribed':
        this.deps.watch.forget(frame.room);
        if (this.deps.membership.unsubscribed(frame.room)) return;
        // Not asked for: membership ended elsewhere (another tab left the room).
        if (this.state.openRooms.includes(frame.room)) this.deps.membership.drop(frame.room, `You are no longer a member of ${store.roomName(frame.room)}.`);
        return;
      case 'hello':
      case 'pong':
        return;
    }
  }

  private onSubscribed(frame: ServerFrameOf<'subscribed'>): void {
    const { store } = this.deps;
    const { room } = frame;
    if (!this.state.openRooms.includes(room)) {
      // a watched room: nothing to load, nobody listed
      if (!this.deps.watch.isWatched(room)) return;
      // it moved between the list's fetch and this subscription: its counts are fetched again
      const known = this.state.rooms?.find((r) => r.id === room);
      if (known !== undefined && frame.head_seq > known.last_seq) this.deps.roomList.refreshSoon();
      return;
    }
    const before = selectTimeline(this.state.messages, room).epoch;
    store.dispatch({
      type: 'room/subscribed',
      room,
      epoch: frame.epoch,
      headSeq: frame.head_seq,
      baseSeq: frame.base_seq,
    });
    this.deps.presence.start(room);
    if (!this.deps.feeds.isResyncing(room)) store.setFeed(room, { status: 'live' });
    if (before !== null && before !== 0 && frame.epoch !== before) {
      void this.deps.feeds.resync(room, 'newest');
      return;
    }
    this.deps.outbox.resend(room, selectResendable(this.state.messages, room));
  }

  private onMessage(frame: ServerFrameOf<'message'>): void {
    const { store } = this.deps;
    const { type: _type, ...message } = frame;
    this.deps.onLiveMessage(message);
    if (!this.state.openRooms.includes(message.room)) return this.onWatchedMessage(message);
    const before = selectTimeline(this.state.messages, message.room).epoch;
    store.dispatch({ type: 'message/received', message, me: this.state.me.id });
    if (before !== null && before !== 0 && message.epoch !== before) void this.deps.feeds.resync(message.room, 'newest');
    const own = message.sender.id === this.state.me.id;
    if (own) this.deps.outbox.settled(message.client_msg_id);
    const seen = this.state.activeRoom === message.room && this.deps.isVisible();
    const isMessage = opOf(message) === 'message';
    store.set({
      rooms:
        this.state.rooms &&
        messageArrived(this.state.rooms, message.room, message.seq, isMessage && !own && !seen, mentionsMe(message, this.state.me)),
      typing: isMessage ? typingStopped(this.state.typing, message.room, message.sender.id) : this.state.typing,
    });
    this.roomEvent(message);
    if (seen) this.deps.shown(message.room);
  }

  /** A message of a room not open: only its counts move (nothing is kept). */
  private onWatchedMessage(message: ChatMessage): void {
    if (this.state.rooms === null) return;
    const own = message.sender.id === this.state.me.id;
    const unread = opOf(message) === 'message' && !own;
    this.deps.store.set({ rooms: messageArrived(this.state.rooms, message.room, message.seq, unread, unread && mentionsMe(message, this.state.me)) });
    this.roomEvent(message);
  }

  /** Topic and moderation events change the room itself (roomEvents.ts). */
  private roomEvent(message: ChatMessage): void {
    const { store } = this.deps;
    const { room } = message;
    const effect = roomEffect(message, this.state.me.id);
    if (effect === null) return;
    if (effect.patch !== undefined) store.set({ rooms: this.state.rooms && roomChanged(this.state.rooms, room, effect.patch) });
    if (effect.removed === true) return this.deps.membership.drop(room, `You were removed from ${store.roomName(room)}.`);
    if (effect.membersChanged === true && room in this.state.members) void this.deps.loadMembers(room).catch(() => undefined);
  }

  /** A bot reply in progress: never unread, outside the seq order. */
  private onDraft(frame: ServerFrameOf<'draft'>): void {
    const { type: _type, ...draft } = frame;
    if (!this.state.openRooms.includes(draft.room)) return;
    this.deps.store.dispatch({ type: 'draft/received', draft, at: this.deps.now() });
    this.deps.draftExpiry.arm();
  }

  private onError(frame: ServerFrameOf<'error'>): void {
    const { store, feeds } = this.deps;
    const { room, client_msg_id: clientMsgId } = frame;
    if (clientMsgId !== undefined) {
      if (this.deps.actions.refused({ ...frame, client_msg_id: clientMsgId })) return;
      return this.deps.outbox.refused({ ...frame, client_msg_id: clientMsgId });
    }
    if (room !== undefined && !this.state.openRooms.includes(room) && this.deps.watch.isWatched(room)) {
      // a watch refused: tried again later when the server was busy, else left alone
      this.deps.watch.forget(room);
      if (frame.code === 'unavailable' || frame.code === 'rate_limited') store.later(() => this.deps.roomList.syncWatch(), RETRY_FEED_MS);
      return;
    }
    if (room === undefined || !this.state.openRooms.includes(room)) {
      // A late `not_subscribed` for a room already left is expected; anything else is a client bug.
      if (frame.code !== 'not_subscribed') console.warn('[chat] the server refused a frame', { code: frame.code });
      return;
    }
    switch (frame.code) {
      case 'not_subscribed':
        return feeds.subscribe(room);
      case 'unavailable':
      case 'rate_limited': {
        const error =
          frame.code === 'unavailable'
            ? 'The room is unavailable right now; trying again…'
            : 'Too many rooms are being resumed at once; trying again…';
        store.setFeed(room, { status: 'error', error });
        store.later(() => feeds.start(room), RETRY_FEED_MS);
        return;
      }
      case 'forbidden':
        return store.setFeed(room, { status: 'error', error: 'You are not a member of this room.' });
      case 'too_many_rooms':
        return store.setFeed(room, { status: 'error', error: 'Too many rooms are open at once. Leave one and try again.' });
      default:
        return store.setFeed(room, { status: 'error', error: 'The server refused to follow this room.' });
    }
  }
}

/** What a `room_removed` tells the person. */
function removedNotice(reason: 'left' | 'kicked' | 'banned', label: string): string {
  if (reason === 'left') return `You left ${label}.`;
  if (reason === 'banned') return `You were banned from ${label}.`;
  return `You were removed from ${label}.`;
}
