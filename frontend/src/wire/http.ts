// Bodies of the HTTP API (`/api/...`), as `gateway/src/http` serialises them.
import { z } from 'zod';
import { ChatMessage, MemberRole, OnlineUser, RoomKind, Seq, Timestamp, UserRef, Uuid } from './common';

/** `db::users::User` (`GET /api/me`). */
export const User = UserRef;
export type User = z.infer<typeof User>;

/** `http::accounts::Session`: sign-up, log-in and refresh. */
export const Session = z.object({
  user: User,
  access_token: z.string().min(1),
  token_type: z.string(),
  /** Seconds until the access token expires. */
  expires_in: z.int().nonnegative(),
});
export type Session = z.infer<typeof Session>;

/** `http::tickets::Ticket` (`POST /api/ws-ticket`). */
export const Ticket = z.object({
  ticket: z.string().min(1),
  expires_in: z.int().nonnegative(),
});
export type Ticket = z.infer<typeof Ticket>;

/** `db::rooms::Room`: search results, a created or joined room. */
export const Room = z.object({
  id: Uuid,
  /** For a direct room: the other member's username. */
  name: z.string(),
  kind: RoomKind,
  created_at: Timestamp,
  member_count: z.int().nonnegative().optional(),
  topic: z.string().nullable().optional(),
  slow_mode_seconds: z.int().nonnegative().optional(),
  /** The caller's role, when a member. */
  role: MemberRole.optional(),
});
export type Room = z.infer<typeof Room>;

/** `db::rooms::MyRoom` (`GET /api/rooms/mine`). */
export const MyRoom = z.object({
  id: Uuid,
  name: z.string(),
  kind: RoomKind,
  created_at: Timestamp,
  role: MemberRole,
  /** The room's highest stored seq (0: no message yet). */
  last_seq: Seq,
  last_read_seq: Seq,
  unread: Seq,
  /** Unread messages that mention the caller by name or `@room` (capped at 1,000). */
  mentions: Seq.optional(),
  topic: z.string().nullable().optional(),
  slow_mode_seconds: z.int().nonnegative().optional(),
});
export type MyRoom = z.infer<typeof MyRoom>;

/** `http::online::OnlinePage` (`GET /api/rooms/{id}/online`): users by id. */
export const OnlinePage = z.object({
  online: z.array(OnlineUser),
  /** How many users are online in the room in all. */
  online_count: z.int().nonnegative(),
  /** The `after` of the next page; null on the last page. */
  next: Uuid.nullable(),
});
export type OnlinePage = z.infer<typeof OnlinePage>;

/** `db::rooms::Member`. */
export const Member = z.object({
  id: Uuid,
  username: z.string(),
  role: MemberRole,
});
export type Member = z.infer<typeof Member>;

/** `http::rooms::DirectRoom` (`POST /api/dm`). */
export const DirectRoom = z.object({ room: Room });
export type DirectRoom = z.infer<typeof DirectRoom>;

/** `http::history::History` (`GET /api/rooms/{id}/messages`), in seq order. */
export const HistoryPage = z.object({
  messages: z.array(ChatMessage),
  /** More messages lie beyond this page in the direction asked for. */
  has_more: z.boolean(),
});
export type HistoryPage = z.infer<typeof HistoryPage>;

/** `error::ErrorBody`: every error answer. */
export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** `GET /api/rooms/{id}/messages/{message_id}/versions`: the original first, then each edit. */
export const MessageVersions = z.object({
  versions: z.array(z.object({ seq: z.int().positive(), body: z.string(), edited_at: Timestamp })),
});
export type MessageVersions = z.infer<typeof MessageVersions>;

/** A part of a search result's snippet: `hit` parts matched the query. Text, never HTML. */
export const SnippetPart = z.object({ text: z.string(), hit: z.boolean() });
export type SnippetPart = z.infer<typeof SnippetPart>;

/** `GET /api/search`. */
export const SearchResults = z.object({
  results: z.array(
    z.object({
      room: z.object({ id: Uuid, name: z.string() }),
      id: Uuid,
      seq: z.int().positive(),
      sender: UserRef,
      sent_at: Timestamp,
      snippet: z.array(SnippetPart),
    }),
  ),
  has_more: z.boolean(),
});
export type SearchResults = z.infer<typeof SearchResults>;
export type SearchResult = SearchResults['results'][number];

/** An open report of a message (`GET /api/rooms/{id}/reports`). */
export const Report = z.object({
  id: Uuid,
  message: z.object({ id: Uuid, seq: z.int().positive(), sender: UserRef, body: z.string() }),
  reporter: UserRef,
  reason: z.string(),
  created_at: Timestamp,
});
export type Report = z.infer<typeof Report>;
export const ReportList = z.union([z.array(Report), z.object({ reports: z.array(Report) }).transform((r) => r.reports)]);

export const RoomList = z.array(Room);
export const MyRoomList = z.array(MyRoom);
export const MemberList = z.array(Member);
