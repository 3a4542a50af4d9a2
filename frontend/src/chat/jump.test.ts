import { describe, expect, it, vi } from 'vitest';
import { ALICE, BOB, ROOM, message, page, range } from '../test/fixtures';
import { emptyMessages, messagesReducer, selectTimeline } from '../store/messages';
import { initialChatState, type ChatState } from './state';
import { Jumps } from './jump';
import { roomEffect } from './roomEvents';

function setup(newest: number[], history: (before: number) => number[]) {
  let state: ChatState = {
    ...initialChatState(ALICE),
    messages: messagesReducer(emptyMessages, { type: 'history/loaded', room: ROOM, page: page(newest, true), direction: 'newest' }),
  };
  const notify = vi.fn();
  const api = {
    history: vi.fn(async (_room: string, q: { before?: number }) => {
      const seqs = history(q.before ?? 0);
      return page(seqs, (seqs[0] ?? 1) > 1);
    }),
    message: vi.fn(async () => message(5)),
  };
  const highlight = vi.fn();
  const jumps = new Jumps({
    api: api as never,
    state: () => state,
    open: () => {},
    highlight,
    olderLoaded: (room, p) => {
      state = { ...state, messages: messagesReducer(state.messages, { type: 'history/loaded', room, page: p, direction: 'older' }) };
    },
    notify,
    until: async (check) => check(),
  });
  return { jumps, api, notify, highlight, seqs: () => selectTimeline(state.messages, ROOM).messages.map((m) => m.seq) };
}

describe('a jump to a message', () => {
  it('loads older pages until the message is there, without holes', async () => {
    const t = setup(range(251, 300), (before) => range(Math.max(1, before - 100), before - 1));
    await t.jumps.toMessage(ROOM, message(120).id, 120);
    expect(t.highlight).toHaveBeenCalledWith(ROOM, message(120).id, 120);
    expect(t.api.history).toHaveBeenCalledTimes(2);
    expect(t.seqs()).toEqual(range(51, 300));
    expect(t.notify).not.toHaveBeenCalled();
  });

  it('asks for the seq of a reply’s original it does not know', async () => {
    const t = setup(range(1, 10), () => []);
    await t.jumps.toReplied(ROOM, { id: message(5).id });
    expect(t.api.message).toHaveBeenCalledWith(ROOM, message(5).id);
    expect(t.highlight).toHaveBeenCalledWith(ROOM, message(5).id, 5);
  });

  it('says so when the message is not found', async () => {
    const t = setup(range(1, 10), () => []);
    await t.jumps.toMessage(ROOM, '0197a7f0-0000-7000-8000-0000000fffff', 4);
    expect(t.notify).toHaveBeenCalledWith('That message is no longer here, or too far back.');
  });
});

describe('roomEffect', () => {
  const mod = (moderation: NonNullable<Parameters<typeof message>[1]>['moderation']) => message(1, { op: 'moderation', kind: 'system', body: '', moderation });
  it('topic and slow mode patch the room; a kick or ban of the caller removes it; roles change the member list', () => {
    expect(roomEffect(message(1, { op: 'topic', body: 'Hi' }), ALICE.id)).toEqual({ patch: { topic: 'Hi' } });
    expect(roomEffect(mod({ action: 'slow_mode', seconds: 30 }), ALICE.id)).toEqual({ patch: { slow_mode_seconds: 30 } });
    expect(roomEffect(mod({ action: 'ban', user: ALICE }), ALICE.id)).toEqual({ membersChanged: true, removed: true });
    expect(roomEffect(mod({ action: 'kick', user: BOB }), ALICE.id)).toEqual({ membersChanged: true });
    expect(roomEffect(mod({ action: 'role', user: ALICE, role: 'moderator' }), ALICE.id)).toEqual({ membersChanged: true, patch: { role: 'moderator' } });
    expect(roomEffect(message(1), ALICE.id)).toBeNull();
  });
});
