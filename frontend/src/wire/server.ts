// Frames the server sends (`ws::protocol::ServerFrame` and `MessageFrame`).
import { z } from 'zod';
import { ChatMessage, Epoch, PresenceStatus, Seq, UserRef, Uuid } from './common';
import { MyRoom } from './http';

/** `ws::protocol::Limits`, sent in `hello`. */
export const Limits = z.object({
  max_body_chars: z.int().positive(),
  max_message_bytes: z.int().positive(),
  messages_per_sec: z.int().nonnegative(),
  messages_burst: z.int().nonnegative(),
  max_rooms: z.int().nonnegative(),
});
export type Limits = z.infer<typeof Limits>;

/** `ws::protocol::ErrorCode`. */
export const ErrorCode = z.enum([
  'bad_frame',
  'invalid',
  'forbidden',
  'rate_limited',
  'too_many_rooms',
  'not_subscribed',
  'unavailable',
  'unauthenticated',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const HelloFrame = z.object({
  type: z.literal('hello'),
  protocol: z.int(),
  server: z.string(),
  session: z.string(),
  user: UserRef,
  heartbeat_ms: z.int().positive(),
  limits: Limits,
});

export const SubscribedFrame = z.object({
  type: z.literal('subscribed'),
  room: Uuid,
  epoch: Epoch,
  head_seq: Seq,
  /** The seq the room's epoch started from: one at or below it that history lacks never existed. */
  base_seq: Seq,
  /** How many users are online in the room (you included); who they are is `GET /api/rooms/{id}/online`. */
  online_count: z.int().nonnegative(),
});

export const UnsubscribedFrame = z.object({
  type: z.literal('unsubscribed'),
  room: Uuid,
});

export const MessageFrame = ChatMessage.extend({
  type: z.literal('message'),
});

export const AckFrame = z.object({
  type: z.literal('ack'),
  room: Uuid,
  client_msg_id: z.string(),
  id: Uuid,
  seq: z.int().positive(),
  epoch: Epoch,
});

export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: ErrorCode,
  message: z.string(),
  room: Uuid.optional(),
  client_msg_id: z.string().optional(),
  /** With `rate_limited`, when the server knows the wait (slow mode always says). */
  retry_after_ms: z.int().nonnegative().optional(),
});

export const ResyncFrame = z.object({
  type: z.literal('resync'),
  room: Uuid,
  /** `lagging`, `gap`, `interrupted` or `epoch` today; a `&str` in Rust, so any text. */
  reason: z.string(),
});

export const PresenceFrame = z.object({
  type: z.literal('presence'),
  room: Uuid,
  user: UserRef,
  online: z.boolean(),
  /** While online: `away` when every connection of theirs is away. */
  status: PresenceStatus.optional(),
});

export const TypingFrame = z.object({
  type: z.literal('typing'),
  room: Uuid,
  user: UserRef,
});

export const MemberLeftFrame = z.object({
  type: z.literal('member_left'),
  room: Uuid,
  user: UserRef,
});

/** `chat_core::live::DraftState`. */
export const DraftState = z.enum(['streaming', 'cancelled']);
export type DraftState = z.infer<typeof DraftState>;

/**
 * `chat_core::live::DraftFrame`: the bot's reply while it is written. Not
 * sequenced, never stored, may be lost or repeated; `body` is the whole text
 * so far (not a delta), plain text like a message's.
 */
export const DraftFrame = z.object({
  type: z.literal('draft'),
  room: Uuid,
  /** The id the final `message` (kind `bot`) will have. */
  id: Uuid,
  /** The message this replies to (the mention). */
  reply_to: Uuid,
  sender: UserRef,
  body: z.string(),
  state: DraftState,
});
export type DraftFrame = z.infer<typeof DraftFrame>;

export const PongFrame = z.object({
  type: z.literal('pong'),
  nonce: z.int().nonnegative().optional(),
});

/** The user's feed: a room more in their list (one entry of `GET /api/rooms/mine`). */
export const RoomAddedFrame = z.object({
  type: z.literal('room_added'),
  room: MyRoom,
});

/** `ws::protocol::RemovedReason`. */
export const RemovedReason = z.enum(['left', 'kicked', 'banned']);
export type RemovedReason = z.infer<typeof RemovedReason>;

/** The user's feed: a room out of their list. */
export const RoomRemovedFrame = z.object({
  type: z.literal('room_removed'),
  room: Uuid,
  reason: RemovedReason,
});

/** The user's feed: their read marker of a room moved forward (any device). */
export const ReadFrame = z.object({
  type: z.literal('read'),
  room: Uuid,
  seq: Seq,
});

export const ServerFrame = z.discriminatedUnion('type', [
  HelloFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  MessageFrame,
  AckFrame,
  ErrorFrame,
  ResyncFrame,
  PresenceFrame,
  TypingFrame,
  MemberLeftFrame,
  DraftFrame,
  PongFrame,
  RoomAddedFrame,
  RoomRemovedFrame,
  ReadFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type ServerFrameType = ServerFrame['type'];
export type ServerFrameOf<T extends ServerFrameType> = Extract<ServerFrame, { type: T }>;

export const SERVER_FRAME_TYPES: readonly ServerFrameType[] = ServerFrame.options.map(
  (option) => option.shape.type.value,
);
