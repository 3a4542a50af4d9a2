// Short notices ("You left #general") in a polite live region.
import { useChat } from '../../chat/context';

export function Notice() {
  const notice = useChat((s) => s.notice);
  return (
    <div className="notice-slot" role="status">
      {notice && <p className="notice">{notice}</p>}
    </div>
  );
}
