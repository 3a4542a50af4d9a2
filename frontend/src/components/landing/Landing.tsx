// The first visit: what the product is, sign up / log in, and a read-only
// preview of the public rooms (GET /api/preview). Part of the first paint, so
// it imports no schema library and nothing of the signed-in app.
import { useEffect, useState } from 'react';
import { Avatar } from '../common/Avatar';
import { fetchPreview, type PreviewRoom } from './preview';
import './landing.css';

interface Props {
  onSignUp: () => void;
  onLogIn: () => void;
  /** Tests pass their own. */
  loadPreview?: () => Promise<PreviewRoom[] | null>;
}

export function Landing({ onSignUp, onLogIn, loadPreview = fetchPreview }: Props) {
  return (
    <div className="landing">
      <header className="landing-bar">
        <span className="landing-brand">
          <svg className="landing-logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <rect width="32" height="32" rx="7" />
            <path d="M8 10h16v9H14l-5 4v-4H8z" />
          </svg>
          Chat
        </span>
        <button type="button" className="link landing-login" onClick={onLogIn}>
          Log in
        </button>
      </header>
      <main className="landing-main">
        <section className="landing-hero" aria-labelledby="landing-title">
          <h1 id="landing-title">Chat</h1>
          <p className="landing-lede">
            Real-time rooms and direct messages in your browser. Messages arrive in order, are never lost, and
            come back where you left off.
          </p>
          <div className="landing-cta">
            <button type="button" className="primary" onClick={onSignUp}>
              Sign up, it’s free
            </button>
            <button type="button" onClick={onLogIn}>
              Log in
            </button>
          </div>
          <ul className="landing-points">
            <li>Public rooms anyone can join, private rooms by invitation, direct messages.</li>
            <li>Mentions, replies, reactions, edits and search.</li>
            <li>Works offline for a while: what you write is sent when the network is back.</li>
          </ul>
        </section>
        <PublicRooms load={loadPreview} />
      </main>
    </div>
  );
}

function PublicRooms({ load }: { load: () => Promise<PreviewRoom[] | null> }) {
  // undefined: loading; null: not available.
  const [rooms, setRooms] = useState<PreviewRoom[] | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    load().then((r) => {
      if (live) setRooms(r);
    });
    return () => {
      live = false;
    };
  }, [load]);

  return (
    <section className="landing-preview" aria-labelledby="preview-title" aria-busy={rooms === undefined}>
      <h2 id="preview-title">Happening now in public rooms</h2>
      {rooms === undefined ? (
        <p className="landing-muted">Loading the public rooms…</p>
      ) : rooms === null ? (
        <p className="landing-muted">The preview is not available right now.</p>
      ) : rooms.length === 0 ? (
        <p className="landing-muted">No public room yet: sign up and start the first.</p>
      ) : (
        <ul className="preview-rooms">
          {rooms.map((room) => (
            <li key={room.id} className="preview-room">
              <h3 dir="auto">#{room.name}</h3>
              <p className="preview-meta">
                {room.members === 1 ? '1 member' : `${room.members} members`}
                {room.topic ? (
                  <>
                    {' · '}
                    <span dir="auto">{room.topic}</span>
                  </>
                ) : null}
              </p>
              {room.messages.length === 0 ? (
                <p className="landing-muted">No message yet.</p>
              ) : (
                <ol className="preview-messages" aria-label={`Recent messages in #${room.name}`}>
                  {room.messages.map((m, i) => (
                    <li key={`${m.sent_at}-${i}`}>
                      <Avatar id={m.sender.id} username={m.sender.username} size={24} />
                      <span className="preview-sender" dir="auto">
                        {m.sender.username}
                      </span>{' '}
                      <span className="preview-body" dir="auto">
                        {m.body}
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
