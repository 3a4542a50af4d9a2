// The message box: Enter sends, Shift+Enter starts a new line; typing is announced to the room.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useChat, useController } from '../../chat/context';
import { charCount, MAX_BODY_CHARS } from '../../wire';

export function Composer({ room, label }: { room: string; label: string }) {
  const controller = useController();
  const limit = useChat((s) => Math.min(s.limits?.max_body_chars ?? MAX_BODY_CHARS, MAX_BODY_CHARS));
  const [body, setBody] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const ids = useId();

  useEffect(() => {
    input.current?.focus();
  }, [room]);

  const length = charCount(body);
  const tooLong = length > limit;
  const empty = body.trim() === '';

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (empty || tooLong) return;
    controller.send(room, body);
    setBody('');
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer" className="visually-hidden">
        {label}
      </label>
      <textarea
        id="composer"
        ref={input}
        rows={2}
        value={body}
        placeholder={label}
        aria-describedby={`${ids}-hint ${ids}-count`}
        aria-invalid={tooLong}
        onKeyDown={onKeyDown}
        onChange={(e) => {
          setBody(e.target.value);
          if (e.target.value.trim() !== '') controller.typing(room);
        }}
      />
      <div className="composer-side">
        <button type="submit" className="primary" disabled={empty || tooLong}>
          Send
        </button>
        <p id={`${ids}-count`} className={tooLong ? 'count count-over' : 'count'} aria-live={tooLong ? 'polite' : 'off'}>
          {length > limit - 200 ? `${length} / ${limit}` : ''}
          {tooLong && <span className="visually-hidden"> characters, too long</span>}
        </p>
      </div>
      <p id={`${ids}-hint`} className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </p>
    </form>
  );
}
