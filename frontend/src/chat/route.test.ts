// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bindRoute, pathOfRoom, roomOfPath, type Routable } from './route';
import { OTHER_ROOM, ROOM } from '../test/fixtures';

/** A controller stand-in: just the active room. */
function fakeController(): Routable & { active: string | null } {
  const listeners = new Set<() => void>();
  const c = {
    active: null as string | null,
    getState: () => ({ activeRoom: c.active }),
    subscribe: (l: () => void) => (listeners.add(l), () => void listeners.delete(l)),
    openRoom: vi.fn((room: string) => {
      c.active = room;
      for (const l of listeners) l();
    }),
    closeRoomView: vi.fn(() => {
      c.active = null;
      for (const l of listeners) l();
    }),
  };
  return c;
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in 2 s');
    await new Promise((done) => setTimeout(done, 5));
  }
}

let unbind: () => void = () => {};
beforeEach(() => window.history.replaceState(null, '', '/'));
afterEach(() => unbind());

describe('room addresses', () => {
  it('name a room by its id, and nothing else', () => {
    expect(roomOfPath(pathOfRoom(ROOM))).toBe(ROOM);
    expect(roomOfPath('/')).toBeNull();
    expect(roomOfPath('/r/not-a-room')).toBeNull();
    expect(pathOfRoom(null)).toBe('/');
  });
});

describe('the route', () => {
  it('puts the open room in the address, and the list back when it closes', async () => {
    const c = fakeController();
    unbind = bindRoute(c);
    c.openRoom(ROOM);
    expect(window.location.pathname).toBe(`/r/${ROOM}`);
    c.openRoom(OTHER_ROOM);
    expect(window.location.pathname).toBe(`/r/${OTHER_ROOM}`);
    const length = window.history.length;
    c.closeRoomView();
    await until(() => window.location.pathname === '/');
    // Went back to the list's entry rather than stacking a new one.
    expect(window.history.length).toBe(length);
  });

  it('opens the room of the address on load (a reload, a shared link), with the list beneath for Back', async () => {
    window.history.replaceState(null, '', `/r/${ROOM}`);
    const c = fakeController();
    unbind = bindRoute(c);
    expect(c.openRoom).toHaveBeenCalledWith(ROOM);
    expect(window.location.pathname).toBe(`/r/${ROOM}`);
    window.history.back();
    await until(() => c.active === null);
    expect(window.location.pathname).toBe('/');
  });

  it('returns to the list on Back (popstate), and to the room on Forward', async () => {
    const c = fakeController();
    unbind = bindRoute(c);
    c.openRoom(ROOM);
    window.history.back();
    await until(() => c.active === null);
    expect(c.closeRoomView).toHaveBeenCalled();
    window.history.forward();
    await until(() => c.active === ROOM);
  });
});
