// The message box: Enter sends, Shift+Enter starts a new line; typing is
// announced to the room. Above it, the message being answered (Escape or the
// button cancels); `@` opens the members' autocomplete (a textbox with
// aria-autocomplete and aria-activedescendant over a listbox: a textarea
// cannot take the combobox role); in slow mode a countdown, the text kept.
import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useChat, useController } from '../../chat/context';
import { selectSlowUntil } from '../../store/messages';
import { charCount, MAX_BODY_CHARS } from '../../wire';
import { useNow } from '../common/useNow';
import { preview } from './ReplyQuote';
import { useMentions } from './useMentions';

export function Composer({ room, label }: { room: string; label: string }) {
  const controller = useController();
  const limit = useChat((s) => Math.min(s.limits?.max_body_chars ?? MAX_BODY_CHARS, MAX_BODY_CHARS));
  const replying = useChat((s) => s.replying[room]);
  const me = useChat((s) => s.me.id);
  const slowUntil = useChat((s) => selectSlowUntil(s.messages, room));
  const now = useNow(slowUntil !== null, 500);
  const [body, setBody] = useState('');
  const caretAfter = useRef<number | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const ids = useId();
  const mentions = useMentions(room, body, (text, caret) => {
    caretAfter.current = caret;
    setBody(text);
  });

  useEffect(() => {
    input.current?.focus();
  }, [room, replying]);

  useLayoutEffect(() => {
    if (caretAfter.current === null || input.current === null) return;
    input.current.setSelectionRange(caretAfter.current, caretAfter.current);
    caretAfter.current = null;
  }, [body]);

  const length = charCount(body);
  const tooLong = length > limit;
  const empty = body.trim() === '';
  const waitSecs = slowUntil !== null && slowUntil > now ? Math.ceil((slowUntil - now) / 1000) : 0;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    if (empty || tooLong || waitSecs > 0) return;
    controller.send(room, body);
    setBody('');
    mentions.update('', 0);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing || mentions.onKeyDown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && replying !== undefined) {
      event.preventDefault();
      controller.cancelReply(room);
    }
  }

  const listId = `${ids}-mentions`;
  const open = mentions.options.length > 0;
  const optionId = (i: number) => `${ids}-mention-${i}`;
  return (
    <form className="composer" onSubmit={submit}>
      {replying !== undefined && (
        <div className="composer-reply">
          <p id={`${ids}-reply`}>
            Replying to{' '}
            <strong dir="auto">{replying.sender.id === me ? 'yourself' : replying.sender.username}</strong>:{' '}
            <span dir="auto">{preview(replying.body)}</span>
          </p>
          <button type="button" onClick={() => controller.cancelReply(room)}>
            Cancel reply
          </button>
        </div>
      )}
      <label htmlFor="composer" className="visually-hidden">
        {label}
      </label>
      <textarea
        id="composer"
        ref={input}
        rows={2}
        dir="auto"
        value={body}
        placeholder={label}
        aria-describedby={`${ids}-hint ${ids}-count${replying !== undefined ? ` ${ids}-reply` : ''}${waitSecs > 0 ? ` ${ids}-slow` : ''}`}
        aria-invalid={tooLong}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? optionId(mentions.active) : undefined}
        onKeyDown={onKeyDown}
        onBlur={() => mentions.close()}
        onSelect={(e) => mentions.update(e.currentTarget.value, e.currentTarget.selectionStart)}
        onChange={(e) => {
          setBody(e.target.value);
          mentions.update(e.target.value, e.target.selectionStart);
          if (e.target.value.trim() !== '') controller.typing(room);
        }}
      />
      {open && (
        <ul id={listId} role="listbox" aria-label="Members to mention" className="mention-list">
          {mentions.options.map((m, i) => (
            <li
              key={m.id}
              id={optionId(i)}
              role="option"
              aria-selected={i === mentions.active}
              className={i === mentions.active ? 'mention-option mention-option-active' : 'mention-option'}
              // mousedown, not click: the textarea keeps the focus.
              onMouseDown={(e) => {
                e.preventDefault();
                mentions.choose(m);
              }}
            >
              <span dir="auto">{m.username}</span>
              {m.role !== 'member' && <span className="muted"> {m.role}</span>}
            </li>
          ))}
        </ul>
      )}
      <div className="composer-side">
        <button type="submit" className="primary" disabled={empty || tooLong || waitSecs > 0}>
          Send
        </button>
        <p id={`${ids}-count`} className={tooLong ? 'count count-over' : 'count'} aria-live={tooLong ? 'polite' : 'off'}>
          {length > limit - 200 ? `${length} / ${limit}` : ''}
          {tooLong && <span className="visually-hidden"> characters, too long</span>}
        </p>
      </div>
      <p id={`${ids}-slow`} className="composer-slow" role="status">
        {waitSecs > 0 ? `Slow mode: your message goes in ${waitSecs} s; you can send again then.` : ''}
      </p>
      <p id={`${ids}-hint`} className="visually-hidden">
        Enter sends, Shift+Enter starts a new line. Type @ to mention someone.
      </p>
      <p className="visually-hidden" role="status">
        {open ? `${mentions.options.length} ${mentions.options.length === 1 ? 'member matches' : 'members match'}; arrows to choose, Enter to insert.` : ''}
      </p>
    </form>
  );
}
