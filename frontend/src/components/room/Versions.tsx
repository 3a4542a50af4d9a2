// An edited message's versions (GET .../versions): the original first, then each edit.
import { useEffect, useState } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { MessageVersions } from '../../wire';
import { fullTime } from '../common/format';

export function Versions({ room, message, onClose }: { room: string; message: string; onClose: () => void }) {
  const controller = useController();
  const [versions, setVersions] = useState<MessageVersions['versions'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    controller.http.versions(room, message).then(
      (v) => current && setVersions(v.versions),
      (caught: unknown) => current && setError(errorText(caught, 'Could not load the versions.')),
    );
    return () => {
      current = false;
    };
  }, [controller, room, message]);

  return (
    <section className="versions" aria-label="Versions of the message">
      {error !== null && <p className="form-error" role="alert">{error}</p>}
      {versions === null && error === null && <p className="muted">Loading versions…</p>}
      {versions !== null && (
        <ol className="versions-list">
          {versions.map((v, i) => (
            <li key={v.seq}>
              <p className="muted">
                {i === 0 ? 'Original' : `Edit ${i}`}, <time dateTime={v.edited_at}>{fullTime(v.edited_at)}</time>
              </p>
              <p className="versions-body" dir="auto">
                {v.body}
              </p>
            </li>
          ))}
        </ol>
      )}
      <button type="button" onClick={onClose}>
        Close versions
      </button>
    </section>
  );
}
