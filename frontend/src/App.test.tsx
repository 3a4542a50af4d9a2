// @vitest-environment jsdom
// The whole app against a fake server: restore, log in, the room list, a room, the socket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import { App } from './App';
import { ChatApi } from './api/endpoints';
import { HttpClient } from './api/http';
import { FakeWebSocket, hello } from './test/fakeSocket';
import { ALICE, EPOCH, ROOM, page, range } from './test/fixtures';
import { byLabel, byRole, cleanup, click, render, type } from './test/render';

const json = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const session = { user: ALICE, access_token: 'token-1', token_type: 'Bearer', expires_in: 900 };
const general = { id: ROOM, name: 'general', kind: 'public', created_at: '2026-01-01T00:00:00Z', role: 'member', last_seq: 3, last_read_seq: 1, unread: 2 };

function fakeServer(loggedIn: boolean) {
  const paths: string[] = [];
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    const path = String(url).split('?')[0] ?? '';
    paths.push(`${init?.method ?? 'GET'} ${path}`);
    switch (path) {
      case '/api/auth/refresh':
        return loggedIn ? json(200, session) : json(401, { error: { code: 'unauthenticated', message: 'no' } });
      case '/api/auth/login':
        return json(200, session);
      case '/api/rooms/mine':
        return json(200, [general]);
      case '/api/ws-ticket':
        return json(200, { ticket: 'tk', expires_in: 30 });
      case `/api/rooms/${ROOM}/messages`:
        return json(200, page(range(1, 3), false));
      case `/api/rooms/${ROOM}/online`:
        return json(200, { online: [{ ...ALICE, status: 'active' }], online_count: 1, next: null });
      default:
        return json(204);
    }
  });
  return { api: new ChatApi(new HttpClient({ fetch: fetch as unknown as typeof globalThis.fetch })), paths };
}

// The auth screens and the chat are lazily loaded chunks: wait for their imports too.
async function settle() {
  for (let i = 0; i < 3; i += 1) {
    await act(async () => {
      await vi.dynamicImportSettled();
      await vi.advanceTimersByTimeAsync(10);
    });
  }
}

