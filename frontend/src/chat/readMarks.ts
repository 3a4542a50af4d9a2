// Read markers: a moment after a room is on screen (opened, a message seen
// arriving, the page visible again), its last message is marked read on the
// server and in the list, unless the person looked away meanwhile or nothing
// new is there. One pending marker at a time: the last room shown wins.
import type { ChatApi } from '../api/endpoints';
import { selectTimeline } from '../store/messages';
import type { ChatStore } from './chatStore';
import { roomRead } from './rooms';

const READ_MARK_DELAY_MS = 800;

export interface ReadMarkDeps {
  api: ChatApi;
  store: ChatStore;
  isVisible: () => boolean;
}

export class ReadMarks {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: ReadMarkDeps) {}

  schedule(room: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.markRead(room), READ_MARK_DELAY_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private async markRead(room: string): Promise<void> {
    const { store } = this.deps;
    if (store.state.activeRoom !== room || !this.deps.isVisible()) return;
    const last = selectTimeline(store.state.messages, room).messages.at(-1)?.seq;
    const known = store.state.rooms?.find((r) => r.id === room);
    if (last === undefined || known === undefined || (known.last_read_seq >= last && known.unread === 0)) return;
    try {
      await this.deps.api.markRead(room, last);
      store.set({ rooms: store.state.rooms && roomRead(store.state.rooms, room, last) });
    } catch {
      // Unread counts are a convenience: the next read marker catches up.
    }
  }
}
