// Adding someone to a private room.
import { useId, useState, type FormEvent } from 'react';
import { ApiError } from '../../api/http';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';

export function InviteForm({ room }: { room: string }) {
  const controller = useController();
  const [username, setUsername] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const ids = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const name = username.trim();
    if (name === '') return;
    try {
      await controller.invite(room, name);
      setUsername('');
      setStatus(`${name} is now a member.`);
    } catch (caught) {
      setStatus(caught instanceof ApiError && caught.status === 404 ? `Nobody is called “${name}”.` : errorText(caught, 'Could not invite.', 'invite'));
    }
  }

  return (
    <details className="invite">
      <summary>Invite</summary>
      <form onSubmit={submit} className="invite-form">
        <label htmlFor={`${ids}-user`}>Username to invite</label>
        <div className="inline-field">
          <input id={`${ids}-user`} autoComplete="off" autoCapitalize="none" spellCheck={false} maxLength={32} value={username} onChange={(e) => setUsername(e.target.value)} />
          <button type="submit">Invite</button>
        </div>
        <p role="status" className="muted">
          {status}
        </p>
      </form>
    </details>
  );
}
