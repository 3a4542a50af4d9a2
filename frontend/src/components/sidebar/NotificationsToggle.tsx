// "Turn on notifications": the browser is asked for the permission only when
// the person clicks this, never at load. Direct messages and mentions then
// notify while the page is hidden (chat/notify.ts); rooms can be muted from
// their header.
import { useState } from 'react';
import type { Notifier, Permission } from '../../chat/notify';

export function NotificationsToggle({ notifier }: { notifier: Notifier }) {
  const [permission, setPermission] = useState<Permission>(() => notifier.permission());
  if (permission === 'unsupported') return null;
  if (permission === 'granted') return <p className="notify-state muted">Notifications on for direct messages and mentions.</p>;
  if (permission === 'denied') return <p className="notify-state muted">Notifications are blocked in this browser’s settings.</p>;
  return (
    <p className="notify-state">
      <button type="button" onClick={() => void notifier.requestPermission().then(setPermission)}>
        Turn on notifications
      </button>
    </p>
  );
}
