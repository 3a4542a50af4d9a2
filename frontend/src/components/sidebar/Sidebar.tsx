// The left column: who is signed in, room search, the caller's rooms, new room, direct message.
import { useState } from 'react';
import { useChat } from '../../chat/context';
import type { Notifier } from '../../chat/notify';
import { Avatar } from '../common/Avatar';
import { NotificationsToggle } from './NotificationsToggle';
import { DirectMessageForm } from './DirectMessageForm';
import { MessageSearch } from './MessageSearch';
import { NewRoomForm } from './NewRoomForm';
import { RoomList } from './RoomList';
import { RoomSearch } from './RoomSearch';
import './sidebar.css';

export function Sidebar({ onLogOut, notifier }: { onLogOut: () => void; notifier?: Notifier | undefined }) {
  const me = useChat((s) => s.me);
  const [filter, setFilter] = useState('');
  // The forms below the list come with it: shown before, the list would push them down.
  const listed = useChat((s) => s.rooms !== null || s.roomsError !== null);
  return (
    <nav className="sidebar" aria-label="Rooms">
      <header className="sidebar-header">
        <p className="whoami">
          <Avatar id={me.id} username={me.username} size={28} />
          <span className="visually-hidden">Signed in as </span>
          <strong dir="auto">{me.username}</strong>
        </p>
        <button type="button" onClick={onLogOut}>
          Log out
        </button>
      </header>
      {notifier && <NotificationsToggle notifier={notifier} />}
      <RoomSearch query={filter} onQuery={setFilter} />
      <MessageSearch />
      <RoomList filter={filter} />
      {listed && <NewRoomForm />}
      {listed && <DirectMessageForm />}
    </nav>
  );
}
