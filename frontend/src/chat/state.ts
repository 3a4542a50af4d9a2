// The whole client-side chat state the UI renders, as one immutable snapshot.
import type { ConnectionState } from '../api/socket';
import { emptyMessages, type MessagesState } from '../store/messages';
import type { ChatMessage, Limits, Member, MyRoom, UserRef } from '../wire';
import type { Presence, Typing } from './presence';

/** Where a room's live feed stands. */
export type FeedStatus = 'idle' | 'loading' | 'subscribing' | 'live' | 'resyncing' | 'error';

export interface Feed {
  readonly status: FeedStatus;
  /** What went wrong, for people (status `error`). */
  readonly error?: string;
}

export interface ChatState {
  readonly me: UserRef;
  readonly connection: ConnectionState;
  readonly limits: Limits | null;
  /** The caller's rooms with unread counts; null until first loaded. */
  readonly rooms: readonly MyRoom[] | null;
  readonly roomsError: string | null;
  readonly activeRoom: string | null;
  /** Rooms followed on the socket, least recently opened first. */
  readonly openRooms: readonly string[];
  readonly feeds: Readonly<Record<string, Feed>>;
  readonly messages: MessagesState;
  readonly presence: Presence;
  readonly typing: Typing;
  readonly loadingOlder: Readonly<Record<string, boolean>>;
  /** A short message for a polite live region ("You left #general"). */
  readonly notice: string | null;
  /** Per room, the message the composer answers. */
  readonly replying: Readonly<Record<string, ChatMessage>>;
  /** A message to bring into view and mark briefly (a reply's original, a search result). */
  readonly highlight: { readonly room: string; readonly id: string; readonly seq: number; readonly nonce: number } | null;
  /** Per room, its members (fetched when asked: mentions, moderation). */
  readonly members: Readonly<Record<string, readonly Member[]>>;
  /** Per open room, the read marker it had when opened: "New messages" goes above the first message after it (null: none). */
  readonly dividers: Readonly<Record<string, number | null>>;
}

export function initialChatState(me: UserRef): ChatState {
  return {
    me,
    connection: { status: 'idle', attempt: 0, retryAt: null },
    limits: null,
    rooms: null,
    roomsError: null,
    activeRoom: null,
    openRooms: [],
    feeds: {},
    messages: emptyMessages,
    presence: {},
    typing: {},
    loadingOlder: {},
    notice: null,
    replying: {},
    highlight: null,
    members: {},
    dividers: {},
  };
}

export const idleFeed: Feed = { status: 'idle' };
