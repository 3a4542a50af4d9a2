// A controller over a fake socket and a fake API, for tests of what the
// server's frames do to the chat state (the user's feed, watched rooms).
import { vi } from 'vitest';
import type { ChatApi } from '../api/endpoints';
import type { SocketEvents } from '../api/socket';
import { ChatController, type SocketLike } from '../chat/controller';
import type { ClientFrame, HistoryPage, MyRoom, OnlinePage } from '../wire';
import { ALICE, page, range } from './fixtures';
import { hello } from './fakeSocket';

export const myRoom = (id: string, name: string, fields: Partial<MyRoom> = {}): MyRoom => ({
  id,
  name,
  kind: 'public',
  created_at: '2026-01-01T00:00:00Z',
  role: 'member',
  last_seq: 0,
  last_read_seq: 0,
  unread: 0,
  ...fields,
});

export function chatHarness(
  rooms: () => MyRoom[],
  history: (room: string) => HistoryPage = () => page(range(1, 10), false),
  online: (room: string, after: string | undefined) => Promise<OnlinePage> = async () => ({ online: [], online_count: 0, next: null }),
) {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  let ready = false;
  const socket: SocketLike = {
    start: vi.fn(),
    stop: vi.fn(),
    retryNow: vi.fn(),
    networkChanged: vi.fn(),
    send: (frame) => {
      if (!ready) return false;
      sent.push(frame);
      return true;
    },
  };
  const api = {
    history: vi.fn(async (room: string) => history(room)),
    myRooms: vi.fn(async () => rooms()),
    markRead: vi.fn(async () => {}),
    leaveRoom: vi.fn(async () => {}),
    online: vi.fn((room: string, query: { after?: string } = {}) => online(room, query.after)),
  } as unknown as ChatApi;
  const controller = new ChatController({
    api,
    me: ALICE,
    createSocket: (e) => {
      events = e;
      return socket;
    },
  });
  return {
    controller,
    api,
    sent,
    connect: () => {
      ready = true;
      events.onState({ status: 'online', attempt: 0, retryAt: null });
      events.onReady(hello() as never);
    },
    disconnect: () => {
      ready = false;
      events.onState({ status: 'reconnecting', attempt: 1, retryAt: Date.now() + 1000 });
    },
    frame: (f: Parameters<SocketEvents['onFrame']>[0]) => events.onFrame(f),
    /** Live-only subscribes (no last_seq), by room. */
    watches: () => sent.filter((f) => f.type === 'subscribe' && f.last_seq === undefined).map((f) => (f as { room: string }).room),
    room: (id: string) => controller.getState().rooms?.find((r) => r.id === id),
  };
}
