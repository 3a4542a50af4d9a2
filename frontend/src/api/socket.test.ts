import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './http';
import { ChatSocket, PING_EVERY_MS, PONG_WAIT_MS, type ConnectionState, type SocketDeps } from './socket';
import { backoffDelay } from './backoff';
import { FakeWebSocket, hello } from '../test/fakeSocket';

const ROOM = '0197a7f0-0000-7000-8000-000000000001';

function setup(overrides: Partial<SocketDeps> = {}) {
  let tokenExpiresAt = Date.now() + 15 * 60_000;
  const states: ConnectionState[] = [];
  const events = {
    onReady: vi.fn(),
    onFrame: vi.fn(),
    onState: (s: ConnectionState) => states.push(s),
    onAuthLost: vi.fn(),
  };
  let tickets = 0;
  const deps: SocketDeps = {
    url: 'ws://chat.test',
    ticket: vi.fn(async () => `t${++tickets}`),
    freshToken: vi.fn(async () => {
      tokenExpiresAt = Date.now() + 15 * 60_000;
      return 'fresh-token';
    }),
    tokenExpiresAt: () => tokenExpiresAt,
    WebSocket: FakeWebSocket as unknown as typeof WebSocket,
    random: () => 0.5,
    ...overrides,
  };
  const socket = new ChatSocket(deps, events);
  return { socket, events, states, deps };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ChatSocket', () => {
  it('buys a ticket and opens /ws with it and the chat.v1 subprotocol', async () => {
    const { socket, events, states } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    expect(ws.url).toBe('ws://chat.test/ws?ticket=t1');
    expect(ws.protocol).toBe('chat.v1');
    expect(states.at(-1)?.status).toBe('connecting');

    ws.receive(hello());
    expect(events.onReady).toHaveBeenCalledOnce();
    expect(states.at(-1)?.status).toBe('online');
  });

  it('hands on parsed frames and ignores unknown ones', async () => {
    const { socket, events } = setup();
    vi.spyOn(console, 'debug').mockImplementation(() => {});
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.receive(hello());
    ws.receive({ type: 'poll', room: ROOM });
    ws.receive({ type: 'pong', nonce: 1 });
    expect(events.onFrame).toHaveBeenCalledTimes(1);
    expect(events.onFrame).toHaveBeenCalledWith({ type: 'pong', nonce: 1 });
  });

  it('reconnects with growing, jittered delays and a new ticket each time', async () => {
    const { socket, states } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.latest().drop(1006);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 1 });
    const first = backoffDelay(0, () => 0.5);
    await vi.advanceTimersByTimeAsync(first - 1);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.latest().url).toBe('ws://chat.test/ws?ticket=t2');

    FakeWebSocket.latest().drop(1006);
    expect(backoffDelay(1, () => 0.5)).toBeGreaterThan(first);
    await vi.advanceTimersByTimeAsync(backoffDelay(1, () => 0.5));
    expect(FakeWebSocket.instances).toHaveLength(3);

    FakeWebSocket.latest().receive(hello());
    expect(states.at(-1)).toMatchObject({ status: 'online', attempt: 0 });
  });

  it('comes back within a second when the gateway is going away (1001)', async () => {
    const { socket } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.latest().receive(hello());
    FakeWebSocket.latest().drop(1001);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('calls onReady again after a reconnect (the caller re-subscribes there)', async () => {
    const { socket, events } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    FakeWebSocket.latest().receive(hello());
    FakeWebSocket.latest().drop(1006);
    await vi.advanceTimersByTimeAsync(60_000);
    FakeWebSocket.latest().receive(hello());
    expect(events.onReady).toHaveBeenCalledTimes(2);
  });

  it('stops and says so when no ticket can be had without logging in again', async () => {
    const { socket, events, states } = setup({
      ticket: async () => {
        throw new ApiError(401, 'unauthenticated', 'authentication required');
      },
    });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(events.onAuthLost).toHaveBeenCalledOnce();
    expect(states.at(-1)?.status).toBe('stopped');
    expect(FakeWebSocket.instances).toHaveLength(0);
  });

  it('keeps trying when the ticket cannot be had for another reason', async () => {
    let calls = 0;
    const { socket } = setup({
      ticket: async () => {
        calls += 1;
        if (calls === 1) throw new ApiError(0, 'network', 'offline');
        return 'ok';
      },
    });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('sends a fresh token in an auth frame before the connection’s token expires', async () => {
    const { socket, deps } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.autoPong = true;
    ws.receive(hello(1_000_000));
    await vi.advanceTimersByTimeAsync(13 * 60_000);
    expect(ws.sentOfType('auth')).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000 + 1);
    expect(deps.freshToken).toHaveBeenCalledOnce();
    expect(ws.sentOfType('auth')).toEqual([{ type: 'auth', token: 'fresh-token' }]);
  });

  it('pings every heartbeat and drops a connection that stopped answering', async () => {
    const { socket } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.receive(hello(1_000));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ws.sentOfType('ping')).toEqual([{ type: 'ping', nonce: 1 }]);
    ws.receive({ type: 'pong', nonce: 1 });
    await vi.advanceTimersByTimeAsync(1_000 + PONG_WAIT_MS);
    expect(ws.closedWith).toBe(4000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it('finds a dead connection within 5 s, however long the server’s heartbeat', async () => {
    const { socket, states } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.receive(hello(20_000));
    // Alive while it answers: 30 s of pongs.
    for (let t = 0; t < 30_000; t += 500) {
      await vi.advanceTimersByTimeAsync(500);
      for (const ping of ws.sentOfType('ping').slice(ws.sentOfType('pong-seen').length)) {
        ws.receive({ type: 'pong', nonce: (ping as { nonce: number }).nonce });
        ws.sent.push({ type: 'pong-seen' });
      }
    }
    expect(ws.closedWith).toBeNull();
    expect(ws.sentOfType('ping').length).toBeGreaterThanOrEqual(14);
    // Then the network goes: no answer any more.
    await vi.advanceTimersByTimeAsync(PING_EVERY_MS + PONG_WAIT_MS);
    expect(PING_EVERY_MS + PONG_WAIT_MS).toBeLessThanOrEqual(5_000);
    expect(ws.closedWith).toBe(4000);
    expect(states.at(-1)?.status).toBe('reconnecting');
  });

  it('drops the connection at once when the browser goes offline, and reconnects at once when it is back', async () => {
    const { socket, states } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.receive(hello());
    socket.networkChanged(false);
    expect(ws.closedWith).toBe(4000);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', offline: true });
    // Attempts fail meanwhile, and the backoff grows.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(30_000);
      FakeWebSocket.latest().drop(1006);
    }
    const before = FakeWebSocket.instances.length;
    socket.networkChanged(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(before + 1);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', offline: false, attempt: 0 });
    FakeWebSocket.latest().receive(hello());
    expect(states.at(-1)).toMatchObject({ status: 'online', offline: false });
  });

  it('refuses to send before hello, and paces bursts of control frames', async () => {
    const { socket } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    expect(socket.send({ type: 'typing', room: ROOM })).toBe(false);
    ws.receive(hello(1_000_000));
    for (let i = 0; i < 100; i += 1) socket.send({ type: 'subscribe', room: ROOM, last_seq: i });
    expect(ws.sent.length).toBeLessThanOrEqual(40);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ws.sentOfType('subscribe')).toHaveLength(100);
    expect((ws.sentOfType('subscribe').at(-1) as { last_seq: number }).last_seq).toBe(99);
  });

  it('sends message frames at once, whatever the pace of control frames', async () => {
    const { socket } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    ws.receive(hello(1_000_000));
    for (let i = 0; i < 60; i += 1) socket.send({ type: 'typing', room: ROOM });
    socket.send({ type: 'send', room: ROOM, client_msg_id: 'c', body: 'hi' });
    expect(ws.sentOfType('send')).toHaveLength(1);
  });

  it('does not reconnect after stop()', async () => {
    const { socket } = setup();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = FakeWebSocket.latest();
    socket.stop();
    expect(ws.closedWith).toBe(1000);
    ws.drop(1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});

describe('backoffDelay', () => {
  it('doubles up to a cap and keeps at least half of each step', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(50, () => 1)).toBe(30_000);
    expect(backoffDelay(50, () => 0)).toBe(15_000);
  });
});
