// A message's reactions as chips: the emoji and its count; who reacted in the
// title (and the accessible name); a click adds or removes one's own.
import type { Reaction } from '../../wire';

const NAMED_MAX = 10;

export function Reactions({ reactions, onToggle }: { reactions: readonly Reaction[]; onToggle: ((emoji: string) => void) | undefined }) {
  if (reactions.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((r) => {
        const who = whoReacted(r);
        return (
          <li key={r.emoji}>
            <button
              type="button"
              className={r.me ? 'reaction reaction-mine' : 'reaction'}
              aria-pressed={r.me}
              title={who}
              aria-label={`${r.emoji} ${r.count}: ${who}`}
              disabled={onToggle === undefined}
              onClick={() => onToggle?.(r.emoji)}
            >
              <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** "alice, bob and 3 others": the names listed, then how many more. */
export function whoReacted(r: Reaction): string {
  const names = r.users.slice(0, NAMED_MAX).map((u) => u.username);
  const others = r.count - names.length;
  if (names.length === 0) return `${r.count} ${r.count === 1 ? 'person' : 'people'}`;
  if (others <= 0) return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(', ')} and ${names.at(-1) as string}`;
  return `${names.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
}
