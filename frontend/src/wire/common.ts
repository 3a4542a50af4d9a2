// Building blocks shared by the WebSocket frames and the HTTP bodies.
// Each schema mirrors a Rust type; the comment names it.
import { z } from 'zod';

// The site's Content-Security-Policy has no 'unsafe-eval': keep zod from
// compiling validators with `new Function` (and from probing whether it may).
z.config({ jitless: true });

/** `uuid::Uuid`, serialised hyphenated. Any 128-bit value, so not only RFC versions. */
export const Uuid = z.guid();

/** `i64` sequence numbers and counters. JSON numbers stay exact up to 2^53. */
export const Seq = z.int().nonnegative();

/** `u64` room epoch: milliseconds since 1970 when it was (re)started; 0 means "unknown". */
export const Epoch = z.int().nonnegative();

/** `chrono::DateTime<Utc>`, RFC 3339. */
export const Timestamp = z.iso.datetime({ offset: true });

/** `ws::protocol::UserRef` and `db::users::User`. */
export const UserRef = z.object({
  id: Uuid,
  username: z.string().min(1),
});
export type UserRef = z.infer<typeof UserRef>;

/** `chat_core::MessageKind`. */
export const MessageKind = z.enum(['user', 'bot', 'system']);
export type MessageKind = z.infer<typeof MessageKind>;

/** `domain::RoomKind`. */
export const RoomKind = z.enum(['public', 'private', 'direct']);
export type RoomKind = z.infer<typeof RoomKind>;

/** `domain::NewRoomKind`: the kinds a user may create. */
export const NewRoomKind = z.enum(['public', 'private']);
export type NewRoomKind = z.infer<typeof NewRoomKind>;

/** `domain::MemberRole`. */
export const MemberRole = z.enum(['owner', 'moderator', 'member']);
export type MemberRole = z.infer<typeof MemberRole>;

/** `chat_wire::event::EventOp`: what a sequenced room event does. */
export const EventOp = z.enum(['message', 'edit', 'delete', 'react', 'unreact', 'topic', 'moderation']);
export type EventOp = z.infer<typeof EventOp>;

/** `chat_wire::event::ModAction`. */
export const ModAction = z.enum(['kick', 'ban', 'unban', 'slow_mode', 'role']);
export type ModAction = z.infer<typeof ModAction>;

/** `chat_wire::event::Moderation`: what a moderation event did. */
export const Moderation = z.object({
  action: ModAction,
  user: UserRef.optional(),
  seconds: z.int().nonnegative().optional(),
  role: z.enum(['moderator', 'member']).optional(),
});
export type Moderation = z.infer<typeof Moderation>;

/** A present reaction of a message (history): who reacted, the first 50 by seq. */
export const Reaction = z.object({
  emoji: z.string().min(1),
  count: z.int().nonnegative(),
  users: z.array(UserRef),
  /** The caller reacted with it. */
  me: z.boolean(),
});
export type Reaction = z.infer<typeof Reaction>;

/** The message a reply answers, as history shows it (body: its first 200 characters). */
export const ReplyPreview = z.object({
  id: Uuid,
  seq: z.int().positive(),
  sender: UserRef,
  body: z.string(),
  deleted: z.boolean(),
});
export type ReplyPreview = z.infer<typeof ReplyPreview>;

/**
 * A sequenced room event, as both the `message` frame and a history page carry
 * it (`ws::protocol::MessageFrame` without its tag, `http::history::HistoryMessage`).
 * Every op advances the room's seq. `op` is absent only from servers older than
 * issue 13 (then it is a message). The state fields (`edited_at` to
 * `reply_preview`) come with history rows of op `message` only.
 */
export const ChatMessage = z.object({
  room: Uuid,
  seq: z.int().positive(),
  epoch: Epoch,
  id: Uuid,
  sender: UserRef,
  client_msg_id: z.string(),
  kind: MessageKind,
  /** Plain text (Markdown at most): rendered as React elements, never as HTML. */
  body: z.string(),
  sent_at: Timestamp,
  op: EventOp.optional(),
  /** The message an edit, delete, react or unreact is about. */
  target: Uuid.optional(),
  /** The message this one answers (op message). */
  reply_to: Uuid.optional(),
  /** react, unreact. */
  emoji: z.string().optional(),
  /** Ids of the users the body mentions (omitted when none). */
  mentions: z.array(Uuid).optional(),
  /** `@room` by an owner or moderator (omitted when false). */
  mention_room: z.boolean().optional(),
  moderation: Moderation.optional(),
  edited_at: Timestamp.nullable().optional(),
  edit_seq: z.int().positive().nullable().optional(),
  deleted: z.boolean().optional(),
  /** The greatest seq of an event folded into this message (its own seq if none). */
  state_seq: z.int().positive().optional(),
  reactions: z.array(Reaction).optional(),
  reply_preview: ReplyPreview.nullable().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** `chat_wire::client::Status`: whether the person behind a user's connections is at it. */
export const PresenceStatus = z.enum(['active', 'away']);
export type PresenceStatus = z.infer<typeof PresenceStatus>;

/** `presence_page::OnlineUser`: away while every connection of theirs in the room is away. */
export const OnlineUser = UserRef.extend({ status: PresenceStatus });
export type OnlineUser = z.infer<typeof OnlineUser>;
