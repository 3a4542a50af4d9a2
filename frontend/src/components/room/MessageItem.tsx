// One delivered message: sender, time, "edited" (its versions on demand), the
// body as Markdown-subset React elements (never HTML), reactions, what it
// replies to, and its actions. Deleted: a tombstone. Topic and moderation
// events are compact lines (SystemLine).
import { memo, useContext, useState } from 'react';
import { ChatContext } from '../../chat/context';
import { mentionsMe } from '../../text/mentions';
import type { ChatMessage, UserRef } from '../../wire';
import { fullTime, shortTime } from '../common/format';
import { BotTag } from './BotTag';
import { EditForm } from './EditForm';
import { MessageActionsBar } from './MessageActionsBar';
import { MessageBody } from './MessageBody';
import { Reactions } from './Reactions';
import { ReplyQuote, preview, type QuotedMessage } from './ReplyQuote';
import { Avatar } from '../common/Avatar';
import { SystemLine } from './SystemLine';
import { Versions } from './Versions';

interface Props {
  message: ChatMessage;
  own: boolean;
  /** Same sender as the message before: the name is visually folded. */
  continued: boolean;
  me?: UserRef | undefined;
  /** The caller is the room's owner or a moderator (may delete any message). */
  canModerate?: boolean | undefined;
  /** What it replies to, when it does. */
  quoted?: QuotedMessage | null | undefined;
  highlighted?: boolean | undefined;
  editing?: boolean | undefined;
  onEditing?: ((id: string | null) => void) | undefined;
}

export const MessageItem = memo(function MessageItem({ message, own, continued, me, canModerate, quoted, highlighted, editing, onEditing }: Props) {
  const controller = useContext(ChatContext);
  const [showVersions, setShowVersions] = useState(false);
  if (message.kind === 'system' || message.op === 'topic' || message.op === 'moderation') return <SystemLine message={message} />;

  const room = message.room;
  const deleted = message.deleted === true;
  const mentioned = me !== undefined && mentionsMe(message, me);
  const classes = [
    'msg',
    `msg-${message.kind}`,
    own ? 'msg-own' : '',
    continued && quoted == null ? 'msg-continued' : '',
    mentioned ? 'msg-mention' : '',
    highlighted === true ? 'msg-highlight' : '',
    deleted ? 'msg-tombstone' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const sender = own ? 'You' : message.sender.username;
  const interactive = controller !== null && me !== undefined && !deleted;

  function remove() {
    if (controller !== null && window.confirm('Delete this message for everyone?')) controller.actions.remove(room, message.id);
  }

  function report() {
    if (controller === null) return;
    const reason = window.prompt('Why are you reporting this message? (optional)', '');
    if (reason === null) return;
    void controller.report(room, message.id, reason.slice(0, 500));
  }

  return (
    <li className={classes} id={`msg-${message.id}`} tabIndex={-1} aria-label={deleted ? `${sender}: message deleted` : undefined}>
      {quoted != null && (
        <ReplyQuote quoted={quoted} onJump={() => controller !== null && void controller.jumpToReply(room, quoted)} />
      )}
      <p className="msg-meta">
        {!own && !continued && <Avatar id={message.sender.id} username={message.sender.username} size={20} className="msg-avatar" />}
        <span className="msg-sender" dir="auto">
          {sender}
        </span>{' '}
        {message.kind === 'bot' && <BotTag />}{' '}
        <time dateTime={message.sent_at} title={fullTime(message.sent_at)}>
          {shortTime(message.sent_at)}
        </time>
        {message.edited_at != null && !deleted && (
          <>
            {' '}
            <button type="button" className="edited link" aria-expanded={showVersions} onClick={() => setShowVersions(!showVersions)} title={`Edited ${fullTime(message.edited_at)}: show versions`}>
              edited
            </button>
          </>
        )}
      </p>
      {deleted ? (
        <p className="msg-body msg-deleted">message deleted</p>
      ) : editing === true && controller !== null ? (
        <EditForm
          body={message.body}
          onCancel={() => onEditing?.(null)}
          onSave={(body) => {
            controller.actions.edit(room, message.id, body);
            onEditing?.(null);
          }}
        />
      ) : (
        <MessageBody body={message.body} me={me?.username ?? ''} />
      )}
      {showVersions && !deleted && <Versions room={room} message={message.id} body={message.body} onClose={() => setShowVersions(false)} />}
      {!deleted && (
        <Reactions reactions={message.reactions ?? []} onToggle={interactive ? (emoji) => controller.toggleReaction(room, message, emoji) : undefined} />
      )}
      {interactive && editing !== true && (
        <MessageActionsBar
          label={`${sender}: ${preview(message.body).slice(0, 40)}`}
          handlers={{
            onReact: (emoji) => controller.toggleReaction(room, message, emoji),
            onReply: () => controller.startReply(room, message),
            onEdit: own && message.kind === 'user' ? () => onEditing?.(message.id) : undefined,
            onDelete: own || canModerate === true ? remove : undefined,
            onReport: own ? undefined : report,
          }}
        />
      )}
    </li>
  );
});
