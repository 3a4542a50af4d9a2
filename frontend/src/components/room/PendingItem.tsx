// One of the caller's messages on its way: sending, sent, or failed with Retry.
import { memo } from 'react';
import type { PendingMessage } from '../../store/messages';

const STATE_TEXT = { sending: 'Sending…', sent: 'Sent', failed: 'Not sent', waiting: 'Waiting for slow mode…' } as const;

export const PendingItem = memo(function PendingItem({ pending, onRetry }: { pending: PendingMessage; onRetry: () => void }) {
  return (
    <li className={`msg msg-user msg-own msg-pending msg-${pending.state}`}>
      <p className="msg-meta">
        <span className="msg-sender">You</span> <span className="msg-state">{STATE_TEXT[pending.state]}</span>
      </p>
      <p className="msg-body" dir="auto">
        {pending.body}
      </p>
      {pending.state === 'failed' && (
        <p className="msg-failure" role="alert">
          {pending.error?.message ?? 'The message was not sent.'}{' '}
          <button type="button" onClick={onRetry} aria-label={`Retry sending: ${preview(pending.body)}`}>
            Retry
          </button>
        </p>
      )}
    </li>
  );
});

function preview(body: string): string {
  return body.length > 40 ? `${body.slice(0, 40)}…` : body;
}
