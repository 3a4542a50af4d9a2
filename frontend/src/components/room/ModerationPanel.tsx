// For a room's owner and moderators: its members (remove, ban, make or unmake
// a moderator, which only the owner may), slow mode, and open reports. A
// moderator cannot act on the owner or on another moderator.
import { useCallback, useEffect, useId, useState } from 'react';
import { useChat, useController } from '../../chat/context';
import { errorText } from '../../chat/errors';
import type { Member, MyRoom, Report } from '../../wire';
import { fullTime } from '../common/format';

const SLOW_CHOICES = [0, 5, 10, 30, 60, 300, 900, 3600];

export function ModerationPanel({ room, info }: { room: string; info: MyRoom }) {
  const controller = useController();
  const me = useChat((s) => s.me.id);
  const members = useChat((s) => s.members[room]);
  const [reports, setReports] = useState<readonly Report[] | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [slow, setSlow] = useState(info.slow_mode_seconds ?? 0);
  const ids = useId();

  const loadReports = useCallback(() => {
    controller.http.reports(room).then(setReports, (caught: unknown) => setStatus(errorText(caught, 'Could not load the reports.')));
  }, [controller, room]);

  useEffect(() => {
    void controller.loadMembers(room).catch((caught: unknown) => setStatus(errorText(caught, 'Could not load the members.')));
    loadReports();
  }, [controller, room, loadReports]);

  async function act(what: string, run: () => Promise<void>, done: string) {
    setStatus(null);
    try {
      await run();
      setStatus(done);
      await controller.loadMembers(room).catch(() => undefined);
    } catch (caught) {
      setStatus(errorText(caught, `Could not ${what}.`));
    }
  }

  const owner = info.role === 'owner';
  const mayActOn = (m: Member) => m.id !== me && m.role !== 'owner' && (owner || m.role === 'member');
  return (
    <div className="moderation-panel">
      <p role="status" className="muted">
        {status}
      </p>
      <section aria-labelledby={`${ids}-members`}>
        <h3 id={`${ids}-members`}>Members</h3>
        {members === undefined ? (
          <p className="muted">Loading members…</p>
        ) : (
          <ul className="plain-list member-list">
            {members.map((m) => (
              <li key={m.id}>
                <span dir="auto">{m.username}</span> <span className="muted">{m.role}</span>
                {mayActOn(m) && (
                  <span className="member-actions">
                    {owner && (
                      <button
                        type="button"
                        onClick={() =>
                          void act('change the role', () => controller.http.setRole(room, m.id, m.role === 'moderator' ? 'member' : 'moderator'), `${m.username} is now a ${m.role === 'moderator' ? 'member' : 'moderator'}.`)
                        }
                      >
                        {m.role === 'moderator' ? `Make ${m.username} a member` : `Make ${m.username} a moderator`}
                      </button>
                    )}
                    <button type="button" onClick={() => window.confirm(`Remove ${m.username} from the room?`) && void act('remove them', () => controller.http.kick(room, m.id), `${m.username} was removed.`)}>
                      Remove {m.username}
                    </button>
                    <button type="button" onClick={() => window.confirm(`Ban ${m.username} from the room?`) && void act('ban them', () => controller.http.ban(room, m.id), `${m.username} was banned.`)}>
                      Ban {m.username}
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby={`${ids}-slow`}>
        <h3 id={`${ids}-slow`}>Slow mode</h3>
        <form
          className="inline-field"
          onSubmit={(e) => {
            e.preventDefault();
            void act('set slow mode', () => controller.http.setSlowMode(room, slow), slow === 0 ? 'Slow mode is off.' : `Slow mode: one message every ${slow} s.`);
          }}
        >
          <label htmlFor={`${ids}-slow-seconds`} className="visually-hidden">
            Seconds between a member’s messages
          </label>
          <select id={`${ids}-slow-seconds`} value={slow} onChange={(e) => setSlow(Number(e.target.value))}>
            {SLOW_CHOICES.map((s) => (
              <option key={s} value={s}>
                {s === 0 ? 'Off' : s < 60 ? `${s} seconds` : `${s / 60} ${s === 60 ? 'minute' : 'minutes'}`}
              </option>
            ))}
          </select>
          <button type="submit">Set slow mode</button>
        </form>
      </section>
      <section aria-labelledby={`${ids}-reports`}>
        <h3 id={`${ids}-reports`}>Reports</h3>
        {reports === null ? (
          <p className="muted">Loading reports…</p>
        ) : reports.length === 0 ? (
          <p className="muted">No open reports.</p>
        ) : (
          <ul className="plain-list report-list">
            {reports.map((r) => (
              <li key={r.id}>
                <p>
                  <span dir="auto">{r.reporter.username}</span> reported <span dir="auto">{r.message.sender.username}</span>,{' '}
                  <time dateTime={r.created_at}>{fullTime(r.created_at)}</time>
                </p>
                <blockquote dir="auto">{r.message.body === '' ? 'message deleted' : r.message.body}</blockquote>
                {r.reason !== '' && <p dir="auto">Reason: {r.reason}</p>}
                <button type="button" onClick={() => void controller.jumpTo(room, r.message.id, r.message.seq)}>
                  Show the message
                </button>{' '}
                <button type="button" onClick={() => void act('resolve the report', async () => { await controller.http.resolveReport(room, r.id); loadReports(); }, 'Report resolved.')}>
                  Resolve
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
