// The composer's @mention autocomplete: the room's members (fetched on the
// first `@`), those matching the name being typed, the active one, and the
// keys that move through them (arrows), choose one (Enter, Tab) or close the
// list (Escape).
import { useCallback, useEffect, useState, type KeyboardEvent } from 'react';
import { useChat, useController } from '../../chat/context';
import { completeMention, matchMembers, mentionAt, type MentionQuery } from '../../text/mentions';
import type { Member } from '../../wire';

export interface Mentions {
  /** The matching members while the list is open, else empty. */
  options: readonly Member[];
  active: number;
  /** Call with the text and caret after every change. */
  update: (text: string, caret: number) => void;
  /** Handles the list's keys; true when it used the key. */
  onKeyDown: (event: KeyboardEvent<HTMLTextAreaElement>) => boolean;
  choose: (member: Member) => void;
  close: () => void;
}

export function useMentions(room: string, text: string, apply: (text: string, caret: number) => void): Mentions {
  const controller = useController();
  const me = useChat((s) => s.me.id);
  const members = useChat((s) => s.members[room]);
  const [query, setQuery] = useState<{ at: MentionQuery; caret: number } | null>(null);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);

  useEffect(() => {
    if (query !== null && members === undefined) void controller.loadMembers(room).catch(() => undefined);
  }, [controller, room, query, members]);

  const options = query === null || dismissed === query.at.start ? [] : matchMembers((members ?? []).filter((m) => m.id !== me), query.at.query);

  const update = useCallback((next: string, caret: number) => {
    const at = mentionAt(next, caret);
    setQuery(at === null ? null : { at, caret });
    setActive(0);
    if (at === null) setDismissed(null);
  }, []);

  const choose = (member: Member) => {
    if (query === null) return;
    const done = completeMention(text, query.caret, query.at, member.username);
    setQuery(null);
    apply(done.text, done.caret);
  };

  const close = () => {
    if (query !== null) setDismissed(query.at.start);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (options.length === 0) return false;
    switch (event.key) {
      case 'ArrowDown':
        setActive((active + 1) % options.length);
        break;
      case 'ArrowUp':
        setActive((active - 1 + options.length) % options.length);
        break;
      case 'Enter':
      case 'Tab': {
        const member = options[Math.min(active, options.length - 1)];
        if (member === undefined || event.shiftKey) return false;
        choose(member);
        break;
      }
      case 'Escape':
        close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  };

  return { options, active: Math.min(active, Math.max(0, options.length - 1)), update, onKeyDown, choose, close };
}
