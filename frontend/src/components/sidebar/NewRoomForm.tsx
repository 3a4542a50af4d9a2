// Creating a public or private room.
import { useId, useState, type FormEvent } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { NewRoomKind } from '../../wire';

export function NewRoomForm() {
  const controller = useController();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<NewRoomKind>('public');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') return setError('Give the room a name.');
    setBusy(true);
    setError(null);
    try {
      await controller.createRoom(trimmed, kind);
      setName('');
    } catch (caught) {
      setError(errorText(caught, 'Could not create the room.'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="sidebar-form">
      <summary>New room</summary>
      <form onSubmit={submit} noValidate>
        <label htmlFor={`${ids}-name`}>Name</label>
        <input id={`${ids}-name`} value={name} maxLength={80} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        <fieldset className="kind-choice">
          <legend>Who can join</legend>
          <label>
            <input type="radio" name={`${ids}-kind`} value="public" checked={kind === 'public'} onChange={() => setKind('public')} />
            Public: anyone can find and join it
          </label>
          <label>
            <input type="radio" name={`${ids}-kind`} value="private" checked={kind === 'private'} onChange={() => setKind('private')} />
            Private: members invite others
          </label>
        </fieldset>
        <p className="form-error" role="alert">
          {error}
        </p>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create room'}
        </button>
      </form>
    </details>
  );
}
