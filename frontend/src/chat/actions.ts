// Edits, deletes and reactions (issue 13): each a frame with its own
// client_msg_id, settled by its `ack` (the change itself comes back as an
// event of the room's feed and is folded by the store) or refused by an
// `error` frame, which becomes a notice. Not retried by themselves: the
// person sees the refusal and can do it again.
import { newClientMsgId } from '../api/ids';
import type { ClientFrame, ServerFrameOf } from '../wire';
import { asSentence, inTime } from './errors';

export interface ActionDeps {
  send: (frame: ClientFrame) => boolean;
  notify: (text: string) => void;
}

type Op = 'edit' | 'delete' | 'react' | 'unreact';

const WHAT: Record<Op, string> = {
  edit: 'edit the message',
  delete: 'delete the message',
  react: 'add the reaction',
  unreact: 'remove the reaction',
};

/** Sends expected an answer for longer than this are forgotten (their answer is then ignored). */
const MAX_IN_FLIGHT = 200;

export class MessageActions {
  private readonly inFlight = new Map<string, Op>();

  constructor(private readonly deps: ActionDeps) {}

  edit(room: string, message: string, body: string): boolean {
    return this.op('edit', { type: 'edit', room, client_msg_id: newClientMsgId(), message, body });
  }

  remove(room: string, message: string): boolean {
    return this.op('delete', { type: 'delete', room, client_msg_id: newClientMsgId(), message });
  }

  react(room: string, message: string, emoji: string): boolean {
    return this.op('react', { type: 'react', room, client_msg_id: newClientMsgId(), message, emoji });
  }

  unreact(room: string, message: string, emoji: string): boolean {
    return this.op('unreact', { type: 'unreact', room, client_msg_id: newClientMsgId(), message, emoji });
  }

  /** An `ack`: true when it answered one of these. */
  acked(clientMsgId: string): boolean {
    return this.inFlight.delete(clientMsgId);
  }

  /** An `error` frame with a client_msg_id: true when it refused one of these. */
  refused(frame: ServerFrameOf<'error'> & { client_msg_id: string }): boolean {
    const op = this.inFlight.get(frame.client_msg_id);
    if (op === undefined) return false;
    this.inFlight.delete(frame.client_msg_id);
    this.deps.notify(refusalText(op, frame));
    return true;
  }

  private op(op: Op, frame: ClientFrame & { client_msg_id: string }): boolean {
    if (!this.deps.send(frame)) {
      this.deps.notify(`Could not ${WHAT[op]}: not connected. Try again in a moment.`);
      return false;
    }
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      const oldest = this.inFlight.keys().next().value;
      if (oldest !== undefined) this.inFlight.delete(oldest);
    }
    this.inFlight.set(frame.client_msg_id, op);
    return true;
  }
}

export function refusalText(op: Op, frame: Pick<ServerFrameOf<'error'>, 'code' | 'message' | 'retry_after_ms'>): string {
  const what = WHAT[op];
  switch (frame.code) {
    case 'rate_limited':
      return frame.retry_after_ms !== undefined
        ? `Too fast: you can ${what} ${inTime(frame.retry_after_ms / 1000)}.`
        : `Too fast: wait a moment, then ${what} again.`;
    case 'forbidden':
      return `You cannot ${what}${frame.message ? `: ${asSentence(frame.message)}` : '.'}`;
    case 'invalid':
      return `Could not ${what}${frame.message ? `: ${asSentence(frame.message)}` : '.'}`;
    default:
      return `Could not ${what}. Try again.`;
  }
}
