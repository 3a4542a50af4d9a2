// The open room in the address bar: `/r/<room id>` for a room, `/` for the
// list. Opening a room from the list pushes an entry (so Back, on a phone,
// returns to the list); switching rooms replaces it; a reload or a shared
// link opens the room of the address; Back and Forward open what they name.

const ROOM_PATH = /^\/r\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i;

/** The room an address names, or null (the list, or anything else). */
export function roomOfPath(pathname: string): string | null {
  return ROOM_PATH.exec(pathname)?.[1]?.toLowerCase() ?? null;
}

/** The address of a room, or of the list. */
export function pathOfRoom(room: string | null): string {
  return room === null ? '/' : `/r/${room}`;
}

/** What the route needs of the controller. */
export interface Routable {
  getState(): { readonly activeRoom: string | null };
  subscribe(listener: () => void): () => void;
  openRoom(room: string): void;
  closeRoomView(): void;
}

/** Our mark on the history entries this page pushed over the list. */
interface EntryState {
  readonly chatPushed?: true;
}

/**
 * Keeps `controller.activeRoom` and the address in step, both ways, until the
 * returned function is called.
 */
export function bindRoute(controller: Routable, win: Window = window): () => void {
  let shown = roomOfPath(win.location.pathname);
  if (shown !== null) {
    if ((win.history.state as EntryState | null)?.chatPushed !== true) {
      // A shared link or a new tab: put the list beneath, for Back.
      win.history.replaceState(null, '', '/');
      win.history.pushState({ chatPushed: true } satisfies EntryState, '', pathOfRoom(shown));
    }
    controller.openRoom(shown);
  } else if (win.location.pathname !== '/') {
    win.history.replaceState(null, '', '/');
  }

  const onPopState = () => {
    shown = roomOfPath(win.location.pathname);
    if (shown === null) controller.closeRoomView();
    else if (controller.getState().activeRoom !== shown) controller.openRoom(shown);
  };

  const onChange = () => {
    const active = controller.getState().activeRoom;
    if (active === shown) return;
    const before = shown;
    shown = active;
    const pushed = (win.history.state as EntryState | null)?.chatPushed === true;
    if (before === null && active !== null) {
      win.history.pushState({ chatPushed: true } satisfies EntryState, '', pathOfRoom(active));
    } else if (active !== null) {
      win.history.replaceState(win.history.state, '', pathOfRoom(active));
    } else if (pushed) {
      // Back to the list: the entry below is the list, so go there rather than stack another.
      win.history.back();
    } else {
      win.history.replaceState(null, '', '/');
    }
  };

  win.addEventListener('popstate', onPopState);
  const unsubscribe = controller.subscribe(onChange);
  return () => {
    win.removeEventListener('popstate', onPopState);
    unsubscribe();
  };
}
