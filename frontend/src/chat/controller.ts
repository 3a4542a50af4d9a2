// The chat controller: joins the HTTP API, the socket and the pure stores into
// one observable state for the UI. Room feeds: history first, then `subscribe`
// with the resume point; on every (re)connect each open room is subscribed
// again from its last seq and epoch; a `resync` reloads history, then
// subscribes again. Own messages are resent with the same client_msg_id, by
// themselves on reconnect (also those that failed for want of an answer). The
// bot's drafts are shown until their message arrives; they go with the feed.
// Every other room of the list is watched live (watch.ts) for its counts and
// presence; the user's feed (`room_added`, `room_removed`, `read`) keeps the
// list itself live, and the list is fetched again after every (re)connect.
import type { ChatApi } from '../api/endpoints';
import type { ConnectionState, SocketEvents } from '../api/socket';
import { newClientMsgId } from '../api/ids';
import {
  messagesReducer,
  selectNextDraftExpiry,
  selectOldestSeq,
  selectPending,
  selectResendable,
  selectTimeline,
  type MessagesAction,
} from '../store/messages';
import type { ChatMessage, ClientFrame, Member, MyRoom, NewRoomKind, Room, SearchResults, ServerFrame, ServerFrameOf, UserRef } from '../wire';
import { opOf } from '../store/fold';
import { mentionsMe } from '../text/mentions';
import { MessageActions } from './actions';
import { Jumps } from './jump';
import { roomEffect } from './roomEvents';
import { presenceChanged, presenceReplaced, roomDropped, typingStarted, typingStopped } from './presence';
import { messageArrived, roomAdded, roomChanged, roomLabel, roomRead, roomRemoved, sortRooms } from './rooms';
import { errorText } from './errors';
import { Outbox } from './outbox';
import { DraftExpiry } from './draftExpiry';
import { PAGE_SIZE, RETRY_FEED_MS, RoomFeeds } from './feeds';
import { idleFeed, initialChatState, type ChatState, type Feed } from './state';
import { RoomWatch } from './watch';
import { dividerAfter } from './unread';

/** What the controller needs of the socket (ChatSocket, or a fake in tests). */
export interface SocketLike {
  start(): void;
  stop(): void;
  send(frame: ClientFrame): boolean;
  retryNow(): void;
  networkChanged(online: boolean): void;
}

export interface ChatControllerDeps {
  api: ChatApi;
  me: UserRef;
  createSocket: (events: SocketEvents) => SocketLike;
  now?: () => number;
  /** Whether the person can see the page (read markers, unread counts). */
  isVisible?: () => boolean;
  /** Every live message frame of any room (notify.ts). */
  onLiveMessage?: (message: ChatMessage) => void;
}

/** Rooms followed at once; the least recently opened is dropped past this. */
export const MAX_OPEN_ROOMS = 20;
const READ_MARK_DELAY_MS = 800;
const TYPING_EVERY_MS = 2_000;
const NOTICE_MS = 6_000;
/** The list is fetched again when the page comes back into view after this long (the feed keeps it live meanwhile). */
const ROOMS_STALE_MS = 30_000;
/** How long after a watched room turned out to have moved the list is fetched again (the writer stores it meanwhile). */
const ROOMS_CATCH_UP_MS = 1_000;
/** A connection's room limit when the server has not said one. */
const DEFAULT_MAX_ROOMS = 100;
/** How long a message brought into view stays marked. */
export const HIGHLIGHT_MS = 2_500;

type Listener = () => void;

