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
export const MemberRole = z.enum(['owner', 'member']);
export type MemberRole = z.infer<typeof MemberRole>;

/**
 * A sequenced message, as both the `message` frame and a history page carry it
 * (`ws::protocol::MessageFrame` without its tag, `http::history::HistoryMessage`).
 */
export const ChatMessage = z.object({
  room: Uuid,
  seq: z.int().positive(),
  epoch: Epoch,
  id: Uuid,
  sender: UserRef,
  client_msg_id: z.string(),
  kind: MessageKind,
  /** Plain text: rendered as text, never as HTML. */
  body: z.string(),
  sent_at: Timestamp,
});
export type ChatMessage = z.infer<typeof ChatMessage>;
