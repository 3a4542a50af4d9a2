// The session gate: the landing page at once, while a login is restored from
// the refresh cookie; then the log-in and sign-up screens or the chat. The
// first paint is this file and the landing page only: the API client (with
// its schemas), the auth screens and the chat are chunks loaded behind it.
import { lazy, Suspense, useEffect, useState } from 'react';
import type { ChatApi } from './api/endpoints';
import { Landing } from './components/landing/Landing';
import { rememberSignedIn, wasSignedIn } from './sessionHint';
import type { UserRef } from './wire/common';

const AuthScreen = lazy(() => import('./components/auth/AuthScreen').then((m) => ({ default: m.AuthScreen })));
const ChatApp = lazy(() => import('./components/shell/ChatApp').then((m) => ({ default: m.ChatApp })));

async function createApi(): Promise<ChatApi> {
  const [{ ChatApi }, { HttpClient }] = await Promise.all([import('./api/endpoints'), import('./api/http')]);
  const locks = typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : undefined;
  return new ChatApi(new HttpClient({ locks }));
}

type Phase = { kind: 'restoring' } | { kind: 'signed-out'; notice?: string } | { kind: 'signed-in'; me: UserRef };
type Screen = 'landing' | 'login' | 'signup';

function Splash() {
  return (
    <p className="splash" role="status">
      Loading…
    </p>
  );
}

/** A returning user, or a room's address: the splash while restoring, not the landing page. */
function expectsSession(): boolean {
  return wasSignedIn() || (typeof window !== 'undefined' && window.location.pathname.startsWith('/r/'));
}

export function App({ api: given }: { api?: ChatApi }) {
  const [api, setApi] = useState<ChatApi | null>(given ?? null);
  const [phase, setPhase] = useState<Phase>({ kind: 'restoring' });
  const [screen, setScreen] = useState<Screen>('landing');
  const [splash] = useState(expectsSession);
  // A browser that never signed in has no refresh cookie: no request (and no
  // 401 in its console) until the visitor asks for the log-in or sign-up
  // screen, which tries then (a login from before the hint existed).
  const [restoring, setRestoring] = useState(splash);

  useEffect(() => {
    if (api !== null) return;
    let live = true;
    createApi().then(
      (created) => live && setApi(created),
      () => live && setPhase({ kind: 'signed-out', notice: 'Could not load the app. Please reload the page.' }),
    );
    return () => {
      live = false;
    };
  }, [api]);

  useEffect(() => {
    if (api === null) return;
    let live = true;
    const off = api.http.onSession((session) => {
      if (!live) return;
      rememberSignedIn(session !== null);
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
    if (!restoring) {
      setPhase((current) => (current.kind === 'restoring' ? { kind: 'signed-out' } : current));
    } else if (!api.http.hasSession()) {
      api.restore().catch(() => {
        if (live) setPhase({ kind: 'signed-out', notice: 'Could not reach the server.' });
      });
    }
    return () => {
      live = false;
      off();
    };
  }, [api, restoring]);

  function show(next: Screen) {
    setScreen(next);
    if (next !== 'landing') setRestoring(true);
  }

  const landing = <Landing onSignUp={() => show('signup')} onLogIn={() => show('login')} />;

  if (phase.kind === 'restoring') return splash ? <Splash /> : landing;
  if (phase.kind === 'signed-out') {
    // A notice (the session ended, the server is unreachable) goes with the log-in form.
    const mode = screen === 'landing' ? (phase.notice ? 'login' : null) : screen;
    if (mode === null || api === null) return landing;
    return (
      <Suspense fallback={<Splash />}>
        <AuthScreen
          key={mode}
          api={api}
          initialMode={mode}
          notice={phase.notice}
          onBack={() => {
            setPhase({ kind: 'signed-out' });
            show('landing');
          }}
        />
      </Suspense>
    );
  }
  return (
    <Suspense fallback={<Splash />}>
      <ChatApp
        api={api as ChatApi}
        me={phase.me}
        onLoggedOut={() => {
          rememberSignedIn(false);
          setScreen('login');
          setPhase({ kind: 'signed-out' });
        }}
      />
    </Suspense>
  );
}
