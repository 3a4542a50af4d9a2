// Log in and sign up: one form, two modes.
import { useId, useState, type FormEvent } from 'react';
import type { ChatApi } from '../../api/endpoints';
import { errorText } from '../../chat/errors';
import './auth.css';

type Mode = 'login' | 'signup';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;

/** The server's rules (`domain::Username`, `domain::Password`), checked early for a quicker answer. */
export function credentialProblem(mode: Mode, username: string, password: string): string | null {
  if (mode === 'login') return username && password ? null : 'Enter your username and password.';
  if (!USERNAME.test(username)) return 'A username is 3 to 32 letters, digits, “_”, “.” or “-”.';
  const chars = [...password].length;
  if (chars < 10 || chars > 128) return 'A password is 10 to 128 characters.';
  if (password.toLowerCase() === username.toLowerCase()) return 'The password must not be the username.';
  return null;
}

interface Props {
  api: ChatApi;
  notice?: string | undefined;
  initialMode?: Mode;
  /** Back to the landing page. */
  onBack?: () => void;
}

export function AuthScreen({ api, notice, initialMode = 'login', onBack }: Props) {
  const [mode, setMode] = useState<Mode>(initialMode);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = credentialProblem(mode, username.trim(), password);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    try {
      if (mode === 'login') await api.logIn(username.trim(), password);
      else await api.signUp(username.trim(), password);
    } catch (caught) {
      setError(errorText(caught, mode === 'login' ? 'Could not log in.' : 'Could not sign up.'));
      setBusy(false);
    }
  }

  function switchTo(next: Mode) {
    setMode(next);
    setError(null);
  }

  const title = mode === 'login' ? 'Log in' : 'Create an account';
  return (
    <main className="auth">
      <p className="auth-brand">Chat</p>
      <form className="auth-card" onSubmit={submit} noValidate aria-labelledby={`${ids}-title`}>
        <h1 id={`${ids}-title`}>{title}</h1>
        {notice && !error && <p className="auth-notice">{notice}</p>}
        <label htmlFor={`${ids}-user`}>Username</label>
        <input
          id={`${ids}-user`}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          maxLength={32}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          aria-describedby={mode === 'signup' ? `${ids}-user-hint` : undefined}
        />
        {mode === 'signup' && (
          <p id={`${ids}-user-hint`} className="hint">
            3 to 32 letters, digits, “_”, “.” or “-”.
          </p>
        )}
        <label htmlFor={`${ids}-pass`}>Password</label>
        <input
          id={`${ids}-pass`}
          name="password"
          type="password"
          autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
          required
          maxLength={128}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={mode === 'signup' ? `${ids}-pass-hint` : undefined}
        />
        {mode === 'signup' && (
          <p id={`${ids}-pass-hint`} className="hint">
            At least 10 characters, not your username.
          </p>
        )}
        <p className="form-error" role="alert">
          {error}
        </p>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Please wait…' : mode === 'login' ? 'Log in' : 'Sign up'}
        </button>
        <p className="auth-switch">
          {mode === 'login' ? 'New here?' : 'Have an account?'}{' '}
          <button type="button" className="link" onClick={() => switchTo(mode === 'login' ? 'signup' : 'login')}>
            {mode === 'login' ? 'Create an account' : 'Log in'}
          </button>
        </p>
        {onBack && (
          <p className="auth-switch">
            <button type="button" className="link" onClick={onBack}>
              About Chat and its public rooms
            </button>
          </p>
        )}
      </form>
    </main>
  );
}