beforeEach(() => {
  // a browser that was signed in (the landing page's first visit makes no request)
  localStorage.setItem('chat.signed-in', '1');
  vi.useFakeTimers();
  FakeWebSocket.reset();
  vi.stubGlobal('WebSocket', FakeWebSocket);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('App', () => {
  it('shows the landing page when the refresh cookie is refused, its log-in form, and the chat after logging in', async () => {
    localStorage.removeItem('chat.signed-in');
    const { api, paths } = fakeServer(false);
    const { container } = render(<App api={api} />);
    await settle();
    expect(container.querySelector('h1')?.textContent).toBe('Chat');
    // a first visit asks nothing of the server until the visitor wants to log in
    expect(paths).toEqual([]);
    expect(byRole(container, 'button', 'Sign up, it’s free')).toBeTruthy();
    click(byRole(container, 'button', 'Log in'));
    await settle();
    expect(container.querySelector('h1')?.textContent).toBe('Log in');
    expect(paths).toEqual(['POST /api/auth/refresh']);

    type(byLabel(container, 'Username'), 'alice');
    type(byLabel(container, 'Password'), 'correct horse battery');
    await act(async () => container.querySelector('form')?.requestSubmit());
    await settle();
    expect(paths).toContain('POST /api/auth/login');
    expect(container.querySelector('nav[aria-label="Rooms"]')).not.toBeNull();
    expect(byRole(container, 'button', '#general, 2 (unread)')).toBeTruthy();
  });

  it('restores a session, connects, opens a room and goes live', async () => {
    const { api } = fakeServer(true);
    const { container } = render(<App api={api} />);
    await settle();
    expect(byRole(container, 'status').textContent).toBe('Connecting…');

    const ws = FakeWebSocket.latest();
    expect(ws.url).toBe(`ws://${window.location.host}/ws?ticket=tk`);
    act(() => ws.receive(hello()));
    expect(byRole(container, 'status').textContent).toBe('');

    // every room of the list is watched live; the tab's title counts their unread messages
    expect(ws.sentOfType('subscribe')).toEqual([{ type: 'subscribe', room: ROOM }]);
    expect(document.title).toBe('(2) Chat');

    click(byRole(container, 'button', '#general, 2 (unread)'));
    await settle();
    expect(ws.sentOfType('subscribe')).toEqual([
      { type: 'subscribe', room: ROOM },
      { type: 'subscribe', room: ROOM, last_seq: 3, epoch: EPOCH },
    ]);
    act(() => ws.receive({ type: 'subscribed', room: ROOM, epoch: EPOCH, head_seq: 3, base_seq: 0, online_count: 1 }));
    expect(container.querySelectorAll('.message-list .msg')).toHaveLength(3);
    expect(container.ownerDocument.activeElement?.id).toBe('composer');

    act(() => ws.drop(1006));
    expect(byRole(container, 'status').textContent).toMatch(/^Reconnecting…/);
  });

  it('puts the open room in the address, reopens it on a reload, and goes back to the list on Back', async () => {
    window.history.replaceState(null, '', '/');
    const first = fakeServer(true);
    const app = render(<App api={first.api} />);
    await settle();
    act(() => FakeWebSocket.latest().receive(hello()));
    click(byRole(app.container, 'button', '#general, 2 (unread)'));
    await settle();
    expect(window.location.pathname).toBe(`/r/${ROOM}`);
    app.unmount();

    // A reload: a new app on the same address opens the room by itself.
    const second = fakeServer(true);
    const { container } = render(<App api={second.api} />);
    await settle();
    act(() => FakeWebSocket.latest().receive(hello()));
    await settle();
    expect(container.querySelector('#room-title')?.textContent).toBe('#general');
    expect(container.querySelector('.shell')?.getAttribute('data-pane')).toBe('room');

    // The phone's Back button.
    act(() => {
      window.history.back();
    });
    await act(async () => {
      await vi.waitFor(() => {
        if (window.location.pathname !== '/') throw new Error('still on the room');
      });
      await vi.advanceTimersByTimeAsync(10);
    });
    expect(container.querySelector('.shell')?.getAttribute('data-pane')).toBe('list');
  });

  it('says at once when the browser goes offline, and reconnects at once when it is back', async () => {
    const { api } = fakeServer(true);
    const { container } = render(<App api={api} />);
    await settle();
    const ws = FakeWebSocket.latest();
    act(() => ws.receive(hello()));
    expect(byRole(container, 'status').textContent).toBe('');

    act(() => {
      window.dispatchEvent(new Event('offline'));
    });
    expect(byRole(container, 'status').textContent).toMatch(/^You are offline\. Reconnecting…/);
    expect(ws.closedWith).toBe(4000);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    const opened = FakeWebSocket.instances.length;
    await act(async () => {
      window.dispatchEvent(new Event('online'));
      await vi.advanceTimersByTimeAsync(10);
    });
    expect(FakeWebSocket.instances.length).toBe(opened + 1);
    act(() => FakeWebSocket.latest().receive(hello()));
    expect(byRole(container, 'status').textContent).toBe('');
  });

  it('leaves the room’s address on logging out (the next user starts from the list)', async () => {
    window.history.replaceState(null, '', '/');
    const { api } = fakeServer(true);
    const { container } = render(<App api={api} />);
    await settle();
    act(() => FakeWebSocket.latest().receive(hello()));
    click(byRole(container, 'button', '#general, 2 (unread)'));
    await settle();
    expect(window.location.pathname).toBe(`/r/${ROOM}`);
    click(byRole(container, 'button', 'Log out'));
    await settle();
    expect(container.querySelector('h1')?.textContent).toBe('Log in');
    expect(window.location.pathname).toBe('/');
  });
});

