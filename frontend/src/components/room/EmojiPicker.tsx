// The reaction picker, loaded only when first opened (React.lazy): the common
// emoji, a search over the bundled list (emojiData.ts), arrows to move in the
// grid, Enter or a click to choose, Escape to close.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { COMMON_COUNT, EMOJI } from './emojiData';

const COLUMNS = 6;
const SHOWN_MAX = 48;

export default function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const ids = useId();

  useEffect(() => search.current?.focus(), []);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (q === '') return EMOJI.slice(0, COMMON_COUNT * 2);
    return EMOJI.filter((e) => e.words.toLowerCase().includes(q) || e.emoji === q).slice(0, SHOWN_MAX);
  }, [query]);

  function onGridKey(event: KeyboardEvent<HTMLDivElement>) {
    const buttons = [...(grid.current?.querySelectorAll('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[event.key];
    if (step === undefined || at === -1) return;
    event.preventDefault();
    const next = at + step;
    if (next < 0 && event.key === 'ArrowUp') return search.current?.focus();
    buttons[Math.max(0, Math.min(buttons.length - 1, next))]?.focus();
  }

  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  }

  return (
    <div className="emoji-picker" role="dialog" aria-label="Choose a reaction" onKeyDown={onKey}>
      <label htmlFor={`${ids}-q`} className="visually-hidden">
        Search emoji
      </label>
      <input
        id={`${ids}-q`}
        ref={search}
        type="search"
        placeholder="Search emoji"
        autoComplete="off"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            grid.current?.querySelector('button')?.focus();
          } else if (e.key === 'Enter') {
            e.preventDefault();
            const first = shown[0];
            if (first !== undefined) onPick(first.emoji);
          }
        }}
      />
      <div ref={grid} className="emoji-grid" onKeyDown={onGridKey}>
        {shown.map((e) => (
          <button key={e.emoji} type="button" className="emoji-choice" title={e.words} onClick={() => onPick(e.emoji)}>
            {e.emoji}
          </button>
        ))}
      </div>
      {shown.length === 0 && <p className="muted">No emoji match.</p>}
      <button type="button" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
