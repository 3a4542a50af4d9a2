// A message's actions, shown on hover or focus (and behind a visible button on
// touch screens): react (the emoji picker, loaded when first opened), reply,
// edit and delete (one's own; delete also for moderators), report (others').
import { lazy, Suspense, useRef, useState } from 'react';

const EmojiPicker = lazy(() => import('./EmojiPicker'));

export interface MessageActionHandlers {
  onReact: (emoji: string) => void;
  onReply: () => void;
  onEdit?: (() => void) | undefined;
  onDelete?: (() => void) | undefined;
  onReport?: (() => void) | undefined;
}

export function MessageActionsBar({ label, handlers }: { label: string; handlers: MessageActionHandlers }) {
  const [open, setOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const reactButton = useRef<HTMLButtonElement>(null);

  function closePicker() {
    setPicking(false);
    reactButton.current?.focus();
  }

  return (
    <div className={open || picking ? 'msg-actions msg-actions-open' : 'msg-actions'}>
      <button type="button" className="msg-actions-toggle" aria-expanded={open} aria-label={`Actions for ${label}`} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">⋯</span>
      </button>
      <div className="msg-actions-buttons">
        <button ref={reactButton} type="button" aria-expanded={picking} onClick={() => setPicking(!picking)}>
          React
        </button>
        <button type="button" onClick={handlers.onReply}>
          Reply
        </button>
        {handlers.onEdit && (
          <button type="button" onClick={handlers.onEdit}>
            Edit
          </button>
        )}
        {handlers.onDelete && (
          <button type="button" onClick={handlers.onDelete}>
            Delete
          </button>
        )}
        {handlers.onReport && (
          <button type="button" onClick={handlers.onReport}>
            Report
          </button>
        )}
      </div>
      {picking && (
        <Suspense fallback={<p className="muted">Loading emoji…</p>}>
          <EmojiPicker
            onPick={(emoji) => {
              handlers.onReact(emoji);
              closePicker();
            }}
            onClose={closePicker}
          />
        </Suspense>
      )}
    </div>
  );
}
