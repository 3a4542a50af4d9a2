// The room's topic, and for its owner and moderators a way to change it.
import { useId, useState, type FormEvent } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';

export const TOPIC_MAX = 300;

export function TopicEditor({ room, topic, canEdit }: { room: string; topic: string; canEdit: boolean }) {
  const controller = useController();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(topic);
  const [error, setError] = useState<string | null>(null);
  const ids = useId();

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await controller.http.setTopic(room, text.trim());
      setEditing(false);
    } catch (caught) {
      setError(errorText(caught, 'Could not change the topic.'));
    }
  }

  if (editing) {
    return (
      <form className="topic-form inline-field" onSubmit={(e) => void save(e)}>
        <label htmlFor={`${ids}-topic`} className="visually-hidden">
          Topic
        </label>
        <input id={`${ids}-topic`} dir="auto" maxLength={TOPIC_MAX} value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" />
        <button type="submit">Save topic</button>
        <button type="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
        {error && (
          <span className="form-error" role="alert">
            {error}
          </span>
        )}
      </form>
    );
  }
  return (
    <p className="room-topic">
      {topic !== '' && <span dir="auto">{topic}</span>}
      {canEdit && (
        <>
          {' '}
          <button
            type="button"
            className="link"
            onClick={() => {
              setText(topic);
              setEditing(true);
            }}
          >
            {topic === '' ? 'Set a topic' : 'Edit topic'}
          </button>
        </>
      )}
    </p>
  );
}
