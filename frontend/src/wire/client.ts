// Frames the client sends (`ws::protocol::ClientFrame`). The server refuses
// unknown fields (`deny_unknown_fields`), hence strict objects.
import { z } from 'zod';
import { Epoch, Seq, Uuid } from './common';

/** Longest body the server takes, in Unicode characters (`hello.limits.max_body_chars` may say less). */
export const MAX_BODY_CHARS = 4000;
/** Longest `client_msg_id`, in UTF-8 bytes. */
export const MAX_CLIENT_MSG_ID_BYTES = 64;

const utf8 = new TextEncoder();

/** Characters as Rust counts them (`str::chars`): code points, not UTF-16 units. */
export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

export const ClientMsgId = z
  .string()
  .refine((id) => {
    const bytes = utf8.encode(id).length;
    return bytes >= 1 && bytes <= MAX_CLIENT_MSG_ID_BYTES;
  }, 'client_msg_id must be 1 to 64 bytes');

export const MessageBody = z
  .string()
  .refine((body) => {
    const chars = charCount(body);
    return chars >= 1 && chars <= MAX_BODY_CHARS;
  }, 'a message body is 1 to 4000 characters');

export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  room: Uuid,
  last_seq: Seq.optional(),
  epoch: Epoch.optional(),
});

export const UnsubscribeFrame = z.strictObject({
  type: z.literal('unsubscribe'),
  room: Uuid,
});

export const SendFrame = z.strictObject({
  type: z.literal('send'),
  room: Uuid,
  client_msg_id: ClientMsgId,
  body: MessageBody,
  /** The message this one answers (same room, op message, not deleted). */
  reply_to: Uuid.optional(),
});

/** Changes the text of one's own message. */
export const EditFrame = z.strictObject({
  type: z.literal('edit'),
  room: Uuid,
  client_msg_id: ClientMsgId,
  message: Uuid,
  body: MessageBody,
});

/** Deletes one's own message (or any, as the room's owner or a moderator). */
export const DeleteFrame = z.strictObject({
  type: z.literal('delete'),
  room: Uuid,
  client_msg_id: ClientMsgId,
  message: Uuid,
});

export const ReactFrame = z.strictObject({
  type: z.literal('react'),
  room: Uuid,
  client_msg_id: ClientMsgId,
  message: Uuid,
  emoji: z.string().min(1).max(64),
});

export const UnreactFrame = z.strictObject({
  type: z.literal('unreact'),
  room: Uuid,
  client_msg_id: ClientMsgId,
  message: Uuid,
  emoji: z.string().min(1).max(64),
});

export const ClientTypingFrame = z.strictObject({
  type: z.literal('typing'),
  room: Uuid,
});

export const PingFrame = z.strictObject({
  type: z.literal('ping'),
  nonce: z.int().nonnegative().optional(),
});

export const AuthFrame = z.strictObject({
  type: z.literal('auth'),
  token: z.string().min(1),
});

/** The person behind this connection is away (no input for a while) or back. */
export const StatusFrame = z.strictObject({
  type: z.literal('status'),
  status: z.enum(['active', 'away']),
});

export const ClientFrame = z.discriminatedUnion('type', [
  SubscribeFrame,
  UnsubscribeFrame,
  SendFrame,
  EditFrame,
  DeleteFrame,
  ReactFrame,
  UnreactFrame,
  ClientTypingFrame,
  PingFrame,
  AuthFrame,
  StatusFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientFrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>;
