// A room event shown as a compact line: a topic change, a moderation action,
// or a system message (someone joined).
import { memo } from 'react';
import type { ChatMessage } from '../../wire';
import { fullTime } from '../common/format';

export const SystemLine = memo(function SystemLine({ message }: { message: ChatMessage }) {
  return (
    <li className="msg msg-system" id={`msg-${message.id}`}>
      <p className="msg-body" dir="auto" title={fullTime(message.sent_at)}>
        {systemText(message)}
      </p>
    </li>
  );
});

export function systemText(m: ChatMessage): string {
  const actor = m.sender.username;
  if (m.op === 'topic') return m.body === '' ? `${actor} cleared the topic` : `${actor} set the topic: ${m.body}`;
  const mod = m.moderation;
  if (m.op !== 'moderation' || mod === undefined) return m.body;
  const user = mod.user?.username ?? 'someone';
  switch (mod.action) {
    case 'kick':
      return `${actor} removed ${user} from the room`;
    case 'ban':
      return `${actor} banned ${user}`;
    case 'unban':
      return `${actor} lifted the ban on ${user}`;
    case 'slow_mode':
      return mod.seconds === undefined || mod.seconds === 0
        ? `${actor} turned slow mode off`
        : `${actor} set slow mode: one message every ${mod.seconds} ${mod.seconds === 1 ? 'second' : 'seconds'}`;
    case 'role':
      return mod.role === 'moderator' ? `${actor} made ${user} a moderator` : `${actor} made ${user} a member`;
  }
}
