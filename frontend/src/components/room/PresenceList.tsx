// Who is online in the room (signed in somewhere), and who of them is away.
import { useChat } from '../../chat/context';
import { Avatar } from '../common/Avatar';

export function PresenceList({ room }: { room: string }) {
  const online = useChat((s) => s.presence[room]);
  const me = useChat((s) => s.me);
  const users = Object.values(online ?? {}).sort((a, b) => a.username.localeCompare(b.username));
  // Its line is kept while nobody is known to be online yet, so that the
  // messages below do not move when the list arrives (a layout shift).
  if (users.length === 0) {
    return (
      <div className="presence" aria-hidden="true">
        <span className="presence-placeholder" />
      </div>
    );
  }
  return (
    <details className="presence">
      <summary>{users.length} online</summary>
      <ul aria-label="Online now" className="presence-list">
        {users.map((u) => (
          <li key={u.id}>
            <span className={u.status === 'away' ? 'dot away' : 'dot'} aria-hidden="true" />
            <Avatar id={u.id} username={u.username} size={20} className="presence-avatar" />
            <span dir="auto">{u.username}</span>
            {u.id === me.id && <span className="muted"> (you)</span>}
            <span className="muted presence-status"> {u.status === 'away' ? 'away' : 'online'}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}
