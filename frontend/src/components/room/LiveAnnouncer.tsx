// Announces new messages from others to screen readers (politely), without
// reading out history as it loads.
import { useEffect, useRef, useState } from 'react';
import { useChat } from '../../chat/context';
import { opOf } from '../../store/fold';
import { selectTimeline } from '../../store/messages';

export function LiveAnnouncer({ room }: { room: string }) {
  // The last message: edits, reactions and room events are not read out.
  const last = useChat((s) => selectTimeline(s.messages, room).messages.findLast((m) => opOf(m) === 'message'));
  const me = useChat((s) => s.me);
  const [text, setText] = useState('');
  const seen = useRef<number | null>(null);

  useEffect(() => {
    if (last === undefined) return;
    const first = seen.current === null;
    if (!first && last.seq > (seen.current ?? 0) && last.sender.id !== me.id) {
      setText(`${last.sender.username}${last.kind === 'bot' ? ' (bot)' : ''}: ${last.body}`);
    }
    seen.current = Math.max(seen.current ?? 0, last.seq);
  }, [last, me.id]);

  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true">
      {text}
    </div>
  );
}
