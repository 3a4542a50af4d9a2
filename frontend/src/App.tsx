// The session gate: restores a login from the refresh cookie, else shows the
// log-in and sign-up screens; signed in, the chat.
import { useEffect, useState } from 'react';
import { ChatApi } from './api/endpoints';
import { HttpClient } from './api/http';
import { AuthScreen } from './components/auth/AuthScreen';
import { ChatApp } from './components/shell/ChatApp';
import type { UserRef } from './wire';

function createApi(): ChatApi {
  const locks = typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : undefined;
  return new ChatApi(new HttpClient({ locks }));
}

type Phase = { kind: 'restoring' } | { kind: 'signed-out'; notice?: string } | { kind: 'signed-in'; me: UserRef };

export function App({ api: given }: { api?: ChatApi }) {
  const [api] = useState(() => given ?? createApi());
  const [phase, setPhase] = useState<Phase>({ kind: 'restoring' });

  useEffect(() => {
    let live = true;
    const off = api.http.onSession((session) => {
      if (!live) return;
      setPhase((current) =>
        session !== null
          ? current.kind === 'signed-in' && current.me.id === session.user.id
            ? current
            : { kind: 'signed-in', me: session.user }
          : current.kind === 'signed-in'
            ? { kind: 'signed-out', notice: 'Your session has ended. Please log in again.' }
            : current.kind === 'restoring'
              ? { kind: 'signed-out' }
              : current,
      );
    });
    if (!api.http.hasSession()) {
      api.restore().catch(() => {
        if (live) setPhase({ kind: 'signed-out', notice: 'Could not reach the server.' });
      });
    }
    return () => {
      live = false;
      off();
    };
  }, [api]);

  if (phase.kind === 'restoring') {
    return (
      <p className="splash" role="status">
        Loading…
      </p>
    );
  }
  if (phase.kind === 'signed-out') return <AuthScreen api={api} notice={phase.notice} />;
  return <ChatApp api={api} me={phase.me} onLoggedOut={() => setPhase({ kind: 'signed-out' })} />;
}
