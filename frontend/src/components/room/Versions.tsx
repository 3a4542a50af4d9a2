// An edited message's versions (GET .../versions): the original first, then each edit.
// The list is stored by the writer a moment after an edit is acknowledged: while
// its newest text is not the one shown, it is asked again (every 500 ms, at most
// 20 times), so a panel opened just after an edit is not left without it.
import { useEffect, useState } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { MessageVersions } from '../../wire';
import { fullTime } from '../common/format';

export const VERSIONS_RETRY_MS = 500;
export const VERSIONS_TRIES = 20;

export function Versions({
  room,
  message,
  body,
  onClose,
}: {
  room: string;
  message: string;
  /** The text shown now, which the newest stored version should be. */
  body: string;
  onClose: () => void;
}) {
  const controller = useController();
  const [versions, setVersions] = useState<MessageVersions['versions'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = (tries: number) => {
      controller.http.versions(room, message).then(
        (v) => {
          if (!current) return;
          setVersions(v.versions);
          if (v.versions.at(-1)?.body !== body && tries > 1) {
            timer = setTimeout(() => load(tries - 1), VERSIONS_RETRY_MS);
          }
        },
        (caught: unknown) => current && setError(errorText(caught, 'Could not load the versions.')),
      );
    };
    load(VERSIONS_TRIES);
    return () => {
      current = false;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [controller, room, message, body]);

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
