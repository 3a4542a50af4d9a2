// Builders for tests: messages and frames with readable defaults.
import type { ChatMessage, HistoryPage, UserRef } from '../wire';

export const ROOM = '0197a7f0-0000-7000-8000-000000000001';
export const OTHER_ROOM = '0197a7f0-0000-7000-8000-000000000002';
export const ALICE: UserRef = { id: '0197a7f0-0000-7000-8000-0000000000a1', username: 'alice' };
export const BOB: UserRef = { id: '0197a7f0-0000-7000-8000-0000000000b0', username: 'bob' };
export const EPOCH = 1_760_000_000_000;

/** A message of ROOM with seq `seq`; its id is derived from the seq. */
export function message(seq: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    room: ROOM,
    seq,
    epoch: EPOCH,
    id: `0197a7f0-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`,
    sender: BOB,
    client_msg_id: `c-${seq}`,
    kind: 'user',
    body: `message ${seq}`,
    sent_at: '2026-01-02T03:04:05.678901Z',
    ...overrides,
  };
}

export function page(seqs: readonly number[], hasMore: boolean, overrides: Partial<ChatMessage> = {}): HistoryPage {
  return { messages: seqs.map((s) => message(s, overrides)), has_more: hasMore };
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
