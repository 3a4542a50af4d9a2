// @vitest-environment jsdom
// A shared link to a room the caller has not joined: it says so and offers Join.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import { ApiError } from '../../api/http';
import type { ChatApi } from '../../api/endpoints';
import type { SocketEvents } from '../../api/socket';
import { ChatContext } from '../../chat/context';
import { ChatController } from '../../chat/controller';
import type { ClientFrame, Room } from '../../wire';
import { ALICE, EPOCH, ROOM, page, range } from '../../test/fixtures';
import { hello } from '../../test/fakeSocket';
import { byRole, cleanup, click, render } from '../../test/render';
import { RoomView } from './RoomView';

const general: Room = { id: ROOM, name: 'general', kind: 'public', created_at: '2026-01-01T00:00:00Z', member_count: 3 };

async function openByAddress(join: () => Promise<Room>) {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  let member = false;
  const api = {
    history: vi.fn(async () => {
      if (!member) throw new ApiError(403, 'forbidden', 'not a member');
      return page(range(1, 3), false);
    }),
    myRooms: vi.fn(async () => []),
    markRead: vi.fn(async () => {}),
    joinRoom: vi.fn(async () => {
      const room = await join();
      member = true;
      return room;
    }),
  } as unknown as ChatApi;
  const controller = new ChatController({
    api,
    me: ALICE,
    createSocket: (e) => {
      events = e;
      return { start: () => {}, stop: () => {}, retryNow: () => {}, networkChanged: () => {}, send: (f) => (sent.push(f), true) };
    },
  });
  await act(async () => {
    controller.start();
    events.onState({ status: 'online', attempt: 0, retryAt: null });
    events.onReady(hello() as never);
    controller.openRoom(ROOM);
  });
  const view = render(
    <ChatContext.Provider value={controller}>
      <RoomView room={ROOM} onBack={() => {}} />
    </ChatContext.Provider>,
  );
  return { ...view, api, sent, events };
}

afterEach(cleanup);

describe('a room opened from its address', () => {
  it('offers Join when the caller is not a member, then shows the room', async () => {
    const { container, api, sent, events } = await openByAddress(async () => general);
    expect(byRole(container, 'alert').textContent).toContain('You are not a member of this room yet.');
    await act(async () => click(byRole(container, 'button', 'Join')));
    await act(async () => {});
    expect(api.joinRoom).toHaveBeenCalledWith(ROOM);
    expect(sent.filter((f) => f.type === 'subscribe')).toEqual([{ type: 'subscribe', room: ROOM, last_seq: 3, epoch: EPOCH }]);
    await act(async () => events.onFrame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 3, base_seq: 0, online_count: 1 }));
    expect(container.querySelector('.feed-error')).toBeNull();
    expect(container.querySelector('#room-title')?.textContent).toBe('#general');
  });

  it('says why joining failed (a private room)', async () => {
    const { container } = await openByAddress(async () => {
      throw new ApiError(403, 'forbidden', 'forbidden');
    });
    await act(async () => click(byRole(container, 'button', 'Join')));
    await act(async () => {});
    expect(byRole(container, 'alert').textContent).toContain('This room is private: only its owner can add you.');
  });
});
