// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import type { ChatApi } from '../../api/endpoints';
import type { SocketEvents } from '../../api/socket';
import { ChatContext } from '../../chat/context';
import { ChatController } from '../../chat/controller';
import type { ClientFrame, MyRoom } from '../../wire';
import { ALICE, BOB, EPOCH, ROOM, message, page, range } from '../../test/fixtures';
import { hello } from '../../test/fakeSocket';
import { byLabel, byRole, cleanup, click, press, render, type } from '../../test/render';
import { RoomView } from './RoomView';

const general: MyRoom = {
  id: ROOM,
  name: 'general',
  kind: 'public',
  created_at: '2026-01-01T00:00:00Z',
  role: 'member',
  last_seq: 3,
  last_read_seq: 3,
  unread: 0,
};

async function openRoom() {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  const api = {
    history: vi.fn(async () => page(range(1, 3), true)),
    myRooms: vi.fn(async () => [general]),
    markRead: vi.fn(async () => {}),
  } as unknown as ChatApi;
  const controller = new ChatController({
    api,
    me: ALICE,
    createSocket: (e) => {
      events = e;
      return { start: () => {}, stop: () => {}, retryNow: () => {}, send: (f) => (sent.push(f), true) };
    },
  });
  await act(async () => {
    controller.start();
    events.onState({ status: 'online', attempt: 0, retryAt: null });
    events.onReady(hello() as never);
    controller.openRoom(ROOM);
  });
  await act(async () => {
    events.onFrame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 3, online: [ALICE, BOB] });
  });
  const view = render(
    <ChatContext.Provider value={controller}>
      <RoomView room={ROOM} onBack={() => {}} />
    </ChatContext.Provider>,
  );
  const serverSends = (f: Parameters<SocketEvents['onFrame']>[0]) => act(() => events.onFrame(f));
  return { ...view, controller, sent, serverSends };
}

beforeEach(() => vi.spyOn(console, 'debug').mockImplementation(() => {}));
afterEach(cleanup);

describe('RoomView', () => {
  it('shows the room, its messages, who is online, and a labelled message box', async () => {
    const { container } = await openRoom();
    expect(container.querySelector('h2')?.textContent).toBe('#general');
    expect([...container.querySelectorAll('.msg-body')].map((e) => e.textContent)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(container.querySelector('.presence summary')?.textContent).toBe('2 online');
    expect(byLabel(container, 'Message #general').tagName).toBe('TEXTAREA');
    expect(byRole(container, 'button', 'Load older messages')).toBeTruthy();
  });

  it('sends with Enter, shows the message as sending, then as delivered', async () => {
    const { container, sent, serverSends } = await openRoom();
    const box = byLabel(container, 'Message #general');
    type(box, 'hello there');
    press(box, 'Enter');
    const frame = sent.find((f) => f.type === 'send');
    expect(frame).toMatchObject({ type: 'send', room: ROOM, body: 'hello there' });
    expect((box as HTMLTextAreaElement).value).toBe('');
    expect(container.querySelector('.msg-pending .msg-state')?.textContent).toBe('Sending…');

    const id = (frame as { client_msg_id: string }).client_msg_id;
    serverSends({ type: 'ack', room: ROOM, client_msg_id: id, id: message(4).id, seq: 4, epoch: EPOCH });
    expect(container.querySelector('.msg-pending .msg-state')?.textContent).toBe('Sent');
    serverSends({ type: 'message', ...message(4, { sender: ALICE, client_msg_id: id, body: 'hello there' }) });
    expect(container.querySelector('.msg-pending')).toBeNull();
    expect(container.querySelector('.msg-own .msg-body')?.textContent).toBe('hello there');
  });

  it('keeps Shift+Enter for a new line', async () => {
    const { container, sent } = await openRoom();
    const box = byLabel(container, 'Message #general');
    type(box, 'line one');
    press(box, 'Enter', { shiftKey: true });
    expect(sent.filter((f) => f.type === 'send')).toEqual([]);
  });

  it('says who is typing', async () => {
    const { container, serverSends } = await openRoom();
    serverSends({ type: 'typing', room: ROOM, user: BOB });
    expect(container.querySelector('.typing')?.textContent).toBe('bob is typing…');
  });

  it('offers Retry on a failed message and resends it under the same id', async () => {
    const { container, sent, serverSends } = await openRoom();
    const box = byLabel(container, 'Message #general');
    type(box, 'again');
    press(box, 'Enter');
    const first = sent.find((f) => f.type === 'send') as { client_msg_id: string };
    serverSends({ type: 'error', code: 'rate_limited', message: 'slow down', room: ROOM, client_msg_id: first.client_msg_id });
    click(byRole(container, 'button', 'Retry sending: again'));
    const sends = sent.filter((f) => f.type === 'send');
    expect(sends).toHaveLength(2);
    expect(sends[1]).toEqual(sends[0]);
  });
});
