// An open room: header, who is online, the messages, who is typing, the message box.
import { useChat } from '../../chat/context';
import { idleFeed } from '../../chat/state';
import { Composer } from './Composer';
import { FeedError } from './FeedError';
import { LiveAnnouncer } from './LiveAnnouncer';
import { MessageList } from './MessageList';
import { PresenceList } from './PresenceList';
import { RoomHeader } from './RoomHeader';
import { TypingIndicator } from './TypingIndicator';
import './room.css';

export function RoomView({ room, onBack }: { room: string; onBack: () => void }) {
  const info = useChat((s) => s.rooms?.find((r) => r.id === room));
  const feed = useChat((s) => s.feeds[room] ?? idleFeed);
  // Until the room list is in, the header cannot say what the room is: it
  // would grow when it can and push the messages down (a layout shift).
  const listed = useChat((s) => s.rooms !== null || s.roomsError !== null);
  if (!listed) {
    return (
      <p className="muted room-loading" role="status">
        Loading the room…
      </p>
    );
  }
  return (
    <section className="room" aria-labelledby="room-title">
      <RoomHeader room={room} info={info} onBack={onBack} />
      <PresenceList room={room} />
      {feed.status === 'error' && <FeedError room={room} error={feed.error} />}
      <MessageList room={room} loading={feed.status === 'loading'} />
      <TypingIndicator room={room} />
      <Composer room={room} label={info ? (info.kind === 'direct' ? `Message @${info.name}` : `Message #${info.name}`) : 'Message'} />
      <LiveAnnouncer room={room} />
    </section>
  );
}
