// "Connecting…" / "Reconnecting…" above everything while the socket is down;
// "You are offline" at once when the browser says so.
import { useChat, useController } from '../../chat/context';
import { useNow } from '../common/useNow';

export function ConnectionBanner() {
  const connection = useChat((s) => s.connection);
  const controller = useController();
  const down = connection.status === 'connecting' || connection.status === 'reconnecting';
  const offline = down && connection.offline === true;
  const now = useNow(connection.retryAt !== null);
  const seconds = connection.retryAt === null ? 0 : Math.max(0, Math.ceil((connection.retryAt - now) / 1000));

  // The live region is always there, so that what appears in it is announced.
  return (
    <div className="banner-slot" role="status">
      {down && (
        <div className={offline ? 'banner banner-offline' : 'banner'}>
          <span>
            {offline && 'You are offline. '}
            {connection.status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
            {offline ? (
              <span className="banner-detail"> Messages you write are sent when the network is back.</span>
            ) : (
              seconds > 0 && <span className="banner-detail"> next try in {seconds} s</span>
            )}
          </span>
          {connection.status === 'reconnecting' && seconds > 0 && (
            <button type="button" onClick={() => controller.retryConnection()}>
              Retry now
            </button>
          )}
        </div>
      )}
    </div>
  );
}
