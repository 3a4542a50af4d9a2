// The left column: who is signed in, room search, the caller's rooms, new room, direct message.
import { useState } from 'react';
import { useChat } from '../../chat/context';
import { DirectMessageForm } from './DirectMessageForm';
import { MessageSearch } from './MessageSearch';
import { NewRoomForm } from './NewRoomForm';
import { RoomList } from './RoomList';
import { RoomSearch } from './RoomSearch';
import './sidebar.css';

export function Sidebar({ onLogOut }: { onLogOut: () => void }) {
  const me = useChat((s) => s.me);
  const [filter, setFilter] = useState('');
  return (
    <nav className="sidebar" aria-label="Rooms">
      <header className="sidebar-header">
        <p className="whoami">
          <span className="visually-hidden">Signed in as </span>
          <strong dir="auto">{me.username}</strong>
        </p>
        <button type="button" onClick={onLogOut}>
          Log out
        </button>
      </header>
      <RoomSearch query={filter} onQuery={setFilter} />
      <MessageSearch />
      <RoomList filter={filter} />
      <NewRoomForm />
      <DirectMessageForm />
    </nav>
  );
}
