// The room's name and topic, a way back to the list on narrow screens,
// invite, moderation (owner and moderators), mute and leave.
import { lazy, Suspense, useState } from 'react';
import { useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import { roomLabel } from '../../chat/rooms';
import type { MyRoom } from '../../wire';
import { InviteForm } from './InviteForm';
import { MuteButton } from './MuteButton';
import { TopicEditor } from './TopicEditor';

// Only owners and moderators open it: a chunk of its own.
const ModerationPanel = lazy(() => import('./ModerationPanel').then((m) => ({ default: m.ModerationPanel })));

const KIND_TEXT = { public: 'Public room', private: 'Private room', direct: 'Direct messages' } as const;

export function RoomHeader({ room, info, onBack }: { room: string; info: MyRoom | undefined; onBack: () => void }) {
  const controller = useController();
  const [error, setError] = useState<string | null>(null);
  const [moderating, setModerating] = useState(false);
  const label = info ? roomLabel(info) : 'Room';
  const moderates = info !== undefined && info.kind !== 'direct' && (info.role === 'owner' || info.role === 'moderator');

  async function leave() {
    if (!window.confirm(`Leave ${label}?`)) return;
    try {
      await controller.leaveRoom(room);
    } catch (caught) {
      setError(errorText(caught, 'Could not leave the room.'));
    }
  }

  return (
    <header className="room-header">
      <button type="button" className="back" onClick={onBack}>
        <span aria-hidden="true">←</span> Rooms
      </button>
      <div className="room-title">
        <h2 id="room-title" tabIndex={-1} dir="auto">
          {label}
        </h2>
        {info && <p className="muted">{KIND_TEXT[info.kind]}</p>}
        {info && info.kind !== 'direct' && <TopicEditor room={room} topic={info.topic ?? ''} canEdit={moderates} />}
      </div>
      <div className="room-actions">
        {/* Only a private room's owner invites (docs/protocol.md). */}
        {info?.kind === 'private' && info.role === 'owner' && <InviteForm room={room} />}
        {moderates && (
          <details className="moderation" onToggle={(e) => setModerating(e.currentTarget.open)}>
            <summary>Moderate</summary>
            {moderating && (
              <Suspense fallback={<p className="muted">Loading…</p>}>
                <ModerationPanel room={room} info={info} />
              </Suspense>
            )}
          </details>
        )}
        <MuteButton room={room} />
        <button type="button" onClick={() => void leave()}>
          Leave
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </header>
  );
}