export class ChatController {
  private state: ChatState;
  private readonly listeners = new Set<Listener>();
  private readonly socket: SocketLike;
  private readonly api: ChatApi;
  private readonly now: () => number;
  private readonly isVisible: () => boolean;
  private readonly onLiveMessage: (message: ChatMessage) => void;
  private readonly outbox: Outbox;
  private readonly feeds: RoomFeeds;
  private readonly draftExpiry: DraftExpiry;
  private readonly watch: RoomWatch;
  /** Edits, deletes and reactions on their way. */
  readonly actions: MessageActions;
  private readonly jumps: Jumps;
  private highlightNonce = 0;
  private readonly closing = new Set<string>();
  private readonly lastTypingSent = new Map<string, number>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private roomsFetchedAt = -Infinity;
  private ready = false;
  private refreshPending = false;
  /** The person is away (activity.ts); told to the server on every connection. */
  private away = false;

  constructor(deps: ChatControllerDeps) {
    this.api = deps.api;
    this.now = deps.now ?? Date.now;
    this.isVisible = deps.isVisible ?? (() => true);
    this.onLiveMessage = deps.onLiveMessage ?? (() => {});
    this.state = initialChatState(deps.me);
    this.socket = deps.createSocket({
      onReady: (hello) => this.onReady(hello),
      onFrame: (frame) => this.onFrame(frame),
      onState: (connection) => this.onConnection(connection),
      onAuthLost: () => this.set({ notice: 'Your session has ended. Please log in again.' }),
    });
    this.outbox = new Outbox({
      send: (frame) => this.socket.send(frame),
      dispatch: (action) => this.dispatch(action),
      pending: (room, clientMsgId) => selectPending(this.state.messages, room, clientMsgId),
      isLive: (room) => this.feed(room).status === 'live',
      now: () => this.now(),
    });
    this.jumps = new Jumps({
      api: this.api,
      state: () => this.state,
      open: (room) => {
        if (this.state.activeRoom !== room || !this.state.openRooms.includes(room)) this.openRoom(room);
      },
      highlight: (room, id, seq) => {
        this.highlightNonce += 1;
        this.set({ highlight: { room, id, seq, nonce: this.highlightNonce } });
      },
      olderLoaded: (room, page) => this.dispatch({ type: 'history/loaded', room, page, direction: 'older', me: this.state.me.id }),
      notify: (text) => this.notify(text),
      until: (check, ms) => this.until(check, ms),
    });
    this.actions = new MessageActions({
      send: (frame) => this.socket.send(frame),
      notify: (text) => this.notify(text),
    });
    this.feeds = new RoomFeeds({
      api: this.api,
      send: (frame) => this.socket.send(frame),
      isReady: () => this.ready,
      isOpen: (room) => this.state.openRooms.includes(room),
      messages: () => this.state.messages,
      me: () => this.state.me.id,
      dispatch: (action) => this.dispatch(action),
      setFeed: (room, feed) => this.setFeed(room, feed),
      later: (task, ms) => this.later(task, ms),
    });
    this.watch = new RoomWatch({
      send: (frame) => this.socket.send(frame),
      now: () => this.now(),
      later: (task, ms) => this.later(task, ms),
    });
    this.draftExpiry = new DraftExpiry({
      now: () => this.now(),
      nextExpiry: () => selectNextDraftExpiry(this.state.messages),
      expire: (now) => this.dispatch({ type: 'drafts/expired', now }),
    });
  }

  // ---- observation (useSyncExternalStore) ----

