// The inline editor of one's own message: Enter saves, Shift+Enter a new line, Escape cancels.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { charCount, MAX_BODY_CHARS } from '../../wire';

export function EditForm({ body, onSave, onCancel }: { body: string; onSave: (body: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(body);
  const input = useRef<HTMLTextAreaElement>(null);
  const ids = useId();

  useEffect(() => {
    const el = input.current;
    if (el === null) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const empty = text.trim() === '';
  const tooLong = charCount(text) > MAX_BODY_CHARS;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (empty || tooLong) return;
    if (text === body) return onCancel();
    onSave(text);
  }

  return (
    <form className="edit-form" onSubmit={submit}>
      <label htmlFor={`${ids}-body`} className="visually-hidden">
        Edit the message
      </label>
      <textarea
        id={`${ids}-body`}
        ref={input}
        dir="auto"
        rows={2}
        value={text}
        aria-invalid={tooLong}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <div className="edit-buttons">
        <button type="submit" className="primary" disabled={empty || tooLong}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
