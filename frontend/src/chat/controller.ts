// The chat controller: joins the HTTP API, the socket and the pure stores into
// one observable state for the UI, and is the UI's one handle on the chat. It
// builds its parts and wires them together: the state and its listeners
// (chatStore.ts), the connection's lifecycle (connection.ts), the server's frames
// (frames.ts), room feeds (feeds.ts: history, then `subscribe` with the resume
// point, resync), own messages and their resends (sending.ts, outbox.ts),
// edits, deletes and reactions (actions.ts), the rooms opened, joined and left
// (membership.ts), the room list and the rooms watched live beside the open
// ones (roomList.ts, watch.ts), read markers (readMarks.ts), jumps to a message
// (jump.ts), who is online in the room on screen (presenceFeed.ts) and the bot's
// drafts' expiry (draftExpiry.ts).
import type { ChatApi } from '../api/endpoints';
import type { SocketEvents } from '../api/socket';
import { selectNextDraftExpiry, selectOldestSeq, selectPending, selectTimeline } from '../store/messages';
import type { ChatMessage, ClientFrame, Member, NewRoomKind, Room, SearchResults, UserRef } from '../wire';
import { MessageActions } from './actions';
import { Connection } from './connection';
import { ChatStore } from './chatStore';
import { DraftExpiry } from './draftExpiry';
import { errorText } from './errors';
import { PAGE_SIZE, RoomFeeds } from './feeds';
import { FrameHandler } from './frames';
import { Jumps } from './jump';
import { Membership } from './membership';
import { Outbox } from './outbox';
import { PresenceFeed } from './presenceFeed';
import { ReadMarks } from './readMarks';
import { RoomList } from './roomList';
import { Sending } from './sending';
import type { ChatState } from './state';
import { RoomWatch } from './watch';

export { MAX_OPEN_ROOMS } from './membership';

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

/** How long a message brought into view stays marked. */
export const HIGHLIGHT_MS = 2_500;

export class ChatController {
  private readonly store: ChatStore;
  private readonly socket: SocketLike;
  private readonly api: ChatApi;
  private readonly now: () => number;
  private readonly isVisible: () => boolean;
  private readonly outbox: Outbox;
  private readonly feeds: RoomFeeds;
  private readonly draftExpiry: DraftExpiry;
  private readonly watch: RoomWatch;
  /** Edits, deletes and reactions on their way. */
  readonly actions: MessageActions;
  private readonly jumps: Jumps;
  private readonly reads: ReadMarks;
  private readonly roomList: RoomList;
  private readonly membership: Membership;
  private readonly connection: Connection;
  private readonly sending: Sending;
  private readonly presence: PresenceFeed;
  private readonly frames: FrameHandler;
  private highlightNonce = 0;

  constructor(deps: ChatControllerDeps) {
    this.api = deps.api;
    this.now = deps.now ?? Date.now;
    this.isVisible = deps.isVisible ?? (() => true);
    const store = (this.store = new ChatStore(deps.me));
    this.socket = deps.createSocket({
      onReady: (hello) => this.connection.connected(hello),
      onFrame: (frame) => this.frames.handle(frame),
      onState: (connection) => this.connection.stateChanged(connection),
      onAuthLost: () => store.set({ notice: 'Your session has ended. Please log in again.' }),
    });
    const send = (frame: ClientFrame) => this.socket.send(frame);
    const now = () => this.now();
    this.outbox = new Outbox({
      send,
      dispatch: (action) => store.dispatch(action),
      pending: (room, clientMsgId) => selectPending(store.state.messages, room, clientMsgId),
      isLive: (room) => store.feed(room).status === 'live',
      now,
    });
    this.jumps = new Jumps({
      api: this.api,
      state: () => store.state,
      open: (room) => {
        if (store.state.activeRoom !== room || !store.state.openRooms.includes(room)) this.openRoom(room);
      },
      highlight: (room, id, seq) => {
        this.highlightNonce += 1;
        store.set({ highlight: { room, id, seq, nonce: this.highlightNonce } });
      },
      olderLoaded: (room, page) => store.dispatch({ type: 'history/loaded', room, page, direction: 'older', me: store.state.me.id }),
      notify: (text) => store.notify(text),
      until: (check, ms) => store.until(check, ms),
    });
    this.actions = new MessageActions({ send, notify: (text) => store.notify(text) });
    this.feeds = new RoomFeeds({
      api: this.api,
      send,
      isReady: () => this.connection.isReady(),
      isOpen: (room) => store.state.openRooms.includes(room),
      messages: () => store.state.messages,
      me: () => store.state.me.id,
      dispatch: (action) => store.dispatch(action),
      setFeed: (room, feed) => store.setFeed(room, feed),
      later: (task, ms) => store.later(task, ms),
      now,
    });
    this.watch = new RoomWatch({ send, now, later: (task, ms) => store.later(task, ms) });
    this.draftExpiry = new DraftExpiry({
      now,
      nextExpiry: () => selectNextDraftExpiry(store.state.messages),
      expire: (at) => store.dispatch({ type: 'drafts/expired', now: at }),
    });
    this.reads = new ReadMarks({ api: this.api, store, isVisible: () => this.isVisible() });
    const shown = (room: string) => this.reads.schedule(room);
    this.roomList = new RoomList({ api: this.api, store, watch: this.watch, now, isReady: () => this.connection.isReady() });
    this.membership = new Membership({ api: this.api, store, send, feeds: this.feeds, watch: this.watch, shown });
    this.presence = new PresenceFeed({
      api: this.api,
      store,
      isOpen: (room) => store.state.openRooms.includes(room),
      later: (task, ms) => store.later(task, ms),
    });
    this.connection = new Connection({
      store,
      send,
      outbox: this.outbox,
      feeds: this.feeds,
      watch: this.watch,
      membership: this.membership,
      roomList: this.roomList,
      presence: this.presence,
    });
    this.sending = new Sending({ store, send, outbox: this.outbox, actions: this.actions, now });
    this.frames = new FrameHandler({
      store,
      feeds: this.feeds,
      outbox: this.outbox,
      actions: this.actions,
      watch: this.watch,
      draftExpiry: this.draftExpiry,
      roomList: this.roomList,
      membership: this.membership,
      presence: this.presence,
      shown,
      loadMembers: (room) => this.loadMembers(room),
      onLiveMessage: deps.onLiveMessage ?? (() => {}),
      isVisible: () => this.isVisible(),
      now,
    });
  }

