// "alice is typing…", for a few seconds after each typing frame.
import { useChat } from '../../chat/context';
import { typingNow, typingSentence } from '../../chat/presence';
import { useNow } from '../common/useNow';

export function TypingIndicator({ room }: { room: string }) {
  const typing = useChat((s) => s.typing);
  const me = useChat((s) => s.me);
  const anyone = Object.keys(typing[room] ?? {}).length > 0;
  const now = useNow(anyone, 500);
  // Not a live region: announcing every keystroke burst would drown the messages.
  return <p className="typing">{typingSentence(typingNow(typing, room, now, me.id))}</p>;
}
