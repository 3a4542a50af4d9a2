// Starting (or reopening) a direct conversation by username.
import { useId, useState, type FormEvent } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import { ApiError } from '../../api/http';

export function DirectMessageForm() {
  const controller = useController();
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const name = username.trim();
    if (name === '') return setError('Enter a username.');
    setBusy(true);
    setError(null);
    try {
      await controller.openDirect(name);
      setUsername('');
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 404 ? `Nobody is called “${name}”.` : errorText(caught, 'Could not open the conversation.', 'direct'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="sidebar-form dm-form" onSubmit={submit} noValidate>
      <label htmlFor={`${ids}-user`}>Direct message</label>
      <div className="inline-field">
        <input
          id={`${ids}-user`}
          placeholder="Username"
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          maxLength={32}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Opening…' : 'Message'}
        </button>
      </div>
      <p className="form-error" role="alert">
        {error}
      </p>
    </form>
  );
}