  readonly subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): ChatState => this.state;

  // ---- lifecycle ----

  start(): void {
    this.socket.start();
    void this.refreshRooms();
  }

  stop(): void {
    this.socket.stop();
    this.outbox.stop();
    this.draftExpiry.stop();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.readTimer);
    clearTimeout(this.noticeTimer);
  }

  /** The person went away or came back (activity.ts): every connection's rooms learn it. */
  setAway(away: boolean): void {
    if (away === this.away) return;
    this.away = away;
    if (this.ready) this.socket.send({ type: 'status', status: away ? 'away' : 'active' });
  }

  retryConnection(): void {
    this.socket.retryNow();
  }

  /** The browser's `online` / `offline` events. */
  networkChanged(online: boolean): void {
    this.socket.networkChanged(online);
  }

  /** The page became visible again: what is on screen is read. */
  visibilityChanged(): void {
    if (!this.isVisible()) return;
    if (this.state.activeRoom !== null) this.scheduleRead(this.state.activeRoom);
    if (this.now() - this.roomsFetchedAt > ROOMS_STALE_MS) void this.refreshRooms();
  }

  // ---- rooms ----

  async refreshRooms(): Promise<void> {
    this.roomsFetchedAt = this.now();
    try {
      const rooms = await this.api.myRooms();
      this.set({ rooms: sortRooms(rooms), roomsError: null });
      this.placeDividers();
      this.syncWatch();
    } catch (error) {
      this.set({ roomsError: errorText(error, 'Could not load your rooms.') });
    }
  }

  openRoom(room: string): void {
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
    this.watch.forget(room);
    this.set({ activeRoom: room, openRooms: open, dividers });
    if (evicted !== undefined) this.closeFeed(evicted);
    const feed = this.feed(room);
    if (feed.status === 'idle' || feed.status === 'error') this.feeds.start(room);
    this.scheduleRead(room);
  }

  /** Back to the room list (narrow screens); the room stays followed. */
  closeRoomView(): void {
    this.set({ activeRoom: null });
  }

  reloadRoom(room: string): void {
    this.feeds.start(room);
  }

  searchRooms(query: string): Promise<Room[]> {
    return this.api.searchRooms(query.trim());
  }

  async createRoom(name: string, kind: NewRoomKind): Promise<void> {
    const room = await this.api.createRoom(name.trim(), kind);
    this.adopt(room, 'owner');
  }

  async joinRoom(room: string): Promise<void> {
    this.adopt(await this.api.joinRoom(room), 'member');
  }

  async openDirect(username: string): Promise<void> {
    const { room } = await this.api.openDirect(username.trim());
    this.adopt(room, 'member');
  }

  async invite(room: string, username: string): Promise<void> {
    await this.api.invite(room, username.trim());
  }

  async leaveRoom(room: string): Promise<void> {
    const label = this.roomName(room);
    await this.api.leaveRoom(room);
    this.watch.forget(room);
    this.closing.add(room);
    this.socket.send({ type: 'unsubscribe', room });
    this.dropRoom(room, `You left ${label}.`);
  }

  async loadOlder(room: string): Promise<void> {
    const timeline = selectTimeline(this.state.messages, room);
    const before = selectOldestSeq(this.state.messages, room);
    if (this.state.loadingOlder[room] === true || !timeline.hasOlder || before === null) return;
    this.set({ loadingOlder: { ...this.state.loadingOlder, [room]: true } });
    try {
      const page = await this.api.history(room, { before, limit: PAGE_SIZE });
      this.dispatch({ type: 'history/loaded', room, page, direction: 'older', me: this.state.me.id });
    } catch (error) {
      this.notify(errorText(error, 'Could not load older messages.', 'room'));
    } finally {
      this.set({ loadingOlder: { ...this.state.loadingOlder, [room]: false } });
    }
  }

  // ---- sending ----

  send(room: string, body: string): void {
    const clientMsgId = newClientMsgId();
    const replyTo = this.state.replying[room]?.id;
    if (replyTo !== undefined) this.cancelReply(room);
    this.dispatch({ type: 'send/queued', room, clientMsgId, body, sender: this.state.me, at: this.now(), replyTo });
    this.lastTypingSent.delete(room);
    this.outbox.transmit(room, clientMsgId);
  }

  /** Sends a failed message again, under the same client_msg_id (the server dedupes). */
  retry(room: string, clientMsgId: string): void {
    this.outbox.retry(room, clientMsgId);
  }

  /** The composer answers `message` (shown above it) until sent or cancelled. */
  startReply(room: string, message: ChatMessage): void {
    this.set({ replying: { ...this.state.replying, [room]: message } });
  }

  cancelReply(room: string): void {
    if (room in this.state.replying) this.set({ replying: roomDropped(this.state.replying, room) });
  }

  toggleReaction(room: string, message: ChatMessage, emoji: string): void {
    const mine = message.reactions?.some((r) => r.emoji === emoji && r.me) === true;
    if (mine) this.actions.unreact(room, message.id, emoji);
    else this.actions.react(room, message.id, emoji);
  }

  // ---- finding messages ----

  searchMessages(q: string, offset = 0): Promise<SearchResults> {
    return this.api.searchMessages(q.trim(), { offset });
  }

  /** Opens `room` at message `id` (seq `seq`), loading older pages if need be, and marks it (jump.ts). */
  jumpTo(room: string, id: string, seq: number): Promise<void> {
    return this.jumps.toMessage(room, id, seq);
  }

  /** A reply's original, brought into view. */
  jumpToReply(room: string, quoted: { id: string; seq?: number | undefined }): Promise<void> {
    return this.jumps.toReplied(room, quoted);
  }

  async report(room: string, message: string, reason: string): Promise<void> {
    try {
      await this.api.report(room, message, reason);
      this.notify('Reported to the room’s moderators.');
    } catch (error) {
      this.notify(errorText(error, 'Could not report the message.'));
    }
  }

  /** Tells the person something briefly (the notice's polite live region). */
  say(text: string): void {
    this.notify(text);
  }

  clearHighlight(nonce: number): void {
    if (this.state.highlight?.nonce === nonce) this.set({ highlight: null });
  }

  // ---- members and moderation ----

  async loadMembers(room: string): Promise<readonly Member[]> {
    const members = await this.api.members(room);
    this.set({ members: { ...this.state.members, [room]: members } });
    return members;
  }

  /** The HTTP API of messages and moderation (versions, reports, topic, roles, kicks, bans, slow mode). */
  get http() {
    return this.api;
  }

  typing(room: string): void {
    const last = this.lastTypingSent.get(room) ?? -Infinity;
    if (this.now() - last < TYPING_EVERY_MS || this.feed(room).status !== 'live') return;
    if (this.socket.send({ type: 'typing', room })) this.lastTypingSent.set(room, this.now());
  }

  // ---- socket events ----

  private onConnection(connection: ConnectionState): void {
    if (connection.status !== 'online') {
      this.ready = false;
      this.outbox.pause();
      this.feeds.reset();
      this.watch.reset();
      this.closing.clear();
      // Whatever a draft became meanwhile (sent, cancelled) comes with the resumed feeds, or not at all.
      this.dispatch({ type: 'drafts/cleared' });
      const feeds = Object.fromEntries(
        Object.entries(this.state.feeds).map(([room, feed]) => [room, feed.status === 'error' ? feed : idleFeed]),
      );
      this.set({ connection, feeds, presence: {}, typing: {} });
    } else {
      this.set({ connection });
    }
  }

  private onReady(hello: ServerFrameOf<'hello'>): void {
    this.ready = true;
    this.set({ limits: hello.limits });
    // before any subscribe, so that the rooms are joined away
    if (this.away) this.socket.send({ type: 'status', status: 'away' });
    this.watch.connect();
    for (const room of this.state.openRooms) this.feeds.start(room);
    // the list known so far at once, then the list as it is now (a feed frame may have been missed)
    this.syncWatch();
    void this.refreshRooms();
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'subscribed':
        return this.onSubscribed(frame);
      case 'message':
        return this.onMessage(frame);
      case 'ack':
        if (this.actions.acked(frame.client_msg_id)) return;
        this.outbox.settled(frame.client_msg_id);
        return this.dispatch({ type: 'send/acked', room: frame.room, clientMsgId: frame.client_msg_id, id: frame.id, seq: frame.seq });
      case 'error':
        return this.onError(frame);
      case 'resync':
        return void this.feeds.resync(frame.room, frame.reason === 'epoch' ? 'newest' : 'after');
      case 'presence':
        return this.set({ presence: presenceChanged(this.state.presence, frame.room, frame.user, frame.online, frame.status) });
      case 'typing':
        if (frame.user.id === this.state.me.id) return;
        return this.set({ typing: typingStarted(this.state.typing, frame.room, frame.user, this.now()) });
      case 'draft':
        return this.onDraft(frame);
      case 'member_left':
        if (frame.user.id === this.state.me.id) return this.dropRoom(frame.room, `You are no longer a member of ${this.roomName(frame.room)}.`);
        return this.set({ presence: presenceChanged(this.state.presence, frame.room, frame.user, false) });
      case 'room_added':
        return this.onRoomAdded(frame.room);
      case 'room_removed':
        return this.dropRoom(frame.room, removedNotice(frame.reason, this.roomName(frame.room)));
      case 'read':
        return this.set({ rooms: this.state.rooms && roomRead(this.state.rooms, frame.room, frame.seq) });
      case 'unsubscribed':
        this.watch.forget(frame.room);
        if (this.closing.delete(frame.room)) return;
        // Not asked for: membership ended elsewhere (another tab left the room).
        if (this.state.openRooms.includes(frame.room)) this.dropRoom(frame.room, `You are no longer a member of ${this.roomName(frame.room)}.`);
        return;
      case 'hello':
      case 'pong':
        return;
    }
  }

  private onSubscribed(frame: ServerFrameOf<'subscribed'>): void {
    const { room } = frame;
    if (!this.state.openRooms.includes(room)) {
      // a watched room: who is online there, nothing to load
      if (!this.watch.isWatched(room)) return;
      this.set({ presence: presenceReplaced(this.state.presence, room, frame.online) });
      // it moved between the list's fetch and this subscription: its counts are fetched again
      const known = this.state.rooms?.find((r) => r.id === room);
      if (known !== undefined && frame.head_seq > known.last_seq) this.refreshRoomsSoon();
      return;
    }
    const before = selectTimeline(this.state.messages, room).epoch;
    this.dispatch({ type: 'room/subscribed', room, epoch: frame.epoch, headSeq: frame.head_seq });
    this.set({ presence: presenceReplaced(this.state.presence, room, frame.online) });
    if (!this.feeds.isResyncing(room)) this.setFeed(room, { status: 'live' });
    if (before !== null && before !== 0 && frame.epoch !== before) {
      void this.feeds.resync(room, 'newest');
      return;
    }
    this.outbox.resend(room, selectResendable(this.state.messages, room));
  }

  private onMessage(frame: ServerFrameOf<'message'>): void {
    const { type: _type, ...message } = frame;
    this.onLiveMessage(message);
    if (!this.state.openRooms.includes(message.room)) return this.onWatchedMessage(message);
    const before = selectTimeline(this.state.messages, message.room).epoch;
    this.dispatch({ type: 'message/received', message, me: this.state.me.id });
    if (before !== null && before !== 0 && message.epoch !== before) void this.feeds.resync(message.room, 'newest');
    const own = message.sender.id === this.state.me.id;
    if (own) this.outbox.settled(message.client_msg_id);
    const seen = this.state.activeRoom === message.room && this.isVisible();
    const isMessage = opOf(message) === 'message';
    this.set({
      rooms:
        this.state.rooms &&
        messageArrived(this.state.rooms, message.room, message.seq, isMessage && !own && !seen, mentionsMe(message, this.state.me)),
      typing: isMessage ? typingStopped(this.state.typing, message.room, message.sender.id) : this.state.typing,
    });
    this.roomEvent(message);
    if (seen) this.scheduleRead(message.room);
  }

  /** A message of a room not open: only its counts move (nothing is kept). */
  private onWatchedMessage(message: ChatMessage): void {
    if (this.state.rooms === null) return;
    const own = message.sender.id === this.state.me.id;
    const unread = opOf(message) === 'message' && !own;
    this.set({ rooms: messageArrived(this.state.rooms, message.room, message.seq, unread, unread && mentionsMe(message, this.state.me)) });
    this.roomEvent(message);
  }

  /** The user's feed: a room more (invited, a direct room, created or joined elsewhere), or its entry anew. */
  private onRoomAdded(room: MyRoom): void {
    if (this.state.rooms === null) return; // the list being fetched has it
    const others = this.state.rooms.filter((r) => r.id !== room.id);
    this.set({ rooms: sortRooms([...others, room]) });
    if (!this.state.openRooms.includes(room.id)) this.syncWatch();
  }

  /** One list fetch a moment from now, however many rooms ask for it meanwhile. */
  private refreshRoomsSoon(): void {
    if (this.refreshPending) return;
    this.refreshPending = true;
    this.later(() => {
      this.refreshPending = false;
      void this.refreshRooms();
    }, ROOMS_CATCH_UP_MS);
  }

  /** Open rooms opened before the list was known get their divider now. */
  private placeDividers(): void {
    const rooms = this.state.rooms ?? [];
    const undecided = this.state.openRooms.filter((room) => !(room in this.state.dividers));
    if (undecided.length === 0) return;
    const decided = Object.fromEntries(undecided.map((room) => [room, dividerAfter(rooms.find((r) => r.id === room))]));
    this.set({ dividers: { ...this.state.dividers, ...decided } });
  }

  /** Watches every room of the list that is not open (watch.ts). */
  private syncWatch(): void {
    if (!this.ready || this.state.rooms === null) return;
    const limit = (this.state.limits?.max_rooms ?? DEFAULT_MAX_ROOMS) - this.state.openRooms.length;
    this.watch.sync(
      this.state.rooms.map((r) => r.id),
      this.state.openRooms,
      limit,
    );
  }

  /** Topic and moderation events change the room itself (roomEvents.ts). */
  private roomEvent(message: ChatMessage): void {
    const { room } = message;
    const effect = roomEffect(message, this.state.me.id);
    if (effect === null) return;
    if (effect.patch !== undefined) this.set({ rooms: this.state.rooms && roomChanged(this.state.rooms, room, effect.patch) });
    if (effect.removed === true) return this.dropRoom(room, `You were removed from ${this.roomName(room)}.`);
    if (effect.membersChanged === true && room in this.state.members) void this.loadMembers(room).catch(() => undefined);
  }

  /** A bot reply in progress: never unread, outside the seq order. */
  private onDraft(frame: ServerFrameOf<'draft'>): void {
    const { type: _type, ...draft } = frame;
    if (!this.state.openRooms.includes(draft.room)) return;
    this.dispatch({ type: 'draft/received', draft, at: this.now() });
    this.draftExpiry.arm();
  }

  private onError(frame: ServerFrameOf<'error'>): void {
    const { room, client_msg_id: clientMsgId } = frame;
    if (clientMsgId !== undefined) {
      if (this.actions.refused({ ...frame, client_msg_id: clientMsgId })) return;
      return this.outbox.refused({ ...frame, client_msg_id: clientMsgId });
    }
    if (room !== undefined && !this.state.openRooms.includes(room) && this.watch.isWatched(room)) {
      // a watch refused: tried again later when the server was busy, else left alone
      this.watch.forget(room);
      if (frame.code === 'unavailable' || frame.code === 'rate_limited') this.later(() => this.syncWatch(), RETRY_FEED_MS);
      return;
    }
    if (room === undefined || !this.state.openRooms.includes(room)) {
      // A late `not_subscribed` for a room already left is expected; anything else is a client bug.
      if (frame.code !== 'not_subscribed') console.warn('[chat] the server refused a frame', { code: frame.code });
      return;
    }
    switch (frame.code) {
      case 'not_subscribed':
        return this.feeds.subscribe(room);
      case 'unavailable':
      case 'rate_limited': {
        const error =
          frame.code === 'unavailable'
            ? 'The room is unavailable right now; trying again…'
            : 'Too many rooms are being resumed at once; trying again…';
        this.setFeed(room, { status: 'error', error });
        this.later(() => this.feeds.start(room), RETRY_FEED_MS);
        return;
      }
      case 'forbidden':
        return this.setFeed(room, { status: 'error', error: 'You are not a member of this room.' });
      case 'too_many_rooms':
        return this.setFeed(room, { status: 'error', error: 'Too many rooms are open at once. Leave one and try again.' });
      default:
        return this.setFeed(room, { status: 'error', error: 'The server refused to follow this room.' });
    }
  }

  // ---- leaving rooms ----

  private closeFeed(room: string): void {
    if (this.state.rooms?.some((r) => r.id === room) === true) {
      // still in the list: watched from now on (the subscribe without last_seq replaces its feed)
      this.dispatch({ type: 'room/forgotten', room });
      this.set({ feeds: roomDropped(this.state.feeds, room), typing: roomDropped(this.state.typing, room) });
      this.watch.watch(room);
      return;
    }
    this.closing.add(room);
    if (!this.socket.send({ type: 'unsubscribe', room })) this.closing.delete(room);
    this.dispatch({ type: 'room/forgotten', room });
    this.set({
      feeds: roomDropped(this.state.feeds, room),
      presence: roomDropped(this.state.presence, room),
      typing: roomDropped(this.state.typing, room),
    });
  }

  private dropRoom(room: string, notice: string): void {
    this.watch.forget(room);
    // told twice (the room's own event and the user's feed): once is enough
    if (this.state.rooms?.some((r) => r.id === room) !== true && !this.state.openRooms.includes(room)) return;
    this.dispatch({ type: 'room/forgotten', room });
    this.feeds.forget(room);
    this.set({
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
    this.notify(notice);
  }

  private adopt(room: Room, role: 'owner' | 'member'): void {
    this.set({ rooms: roomAdded(this.state.rooms ?? [], room, role) });
    this.openRoom(room.id);
  }

  // ---- read markers ----

  private scheduleRead(room: string): void {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => void this.markRead(room), READ_MARK_DELAY_MS);
  }

  private async markRead(room: string): Promise<void> {
    if (this.state.activeRoom !== room || !this.isVisible()) return;
    const last = selectTimeline(this.state.messages, room).messages.at(-1)?.seq;
    const known = this.state.rooms?.find((r) => r.id === room);
    if (last === undefined || known === undefined || (known.last_read_seq >= last && known.unread === 0)) return;
    try {
      await this.api.markRead(room, last);
      this.set({ rooms: this.state.rooms && roomRead(this.state.rooms, room, last) });
    } catch {
      // Unread counts are a convenience: the next read marker catches up.
    }
  }

  // ---- helpers ----

  private feed(room: string): Feed {
    return this.state.feeds[room] ?? idleFeed;
  }

  private setFeed(room: string, feed: Feed): void {
    this.set({ feeds: { ...this.state.feeds, [room]: feed } });
  }

  private roomName(room: string): string {
    const known = this.state.rooms?.find((r) => r.id === room);
    return known ? roomLabel(known) : 'the room';
  }

  private notify(notice: string): void {
    clearTimeout(this.noticeTimer);
    this.set({ notice });
    this.noticeTimer = setTimeout(() => this.set({ notice: null }), NOTICE_MS);
  }

  /** Resolves true once `check` holds (checked on every change), false after `ms`. */
  private until(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(ok);
      };
      const listener = () => {
        if (check()) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      this.listeners.add(listener);
    });
  }

  private later(task: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
  }

  private dispatch(action: MessagesAction): void {
    const messages = messagesReducer(this.state.messages, action);
    if (messages !== this.state.messages) this.set({ messages });
  }

  private set(patch: Partial<ChatState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

/** What a `room_removed` tells the person. */
function removedNotice(reason: 'left' | 'kicked' | 'banned', label: string): string {
  if (reason === 'left') return `You left ${label}.`;
  if (reason === 'banned') return `You were banned from ${label}.`;
  return `You were removed from ${label}.`;
}
