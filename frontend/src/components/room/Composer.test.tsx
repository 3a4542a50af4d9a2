// @vitest-environment jsdom
// The composer's @mention autocomplete (keyboard, ARIA) and its reply preview.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import type { ChatApi } from '../../api/endpoints';
import type { SocketEvents } from '../../api/socket';
import { ChatContext } from '../../chat/context';
import { ChatController } from '../../chat/controller';
import type { ClientFrame, Member } from '../../wire';
import { ALICE, BOB, EPOCH, ROOM, message, page, range } from '../../test/fixtures';
import { hello } from '../../test/fakeSocket';
import { byRole, cleanup, click, press, render, type } from '../../test/render';
import { Composer } from './Composer';

const members: Member[] = [
  { ...ALICE, role: 'owner' },
  { ...BOB, role: 'member' },
  { id: '0197a7f0-0000-7000-8000-0000000000c0', username: 'bobby', role: 'moderator' },
];

async function mount() {
  let events!: SocketEvents;
  const sent: ClientFrame[] = [];
  const api = {
    history: vi.fn(async () => page(range(1, 3), false)),
    myRooms: vi.fn(async () => []),
    markRead: vi.fn(async () => {}),
    members: vi.fn(async () => members),
  } as unknown as ChatApi;
  const controller = new ChatController({ api, me: ALICE, createSocket: (e) => ((events = e), { start: () => {}, stop: () => {}, retryNow: () => {}, networkChanged: () => {}, send: (f) => (sent.push(f), true) }) });
  await act(async () => {
    controller.start();
    events.onState({ status: 'online', attempt: 0, retryAt: null });
    events.onReady(hello() as never);
    controller.openRoom(ROOM);
  });
  await act(async () => events.onFrame({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 3, base_seq: 0, online_count: 1 }));
  const view = render(
    <ChatContext.Provider value={controller}>
      <Composer room={ROOM} label="Message #general" />
    </ChatContext.Provider>,
  );
  const box = view.container.querySelector('textarea') as HTMLTextAreaElement;
  return { ...view, controller, sent, box, api };
}

beforeEach(() => vi.spyOn(console, 'debug').mockImplementation(() => {}));
afterEach(cleanup);

const options = (c: HTMLElement) => [...c.querySelectorAll('[role="option"]')].map((o) => o.textContent);

describe('mention autocomplete', () => {
  it('opens on @, lists matching members (not oneself), arrows move, Enter inserts', async () => {
    const { container, box, api } = await mount();
    type(box, 'hi @bo');
    await act(async () => {});
    expect(api.members).toHaveBeenCalledOnce();
    expect(options(container)).toEqual(['bob', 'bobby moderator']);
    const listbox = byRole(container, 'listbox');
    expect(box.getAttribute('aria-controls')).toBe(listbox.id);
    expect(box.getAttribute('aria-autocomplete')).toBe('list');
    const active = () => container.ownerDocument.getElementById(box.getAttribute('aria-activedescendant') ?? '');
    expect(active()?.textContent).toBe('bob');
    press(box, 'ArrowDown');
    expect(active()?.textContent).toBe('bobby moderator');
    expect(active()?.getAttribute('aria-selected')).toBe('true');
    press(box, 'Enter');
    expect(box.value).toBe('hi @bobby ');
    expect(container.querySelector('[role="listbox"]')).toBeNull();
  });

  it('Escape closes the list without sending; Enter then sends', async () => {
    const { container, box, sent } = await mount();
    type(box, '@b');
    await act(async () => {});
    expect(options(container).length).toBe(2);
    press(box, 'Escape');
    expect(container.querySelector('[role="listbox"]')).toBeNull();
    expect(sent.filter((f) => f.type === 'send')).toEqual([]);
    press(box, 'Enter');
    expect(sent.filter((f) => f.type === 'send').map((f) => (f as { body: string }).body)).toEqual(['@b']);
  });
});

describe('replying', () => {
  it('shows what is answered above the box; Cancel reply ends it', async () => {
    const { container, controller } = await mount();
    act(() => controller.startReply(ROOM, message(2, { body: 'the question' })));
    expect(container.querySelector('.composer-reply')?.textContent).toContain('Replying to bob: the question');
    click(byRole(container, 'button', 'Cancel reply'));
    expect(container.querySelector('.composer-reply')).toBeNull();
  });
});
