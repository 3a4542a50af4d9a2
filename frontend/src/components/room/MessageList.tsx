// The room's messages, oldest first, then the bot's replies being written and
// the caller's own on their way; older pages load as you scroll up (or with
// the button, for keyboards); stays at the bottom as messages arrive (or a
// draft grows) and as the window or the list changes size (a phone's keyboard,
// a late layout) when it was at the bottom; a failed message of one's own is
// brought into view with its Retry. "New messages" above the first message
// that was unread when the room was opened.
import { Fragment, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useChat, useController } from '../../chat/context';
import { HIGHLIGHT_MS } from '../../chat/controller';
import { isShown } from '../../store/fold';
import { selectTimeline } from '../../store/messages';
import { firstUnreadId } from '../../chat/unread';
import type { ChatMessage } from '../../wire';
import type { QuotedMessage } from './ReplyQuote';
import { DraftItem } from './DraftItem';
import { MessageItem } from './MessageItem';
import { PendingItem } from './PendingItem';

/** Start loading older messages this close to the top (px). */
const NEAR_TOP = 120;
/** Counts as "at the bottom" within this (px). */
const NEAR_BOTTOM = 48;

export function MessageList({ room, loading }: { room: string; loading: boolean }) {
  const timeline = useChat((s) => selectTimeline(s.messages, room));
  const loadingOlder = useChat((s) => s.loadingOlder[room] === true);
  const me = useChat((s) => s.me);
  const role = useChat((s) => s.rooms?.find((r) => r.id === room)?.role);
  const highlight = useChat((s) => (s.highlight?.room === room ? s.highlight : null));
  const divider = useChat((s) => s.dividers[room]);
  const controller = useController();
  const [editing, setEditing] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef<{ firstId: string | undefined; height: number; top: number }>({ firstId: undefined, height: 0, top: 0 });

  const { messages: events, pending, drafts, hasOlder } = timeline;
  // Edits, deletes and reactions are folded into their messages: not shown themselves.
  const messages = useMemo(() => events.filter(isShown), [events]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const firstNew = useMemo(() => firstUnreadId(messages, divider, me.id), [messages, divider, me.id]);
  const highlightShown = highlight !== null && byId.has(highlight.id);
  const firstId = messages[0]?.id;
  const lastKey = pending.at(-1)?.clientMsgId ?? messages.at(-1)?.id;
  const failed = pending.reduce((n, p) => n + Number(p.state === 'failed'), 0);
  const failedBefore = useRef(failed);

  const loadOlder = useCallback(() => {
    if (hasOlder && !loadingOlder && messages.length > 0) void controller.loadOlder(room);
  }, [controller, room, hasOlder, loadingOlder, messages.length]);

  // Keep what was on screen in place when older messages are put above it;
  // follow new messages when at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const before = previous.current;
    const newFailure = failed > failedBefore.current;
    failedBefore.current = failed;
    if (newFailure) {
      // One's own messages on their way are last: the failure and its Retry are at the bottom.
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (before.firstId !== undefined && firstId !== before.firstId) {
      el.scrollTop = before.top + (el.scrollHeight - before.height);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    previous.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
  }, [firstId, lastKey, messages.length, drafts, failed]);

  // The list or the window changed size: stay at the bottom if it was there.
  useEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const pin = () => {
      if (!atBottom.current) return;
      el.scrollTop = el.scrollHeight;
      previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
    };
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', pin);
      return () => window.removeEventListener('resize', pin);
    }
    const observer = new ResizeObserver(pin);
    observer.observe(el);
    const list = el.querySelector('.message-list');
    if (list !== null) observer.observe(list);
    return () => observer.disconnect();
  }, []);

  // A message jumped to (a reply's original, a search result): into view, marked for a moment.
  useEffect(() => {
    if (highlight === null || !highlightShown) return;
    const el = document.getElementById(`msg-${highlight.id}`);
    if (el === null) return;
    atBottom.current = false;
    el.scrollIntoView?.({ block: 'center' });
    el.focus({ preventScroll: true });
    const timer = setTimeout(() => controller.clearHighlight(highlight.nonce), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [controller, highlight, highlightShown]);

  // A first page too short to scroll cannot be scrolled up: fetch more at once.
  useEffect(() => {
    const el = scroller.current;
    if (el !== null && el.clientHeight > 0 && el.scrollHeight <= el.clientHeight) loadOlder();
  }, [loadOlder]);

  function onScroll() {
    const el = scroller.current;
    if (el === null) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    previous.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < NEAR_TOP) loadOlder();
  }

  const empty = messages.length === 0 && pending.length === 0 && drafts.length === 0;
  return (
    <div ref={scroller} className="messages" onScroll={onScroll} tabIndex={0} aria-label="Messages" aria-busy={loading || loadingOlder}>
      {hasOlder && messages.length > 0 && (
        <button type="button" className="load-older" onClick={loadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
        </button>
      )}
      {!hasOlder && messages.length > 0 && <p className="history-start muted">This is the start of the room.</p>}
      {loading && empty && <p className="muted centered">Loading messages…</p>}
      {!loading && empty && <p className="muted centered">No messages yet. Say hello!</p>}
      <ol className="message-list">
        {messages.map((m, i) => (
          <Fragment key={m.id}>
          {m.id === firstNew && (
            <li className="new-divider">
              <span>New messages</span>
            </li>
          )}
          <MessageItem
            message={m}
            own={m.sender.id === me.id}
            continued={continues(messages[i - 1], m)}
            me={me}
            canModerate={role === 'owner' || role === 'moderator'}
            quoted={quotedOf(m, byId)}
            highlighted={highlight?.id === m.id}
            editing={editing === m.id}
            onEditing={setEditing}
          />
          </Fragment>
        ))}
        {drafts.map((d) => (
          <DraftItem key={d.id} draft={d} />
        ))}
        {pending.map((p) => (
          <PendingItem key={p.clientMsgId} pending={p} onRetry={() => controller.retry(room, p.clientMsgId)} />
        ))}
      </ol>
    </div>
  );
}

/** What a reply answers: the original as loaded (its current text), else the history's preview, else its id only. */
function quotedOf(m: ChatMessage, byId: ReadonlyMap<string, ChatMessage>): QuotedMessage | null {
  if (m.reply_to === undefined) return null;
  const original = byId.get(m.reply_to);
  if (original !== undefined) {
    return { id: original.id, seq: original.seq, sender: original.sender.username, body: original.body, deleted: original.deleted === true };
  }
  const p = m.reply_preview;
  if (p != null) return { id: p.id, seq: p.seq, sender: p.sender.username, body: p.body, deleted: p.deleted };
  return { id: m.reply_to, body: 'the original message', deleted: false };
}

/** Whether a message follows one of the same sender within five minutes (its name is not repeated). */
function continues(prev: ChatMessage | undefined, m: ChatMessage): boolean {
  return (
    prev !== undefined &&
    prev.op !== 'topic' &&
    prev.op !== 'moderation' &&
    prev.sender.id === m.sender.id &&
    prev.kind === m.kind &&
    Date.parse(m.sent_at) - Date.parse(prev.sent_at) < 5 * 60_000
  );
}
