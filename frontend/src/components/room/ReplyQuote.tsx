// Above a reply: who and what it answers, as a button that brings the
// original into view (loading older messages if need be).
export interface QuotedMessage {
  readonly id: string;
  readonly seq?: number | undefined;
  readonly sender?: string | undefined;
  readonly body: string;
  readonly deleted: boolean;
}

const PREVIEW_CHARS = 120;

export function ReplyQuote({ quoted, onJump }: { quoted: QuotedMessage; onJump: () => void }) {
  const text = quoted.deleted ? 'message deleted' : preview(quoted.body);
  return (
    <button type="button" className="reply-quote" onClick={onJump} aria-label={`Replying to ${quoted.sender ?? 'a message'}: ${text}. Show the original`}>
      <span aria-hidden="true">↪ </span>
      {quoted.sender !== undefined && (
        <span className="reply-sender" dir="auto">
          {quoted.sender}
        </span>
      )}{' '}
      <span className={quoted.deleted ? 'reply-body msg-deleted' : 'reply-body'} dir="auto">
        {text}
      </span>
    </button>
  );
}

export function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS)}…` : flat;
}
