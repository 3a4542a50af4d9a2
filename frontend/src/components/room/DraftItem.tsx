// The bot's reply while it is being written: its text so far, marked as a bot's
// and as still being written. The body is a text node: never parsed as HTML.
import { memo } from 'react';
import type { BotDraft } from '../../store/drafts';
import { BotTag } from './BotTag';

export const DraftItem = memo(function DraftItem({ draft }: { draft: BotDraft }) {
  return (
    <li className="msg msg-bot msg-draft">
      <p className="msg-meta">
        <span className="msg-sender" dir="auto">
          {draft.sender.username}
        </span> <BotTag />{' '}
        {/* Announced once, politely; the text itself is read when it is final (LiveAnnouncer). */}
        <span className="msg-state msg-writing" role="status">
          <span className="visually-hidden">{draft.sender.username} is </span>writing…
        </span>
      </p>
      {draft.body !== '' && (
        <p className="msg-body" aria-busy="true" dir="auto">
          {draft.body}
        </p>
      )}
    </li>
  );
});
