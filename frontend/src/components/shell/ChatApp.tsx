// The signed-in app: one controller (socket, stores) for the session, the
// room list beside the open room (whose address is in the URL), the
// connection banner above them; the unread total in the tab's title.
import { useEffect, useState } from 'react';
import type { ChatApi } from '../../api/endpoints';
import { ChatSocket, siteWebSocketUrl } from '../../api/socket';
import { ChatContext, useChat, useController } from '../../chat/context';
import { ChatController } from '../../chat/controller';
import { Activity } from '../../chat/activity';
import { isMuted } from '../../chat/mute';
import { browserNotifier, type Notifier } from '../../chat/notify';
import { bindRoute } from '../../chat/route';
import { BASE_TITLE, titleFor, totalUnread } from '../../chat/unread';
import type { UserRef } from '../../wire';
import { RoomView } from '../room/RoomView';
import { Sidebar } from '../sidebar/Sidebar';
import { ConnectionBanner } from './ConnectionBanner';
import { Notice } from './Notice';
import './shell.css';

export function createController(api: ChatApi, me: UserRef, notifier?: Notifier): ChatController {
  return new ChatController({
    api,
    me,
    isVisible: () => document.visibilityState === 'visible',
    onLiveMessage: (message) => notifier?.onMessage(message),
    createSocket: (events) =>
      new ChatSocket(
        {
          url: siteWebSocketUrl(window.location),
          ticket: async () => (await api.wsTicket()).ticket,
          freshToken: (ms) => api.http.freshToken(ms),
          tokenExpiresAt: () => api.http.tokenExpiresAt(),
        },
        events,
      ),
  });
}

interface Props {
  api: ChatApi;
  me: UserRef;
  onLoggedOut: () => void;
}

export function ChatApp({ api, me, onLoggedOut }: Props) {
  const [{ controller, notifier }] = useState(() => {
    const holder: { controller?: ChatController } = {};
    const notifier = browserNotifier({
      me,
      room: (id) => holder.controller?.getState().rooms?.find((r) => r.id === id),
      isMuted,
      open: (id) => holder.controller?.openRoom(id),
    });
    holder.controller = createController(api, me, notifier);
    return { controller: holder.controller, notifier };
  });

  useEffect(() => {
    controller.start();
    const unroute = bindRoute(controller);
    const visibility = () => controller.visibilityChanged();
    const online = () => controller.networkChanged(true);
    const offline = () => controller.networkChanged(false);
    if (!navigator.onLine) offline();
    // away after a while without input, back on the next (the server tells the rooms)
    const activity = new Activity({
      now: Date.now,
      after: (task, ms) => {
        const timer = setTimeout(task, ms);
        return () => clearTimeout(timer);
      },
      changed: (away) => controller.setAway(away),
    });
    const input = () => activity.input();
    const inputs = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;
    for (const name of inputs) window.addEventListener(name, input, { passive: true });
    activity.start();
    document.addEventListener('visibilitychange', visibility);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      activity.stop();
      for (const name of inputs) window.removeEventListener(name, input);
      document.removeEventListener('visibilitychange', visibility);
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      unroute();
      controller.stop();
    };
  }, [controller]);

  async function logOut() {
    controller.stop();
    // The next login starts from the list, not from this user's room.
    window.history.replaceState(null, '', '/');
    try {
      await api.logOut();
    } finally {
      onLoggedOut();
    }
  }

  return (
    <ChatContext.Provider value={controller}>
      <Shell onLogOut={logOut} notifier={notifier} />
    </ChatContext.Provider>
  );
}

function Shell({ onLogOut, notifier }: { onLogOut: () => void; notifier: Notifier }) {
  const active = useChat((s) => s.activeRoom);
  const controller = useController();
  const unread = useChat((s) => totalUnread(s.rooms));
  useEffect(() => {
    document.title = titleFor(unread);
  }, [unread]);
  useEffect(
    () => () => {
      document.title = BASE_TITLE;
    },
    [],
  );
  return (
    // The whole app is the page's main landmark: on a phone one pane shows at
    // a time, and each must be inside one (axe: landmark-one-main, region).
    <main className="shell" data-pane={active === null ? 'list' : 'room'}>
      <h1 className="visually-hidden">Chat</h1>
      <a className="skip-link" href={active === null ? '#room-search' : '#composer'}>
        {active === null ? 'Skip to room search' : 'Skip to message box'}
      </a>
      <ConnectionBanner />
      <Sidebar onLogOut={onLogOut} notifier={notifier} />
      <section className="main" aria-label="Conversation">
        {active === null ? (
          <div className="empty-room">
            <h2>No room open</h2>
            <p>Pick a room from the list, find one, or start a direct message.</p>
          </div>
        ) : (
          <RoomView key={active} room={active} onBack={() => controller.closeRoomView()} />
        )}
      </section>
      <Notice />
    </main>
  );
}
