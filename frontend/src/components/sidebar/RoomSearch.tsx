// One search box: it filters the caller's rooms and finds public rooms to join.
import { useEffect, useId, useState } from 'react';
import { useChat, useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { Room } from '../../wire';

const SEARCH_DELAY_MS = 300;

export function RoomSearch({ query, onQuery }: { query: string; onQuery: (q: string) => void }) {
  const controller = useController();
  const mine = useChat((s) => s.rooms);
  const [found, setFound] = useState<Room[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  const ids = useId();

  useEffect(() => {
    const q = query.trim();
    if (q === '') {
      setFound(null);
      setError(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      controller.searchRooms(q).then(
        (rooms) => current && (setFound(rooms), setError(null)),
        (caught: unknown) => current && setError(errorText(caught, 'Search failed.')),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, controller]);

  async function join(room: Room) {
    setJoining(room.id);
    try {
      await controller.joinRoom(room.id);
      onQuery('');
    } catch (caught) {
      setError(errorText(caught, 'Could not join the room.', 'join'));
    } finally {
      setJoining(null);
    }
  }

  const memberOf = new Set((mine ?? []).map((r) => r.id));
  const joinable = (found ?? []).filter((r) => !memberOf.has(r.id));
  return (
    <div role="search" className="room-search">
      <label htmlFor="room-search" className="visually-hidden">
        Find rooms
      </label>
      <input
        id="room-search"
        type="search"
        placeholder="Find rooms"
        autoComplete="off"
        value={query}
        onChange={(e) => onQuery(e.target.value)}
        aria-describedby={`${ids}-status`}
      />
      <p id={`${ids}-status`} className="form-error" role="alert">
        {error}
      </p>
      {found !== null && (
        <section aria-labelledby={`${ids}-public`} className="search-results">
          <h2 id={`${ids}-public`} className="section-title">
            Public rooms
          </h2>
          {joinable.length === 0 ? (
            <p className="muted">No other public room matches.</p>
          ) : (
            <ul className="plain-list">
              {joinable.map((room) => (
                <li key={room.id} className="search-result">
                  <span className="room-name" dir="auto">
                    #{room.name}
                  </span>
                  {room.member_count !== undefined && (
                    <span className="muted"> {room.member_count} {room.member_count === 1 ? 'member' : 'members'}</span>
                  )}
                  <button type="button" onClick={() => void join(room)} disabled={joining !== null} aria-label={`Join #${room.name}`}>
                    {joining === room.id ? 'Joining…' : 'Join'}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}
