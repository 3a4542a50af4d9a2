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

async function openRoom(info: MyRoom = general) {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  const api = {
    history: vi.fn(async () => page(range(1, 3), true)),
    myRooms: vi.fn(async () => [info]),
    markRead: vi.fn(async () => {}),
    online: vi.fn(async () => ({ online: [{ ...ALICE, status: 'active' }, { ...BOB, status: 'away' }], online_count: 2, next: null })),
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
  await act(async () => {
    events.onFrame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 3, base_seq: 0, online_count: 2 });
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

describe('the invite form', () => {
  const hasInvite = (container: HTMLElement) => container.querySelector('input[id$="-user"]') !== null;

  it('is offered to the owner of a private room', async () => {
    const { container } = await openRoom({ ...general, kind: 'private', role: 'owner' });
    expect(byLabel(container, 'Username to invite')).toBeTruthy();
  });

  it('is not offered to a member of a private room (only the owner invites)', async () => {
    const { container } = await openRoom({ ...general, kind: 'private', role: 'member' });
    expect(hasInvite(container)).toBe(false);
  });
});

describe('RoomView', () => {
  it('shows the room, its messages, who is online, and a labelled message box', async () => {
    const { container } = await openRoom();
    expect(container.querySelector('h2')?.textContent).toBe('#general');
    expect([...container.querySelectorAll('.msg-body')].map((e) => e.textContent)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(container.querySelector('.presence summary')?.textContent).toBe('2 online');
    // each online member says whether they are at it (what is read: the avatar is decorative)
    const spoken = (li: Element) =>
      [...li.childNodes]
        .filter((n) => !(n instanceof Element && n.getAttribute('aria-hidden') === 'true'))
        .map((n) => n.textContent)
        .join('');
    expect([...container.querySelectorAll('.presence-list li')].map(spoken)).toEqual(['alice (you) online', 'bob away']);
    expect(byLabel(container, 'Message #general').tagName).toBe('TEXTAREA');
    expect(byRole(container, 'button', 'Load older messages')).toBeTruthy();
  });

  it('puts New messages above the first message unread when the room was opened', async () => {
    const { container } = await openRoom({ ...general, last_read_seq: 1, unread: 2 });
    const divider = container.querySelector('.message-list .new-divider');
    expect(divider?.textContent).toBe('New messages');
    expect(divider?.nextElementSibling?.querySelector('.msg-body')?.textContent).toBe('message 2');
  });

  it('puts no divider when everything was read', async () => {
    const { container } = await openRoom();
    expect(container.querySelector('.new-divider')).toBeNull();
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

  it('shows a bot reply being written after the messages, then the reply in its place', async () => {
    const { container, serverSends } = await openRoom();
    const bot = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bot' };
    const draft = { type: 'draft', room: ROOM, id: message(4).id, reply_to: message(3).id, sender: bot } as const;
    serverSends({ ...draft, body: '<b>Two</b> plus', state: 'streaming' });
    const items = () => [...container.querySelectorAll('.message-list > li')];
    expect(items().map((li) => li.querySelector('.msg-body')?.textContent)).toEqual(['message 1', 'message 2', 'message 3', '<b>Two</b> plus']);
    expect(items().at(-1)?.classList.contains('msg-draft')).toBe(true);
    expect(container.querySelector('.msg-draft b')).toBeNull();
    expect(container.querySelector('.msg-draft [role="status"]')?.textContent).toBe('bot is writing…');

    serverSends({ type: 'message', ...message(4, { sender: bot, kind: 'bot', body: 'Two plus two is four.' }) });
    expect(container.querySelector('.msg-draft')).toBeNull();
    const last = items().at(-1);
    expect(last?.classList.contains('msg-bot')).toBe(true);
    expect(last?.querySelector('.tag-bot')?.textContent).toBe('bot');
    expect(last?.querySelector('.msg-body')?.textContent).toBe('Two plus two is four.');

    serverSends({ ...draft, body: 'Two plus two', state: 'streaming' });
    expect(container.querySelector('.msg-draft')).toBeNull();
  });

  it('removes a cancelled bot reply', async () => {
    const { container, serverSends } = await openRoom();
    const bot = { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bot' };
    const draft = { type: 'draft', room: ROOM, id: message(4).id, reply_to: message(3).id, sender: bot } as const;
    serverSends({ ...draft, body: 'Two', state: 'streaming' });
    expect(container.querySelector('.msg-draft')).not.toBeNull();
    serverSends({ ...draft, body: '', state: 'cancelled' });
    expect(container.querySelector('.msg-draft')).toBeNull();
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

/** Gives the message list a layout (jsdom has none): sizes to set, a scroll position it keeps. */
function layout(container: HTMLElement, size: { scrollHeight: number; clientHeight: number }) {
  const el = container.querySelector<HTMLElement>('.messages');
  if (el === null) throw new Error('no message list');
  let top = 0;
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => size.scrollHeight });
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => size.clientHeight });
  Object.defineProperty(el, 'scrollTop', {
    configurable: true,
    get: () => top,
    set: (value: number) => {
      top = Math.max(0, Math.min(value, size.scrollHeight - size.clientHeight));
    },
  });
  const scrollTo = (value: number) => {
    el.scrollTop = value;
    act(() => {
      el.dispatchEvent(new Event('scroll'));
    });
  };
  return { el, scrollTo };
}

/** A ResizeObserver the test fires by hand (jsdom has none). */
function fakeResizeObserver() {
  const observers: { callback: () => void; targets: Element[] }[] = [];
  class FakeObserver {
    private readonly entry: { callback: () => void; targets: Element[] };
    constructor(callback: () => void) {
      this.entry = { callback, targets: [] };
      observers.push(this.entry);
    }
    observe(target: Element) {
      this.entry.targets.push(target);
    }
    unobserve() {}
    disconnect() {
      this.entry.targets = [];
    }
  }
  vi.stubGlobal('ResizeObserver', FakeObserver);
  return {
    resize: () =>
      act(() => {
        for (const o of observers) if (o.targets.length > 0) o.callback();
      }),
  };
}

describe('the timeline', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('stays pinned to the newest message when the window resizes (a phone’s keyboard opens)', async () => {
    const observer = fakeResizeObserver();
    const { container } = await openRoom();
    const size = { scrollHeight: 1000, clientHeight: 600 };
    const { el, scrollTo } = layout(container, size);
    scrollTo(400);
    size.clientHeight = 194;
    observer.resize();
    expect(el.scrollTop).toBe(1000 - 194);
  });

  it('stays where the reader scrolled to, away from the bottom, when the window resizes', async () => {
    const observer = fakeResizeObserver();
    const { container } = await openRoom();
    const size = { scrollHeight: 1000, clientHeight: 600 };
    const { el, scrollTo } = layout(container, size);
    scrollTo(100);
    size.clientHeight = 194;
    observer.resize();
    expect(el.scrollTop).toBe(100);
  });

  it('brings a failed message and its Retry into view', async () => {
    fakeResizeObserver();
    const { container, sent, serverSends } = await openRoom();
    const size = { scrollHeight: 1000, clientHeight: 600 };
    const { el, scrollTo } = layout(container, size);
    const box = byLabel(container, 'Message #general');
    type(box, 'lost');
    press(box, 'Enter');
    // The reader scrolled up a little meanwhile.
    scrollTo(200);
    size.scrollHeight = 1060;
    const first = sent.find((f) => f.type === 'send') as { client_msg_id: string };
    serverSends({ type: 'error', code: 'invalid', message: 'no', room: ROOM, client_msg_id: first.client_msg_id });
    expect(container.querySelector('.msg-failed')).not.toBeNull();
    expect(el.scrollTop).toBe(1060 - 600);
  });
});

