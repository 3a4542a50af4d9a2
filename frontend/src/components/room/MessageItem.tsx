// One delivered message. The body is a text node: never parsed as HTML.
import { memo } from 'react';
import type { ChatMessage } from '../../wire';
import { fullTime, shortTime } from '../common/format';
import { BotTag } from './BotTag';

interface Props {
  message: ChatMessage;
  own: boolean;
  /** Same sender as the message before: the name is visually folded. */
  continued: boolean;
}

export const MessageItem = memo(function MessageItem({ message, own, continued }: Props) {
  if (message.kind === 'system') {
    return (
      <li className="msg msg-system">
        <p className="msg-body">{message.body}</p>
      </li>
    );
  }
  const classes = ['msg', `msg-${message.kind}`, own ? 'msg-own' : '', continued ? 'msg-continued' : ''].filter(Boolean).join(' ');
  return (
    <li className={classes}>
      <p className="msg-meta">
        <span className="msg-sender">{own ? 'You' : message.sender.username}</span>{' '}
        {message.kind === 'bot' && <BotTag />}{' '}
        <time dateTime={message.sent_at} title={fullTime(message.sent_at)}>
          {shortTime(message.sent_at)}
        </time>
      </p>
      <p className="msg-body">{message.body}</p>
    </li>
  );
});
