// The caller's rooms and direct messages, with unread counts.
import { useChat, useController } from '../../chat/context';
import { Avatar } from '../common/Avatar';
import { roomLabel } from '../../chat/rooms';
import type { MyRoom } from '../../wire';

export function RoomList({ filter }: { filter: string }) {
  const rooms = useChat((s) => s.rooms);
  const error = useChat((s) => s.roomsError);
  const controller = useController();
  if (rooms === null) {
    return error ? (
      <p className="form-error" role="alert">
        {error}{' '}
        <button type="button" className="link" onClick={() => void controller.refreshRooms()}>
          Try again
        </button>
      </p>
    ) : (
      <p className="muted">Loading rooms…</p>
    );
  }
  const needle = filter.trim().toLowerCase();
  const shown = needle ? rooms.filter((r) => r.name.toLowerCase().includes(needle)) : rooms;
  const groups: [string, MyRoom[]][] = [
    ['Rooms', shown.filter((r) => r.kind !== 'direct')],
    ['Direct messages', shown.filter((r) => r.kind === 'direct')],
  ];
  return (
    <>
      {groups.map(([title, list]) => (
        <section key={title} aria-label={title} className="room-group">
          <h2 className="section-title">{title}</h2>
          {list.length === 0 ? (
            <p className="muted">{needle ? 'None match.' : title === 'Rooms' ? 'No rooms yet.' : 'No conversations yet.'}</p>
          ) : (
            <ul className="plain-list">
              {list.map((room) => (
                <RoomItem key={room.id} room={room} />
              ))}
            </ul>
          )}
        </section>
      ))}
    </>
  );
}

function RoomItem({ room }: { room: MyRoom }) {
  const active = useChat((s) => s.activeRoom === room.id);
  const controller = useController();
  const unread = room.unread > 0 && !active;
  const mentions = !active ? (room.mentions ?? 0) : 0;
  const mentionText = `@${mentions > 99 ? '99+' : mentions}`;
  const unreadText = room.unread > 99 ? '99+' : String(room.unread);
  // The visible words, in order, then what they mean in parentheses: the
  // accessible name holds the visible text (WCAG 2.5.3, axe's
  // label-content-name-mismatch ignores parentheticals):
  // "#general, private, @2 (mentions), 5 (unread)".
  const name = [
    roomLabel(room),
    room.kind === 'private' ? 'private' : '',
    mentions > 0 ? `${mentionText} (${mentions === 1 ? 'mention' : 'mentions'})` : '',
    unread ? `${unreadText} (unread)` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <li>
      <button type="button" className="room-item" aria-label={name} aria-current={active ? 'page' : undefined} onClick={() => controller.openRoom(room.id)}>
        {/* /api/rooms/mine does not name the other member's id: the hue is the conversation's. */}
        {room.kind === 'direct' && <Avatar id={room.id} username={room.name} size={24} />}
        <span className="room-name" dir="auto">
          {roomLabel(room)}
          {room.kind === 'private' && (
            <>
              {' '}
              <span className="tag">private</span>
            </>
          )}
        </span>{' '}
        {mentions > 0 && (
          <>
            <span className="badge badge-mention">{mentionText}</span>{' '}
          </>
        )}
        {unread && <span className="badge">{unreadText}</span>}
      </button>
    </li>
  );
}
