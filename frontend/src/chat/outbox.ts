// The caller's outgoing messages: sends them when their room is live, times
// them out, resends them under the same client_msg_id (after a reconnect, once
// by itself after `unavailable`, and when the person asks), and settles them
// on ack, delivery or error. The states live in the message store.
import type { MessagesAction, PendingMessage } from '../store/messages';
import type { ClientFrame, ServerFrameOf } from '../wire';
import { sendErrorText } from './errors';

/** An own message not acknowledged within this is shown as failed (with Retry). */
export const SEND_TIMEOUT_MS = 10_000;
/** Wait before resending a message the server could not make durable (`unavailable`). */
export const UNAVAILABLE_RESEND_MS = 1_500;

export interface OutboxDeps {
  send: (frame: ClientFrame) => boolean;
  dispatch: (action: MessagesAction) => void;
  pending: (room: string, clientMsgId: string) => PendingMessage | undefined;
  isLive: (room: string) => boolean;
  now?: () => number;
}

export class Outbox {
  private readonly timeouts = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly resends = new Set<ReturnType<typeof setTimeout>>();
  private readonly resentOnce = new Set<string>();

  constructor(private readonly deps: OutboxDeps) {}

  /** Sends a queued message now if its room is live; otherwise it waits for `resend`. */
  transmit(room: string, clientMsgId: string): void {
    const pending = this.deps.pending(room, clientMsgId);
    if (pending?.state !== 'sending' || !this.deps.isLive(room)) return;
    const frame: ClientFrame = {
      type: 'send',
      room,
      client_msg_id: clientMsgId,
      body: pending.body,
      ...(pending.replyTo !== undefined ? { reply_to: pending.replyTo } : {}),
    };
    if (!this.deps.send(frame)) return;
    clearTimeout(this.timeouts.get(clientMsgId));
    this.timeouts.set(
      clientMsgId,
      setTimeout(() => {
        this.timeouts.delete(clientMsgId);
        this.deps.dispatch({ type: 'send/timedOut', room, clientMsgId });
      }, SEND_TIMEOUT_MS),
    );
  }

  /** Sends every message of the room still waiting, or failed for want of an answer (its feed is live again). */
  resend(room: string, waiting: readonly PendingMessage[]): void {
    for (const pending of waiting) {
      if (pending.state === 'failed') this.retry(room, pending.clientMsgId);
      else this.transmit(room, pending.clientMsgId);
    }
  }

  retry(room: string, clientMsgId: string): void {
    this.resentOnce.delete(clientMsgId);
    this.deps.dispatch({ type: 'send/retried', room, clientMsgId });
    this.transmit(room, clientMsgId);
  }

  /** An ack or the message itself came back. */
  settled(clientMsgId: string): void {
    clearTimeout(this.timeouts.get(clientMsgId));
    this.timeouts.delete(clientMsgId);
  }

  /** An `error` frame about one of our sends. */
  refused(frame: ServerFrameOf<'error'> & { client_msg_id: string }): void {
    const { room, client_msg_id: clientMsgId } = frame;
    this.settled(clientMsgId);
    if (frame.code === 'unavailable' && room !== undefined && !this.resentOnce.has(clientMsgId)) {
      // It may or may not be durable: the resend, same client_msg_id, learns which.
      this.resentOnce.add(clientMsgId);
      const timer = setTimeout(() => {
        this.resends.delete(timer);
        this.transmit(room, clientMsgId);
      }, UNAVAILABLE_RESEND_MS);
      this.resends.add(timer);
      return;
    }
    if (frame.code === 'rate_limited' && frame.retry_after_ms !== undefined && room !== undefined) {
      // Slow mode (or the rate limit) says how long: not a failure, the same message goes again then.
      const wait = frame.retry_after_ms;
      this.deps.dispatch({ type: 'send/deferred', room, clientMsgId, until: (this.deps.now ?? Date.now)() + wait });
      const timer = setTimeout(() => {
        this.resends.delete(timer);
        this.deps.dispatch({ type: 'send/resumed', room, clientMsgId });
        this.transmit(room, clientMsgId);
      }, wait);
      this.resends.add(timer);
      return;
    }
    const message = sendErrorText(frame.code, frame.message);
    this.deps.dispatch({ type: 'send/failed', room, clientMsgId, code: frame.code, message });
  }

  /** The connection is gone: nothing times out until the rooms are live again and it is resent. */
  pause(): void {
    for (const timer of this.timeouts.values()) clearTimeout(timer);
    this.timeouts.clear();
  }

  stop(): void {
    this.pause();
    for (const timer of this.resends) clearTimeout(timer);
    this.resends.clear();
  }
}
