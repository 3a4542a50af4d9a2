// What the person writes: a message queued in the store and handed to the
// outbox (answering the message being replied to, if any), a failed one sent
// again, the reply being written, `typing` at most every TYPING_EVERY_MS
// while the room is live (and again at once after a send), and a reaction
// added or taken back (actions.ts).
import { newClientMsgId } from '../api/ids';
import type { ChatMessage, ClientFrame } from '../wire';
import type { MessageActions } from './actions';
import type { ChatStore } from './chatStore';
import type { Outbox } from './outbox';
import { roomDropped } from './presence';

const TYPING_EVERY_MS = 2_000;

export interface SendingDeps {
  store: ChatStore;
  send: (frame: ClientFrame) => boolean;
  outbox: Outbox;
  actions: MessageActions;
  now: () => number;
}

export class Sending {
  private readonly lastTypingSent = new Map<string, number>();

  constructor(private readonly deps: SendingDeps) {}

  private get state() {
    return this.deps.store.state;
  }

  send(room: string, body: string): void {
    const clientMsgId = newClientMsgId();
    const replyTo = this.state.replying[room]?.id;
    if (replyTo !== undefined) this.cancelReply(room);
    this.deps.store.dispatch({ type: 'send/queued', room, clientMsgId, body, sender: this.state.me, at: this.deps.now(), replyTo });
    this.lastTypingSent.delete(room);
    this.deps.outbox.transmit(room, clientMsgId);
  }

  /** Sends a failed message again, under the same client_msg_id (the server dedupes). */
  retry(room: string, clientMsgId: string): void {
    this.deps.outbox.retry(room, clientMsgId);
  }

  /** The composer answers `message` (shown above it) until sent or cancelled. */
  startReply(room: string, message: ChatMessage): void {
    this.deps.store.set({ replying: { ...this.state.replying, [room]: message } });
  }

  cancelReply(room: string): void {
    if (room in this.state.replying) this.deps.store.set({ replying: roomDropped(this.state.replying, room) });
  }

  typing(room: string): void {
    const last = this.lastTypingSent.get(room) ?? -Infinity;
    if (this.deps.now() - last < TYPING_EVERY_MS || this.deps.store.feed(room).status !== 'live') return;
    if (this.deps.send({ type: 'typing', room })) this.lastTypingSent.set(room, this.deps.now());
  }

  toggleReaction(room: string, message: ChatMessage, emoji: string): void {
    const mine = message.reactions?.some((r) => r.emoji === emoji && r.me) === true;
    if (mine) this.deps.actions.unreact(room, message.id, emoji);
    else this.deps.actions.react(room, message.id, emoji);
  }
}