  // ---- observation (useSyncExternalStore) ----

  readonly subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);

  readonly getState = (): ChatState => this.store.state;

  // ---- lifecycle ----

  start(): void {
    this.socket.start();
    void this.roomList.refresh();
  }

  stop(): void {
    this.socket.stop();
    this.outbox.stop();
    this.draftExpiry.stop();
    this.store.stop();
    this.reads.stop();
  }

  /** The person went away or came back (activity.ts): every connection's rooms learn it. */
  setAway(away: boolean): void {
    this.connection.setAway(away);
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
    const { activeRoom } = this.store.state;
    if (activeRoom !== null) this.reads.schedule(activeRoom);
    this.roomList.refreshIfStale();
  }

  // ---- rooms ----

  refreshRooms(): Promise<void> {
    return this.roomList.refresh();
  }

  openRoom(room: string): void {
    this.membership.open(room);
  }

  /** Back to the room list (narrow screens); the room stays followed. */
  closeRoomView(): void {
    this.store.set({ activeRoom: null });
  }

  reloadRoom(room: string): void {
    this.feeds.start(room);
  }

  searchRooms(query: string): Promise<Room[]> {
    return this.api.searchRooms(query.trim());
  }

  createRoom(name: string, kind: NewRoomKind): Promise<void> {
    return this.membership.create(name, kind);
  }

  joinRoom(room: string): Promise<void> {
    return this.membership.join(room);
  }

  openDirect(username: string): Promise<void> {
    return this.membership.openDirect(username);
  }

  async invite(room: string, username: string): Promise<void> {
    await this.api.invite(room, username.trim());
  }

  leaveRoom(room: string): Promise<void> {
    return this.membership.leave(room);
  }

  async loadOlder(room: string): Promise<void> {
    const { store } = this;
    const timeline = selectTimeline(store.state.messages, room);
    const before = selectOldestSeq(store.state.messages, room);
    if (store.state.loadingOlder[room] === true || !timeline.hasOlder || before === null) return;
    store.set({ loadingOlder: { ...store.state.loadingOlder, [room]: true } });
    try {
      const page = await this.api.history(room, { before, limit: PAGE_SIZE });
      store.dispatch({ type: 'history/loaded', room, page, direction: 'older', me: store.state.me.id });
    } catch (error) {
      store.notify(errorText(error, 'Could not load older messages.', 'room'));
    } finally {
      store.set({ loadingOlder: { ...store.state.loadingOlder, [room]: false } });
    }
  }

  // ---- sending ----

  send(room: string, body: string): void {
    this.sending.send(room, body);
  }

  /** Sends a failed message again, under the same client_msg_id (the server dedupes). */
  retry(room: string, clientMsgId: string): void {
    this.sending.retry(room, clientMsgId);
  }

  /** The composer answers `message` (shown above it) until sent or cancelled. */
  startReply(room: string, message: ChatMessage): void {
    this.sending.startReply(room, message);
  }

  cancelReply(room: string): void {
    this.sending.cancelReply(room);
  }

  toggleReaction(room: string, message: ChatMessage, emoji: string): void {
    this.sending.toggleReaction(room, message, emoji);
  }

  typing(room: string): void {
    this.sending.typing(room);
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
      this.store.notify('Reported to the room’s moderators.');
    } catch (error) {
      this.store.notify(errorText(error, 'Could not report the message.'));
    }
  }

  /** Tells the person something briefly (the notice's polite live region). */
  say(text: string): void {
    this.store.notify(text);
  }

  clearHighlight(nonce: number): void {
    if (this.store.state.highlight?.nonce === nonce) this.store.set({ highlight: null });
  }

  // ---- members and moderation ----

  async loadMembers(room: string): Promise<readonly Member[]> {
    const members = await this.api.members(room);
    this.store.set({ members: { ...this.store.state.members, [room]: members } });
    return members;
  }

  /** The HTTP API of messages and moderation (versions, reports, topic, roles, kicks, bans, slow mode). */
  get http() {
    return this.api;
  }
}
