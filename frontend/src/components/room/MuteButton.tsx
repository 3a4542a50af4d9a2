// Mutes the room's notifications (chat/mute.ts, kept in localStorage): a
// toggle button, pressed while muted. The visible text is its name.
import { setMuted, useMuted } from '../../chat/mute';

export function MuteButton({ room }: { room: string }) {
  const muted = useMuted(room);
  return (
    <button
      type="button"
      className="mute"
      aria-pressed={muted}
      title={muted ? 'Muted: this room never notifies. Click to unmute.' : 'Mute this room’s notifications'}
      onClick={() => setMuted(room, !muted)}
    >
      Mute
    </button>
  );
}
