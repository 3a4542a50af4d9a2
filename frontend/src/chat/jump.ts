// Bringing one message into view: a reply's original, a search result, a
// reported message. The room is opened; older pages are loaded until the
// message is there (the timeline stays without holes, so the resume point
// keeps its meaning); MessageList then scrolls to it and marks it.
import type { ChatApi } from '../api/endpoints';
import { HISTORY_PAGE_MAX } from '../api/endpoints';
import { selectTimeline } from '../store/messages';
import type { HistoryPage } from '../wire';
import { errorText } from './errors';
import type { ChatState } from './state';

/** Older pages fetched at most to reach a message (then the person is told it is too far back). */
export const JUMP_MAX_PAGES = 20;
/** How long a jump waits for the room's first page. */
const JUMP_WAIT_MS = 15_000;

export interface JumpDeps {
  api: Pick<ChatApi, 'history' | 'message'>;
  state: () => ChatState;
  /** Opens the room (and starts its feed) unless it is the open one. */
  open: (room: string) => void;
  highlight: (room: string, id: string, seq: number) => void;
  olderLoaded: (room: string, page: HistoryPage) => void;
  notify: (text: string) => void;
  /** Resolves true once `check` holds, false after `ms`. */
  until: (check: () => boolean, ms: number) => Promise<boolean>;
}

export class Jumps {
  constructor(private readonly deps: JumpDeps) {}

  async toMessage(room: string, id: string, seq: number): Promise<void> {
    const { deps } = this;
    deps.open(room);
    deps.highlight(room, id, seq);
    const timeline = () => selectTimeline(deps.state().messages, room);
    const started = await deps.until(() => {
      const t = timeline();
      return t.messages.length > 0 || t.lastSeq !== null || deps.state().feeds[room]?.status === 'error';
    }, JUMP_WAIT_MS);
    if (!started) return;
    for (let pages = 0; pages < JUMP_MAX_PAGES; pages += 1) {
      const t = timeline();
      if (t.ids.has(id)) return;
      const oldest = t.messages[0]?.seq;
      if (oldest === undefined || oldest <= seq || !t.hasOlder) break;
      try {
        deps.olderLoaded(room, await deps.api.history(room, { before: oldest, limit: HISTORY_PAGE_MAX }));
      } catch (error) {
        deps.notify(errorText(error, 'Could not load the message.', 'room'));
        return;
      }
    }
    if (!timeline().ids.has(id)) deps.notify('That message is no longer here, or too far back.');
  }

  /** A reply's original: its seq from the reply's preview, or asked for. */
  async toReplied(room: string, quoted: { id: string; seq?: number | undefined }): Promise<void> {
    let seq = quoted.seq;
    if (seq === undefined) {
      try {
        seq = (await this.deps.api.message(room, quoted.id)).seq;
      } catch {
        this.deps.notify('The original message is no longer here.');
        return;
      }
    }
    await this.toMessage(room, quoted.id, seq);
  }
}
