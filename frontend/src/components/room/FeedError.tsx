// Why a room's messages cannot be shown, with what can be done: try again,
// or join (a shared link to a room the caller is not a member of yet).
import { useState } from 'react';
import { useChat, useController } from '../../chat/context';
import { errorText } from '../../chat/errors';

export function FeedError({ room, error }: { room: string; error: string | undefined }) {
  const controller = useController();
  // Known rooms are the caller's; one not among them came from an address.
  const stranger = useChat((s) => s.rooms !== null && !s.rooms.some((r) => r.id === room));
  const [joinError, setJoinError] = useState<string | null>(null);

  async function join() {
    setJoinError(null);
    try {
      await controller.joinRoom(room);
    } catch (caught) {
      setJoinError(errorText(caught, 'Could not join the room.', 'join'));
    }
  }

  return (
    <div className="feed-error" role="alert">
      <span>{stranger ? (joinError ?? 'You are not a member of this room yet.') : error}</span>
      {stranger ? (
        <button type="button" onClick={() => void join()}>
          Join
        </button>
      ) : (
        <button type="button" onClick={() => controller.reloadRoom(room)}>
          Try again
        </button>
      )}
    </div>
  );
}
