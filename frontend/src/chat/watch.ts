// Rooms of the list that are not open are followed too, live only: a
// `subscribe` without `last_seq` (no replay, nothing stored), so their unread
// and mention counts move and their presence is known. Subscribes go out
// paced (a burst, then a steady rate) to stay well inside the server's frame
// rate, and at most as many as the connection's room limit leaves beside the
// open rooms. A connection that drops forgets them all; the next one watches
// again from the list.
import type { ClientFrame } from '../wire';

/** Watch subscribes sent at once, then this many per second. */
export const WATCH_BURST = 30;
export const WATCH_PER_SEC = 10;

export interface WatchDeps {
  send: (frame: ClientFrame) => boolean;
  now: () => number;
  later: (task: () => void, ms: number) => void;
}

export class RoomWatch {
  /** Rooms whose watch subscribe went out on this connection. */
  private readonly watched = new Set<string>();
  private queue: string[] = [];
  private tokens = WATCH_BURST;
  private refilledAt: number;
  private draining = false;
  private connected = false;

  constructor(private readonly deps: WatchDeps) {
    this.refilledAt = deps.now();
  }

  /**
   * Watches every room of `list` that is not open, at most `limit` (the
   * connection's room limit less the open rooms), in list order.
   */
  sync(list: readonly string[], open: readonly string[], limit: number): void {
    if (!this.connected) return;
    const wanted = list.filter((room) => !open.includes(room)).slice(0, Math.max(0, limit));
    const keep = new Set(wanted);
    this.queue = this.queue.filter((room) => keep.has(room));
    for (const room of this.watched) if (!keep.has(room) && !open.includes(room)) this.watched.delete(room);
    for (const room of wanted) this.watch(room);
  }

  /** Follows `room` live (queued when over the pace); nothing if already followed. */
  watch(room: string): void {
    if (!this.connected || this.watched.has(room) || this.queue.includes(room)) return;
    this.queue.push(room);
    this.drain();
  }

  /** The room is open now (its own feed replaces the watch) or gone from the list. */
  forget(room: string): void {
    this.watched.delete(room);
    this.queue = this.queue.filter((r) => r !== room);
  }

  isWatched(room: string): boolean {
    return this.watched.has(room);
  }

  /** A connection is up (after `hello`). */
  connect(): void {
    this.connected = true;
  }

  /** The connection is gone: the server forgot every subscription. */
  reset(): void {
    this.connected = false;
    this.watched.clear();
    this.queue = [];
  }

  private drain(): void {
    const now = this.deps.now();
    this.tokens = Math.min(WATCH_BURST, this.tokens + ((now - this.refilledAt) / 1000) * WATCH_PER_SEC);
    this.refilledAt = now;
    while (this.queue.length > 0 && this.tokens >= 1 && this.connected) {
      const room = this.queue.shift() as string;
      if (!this.deps.send({ type: 'subscribe', room })) {
        this.queue.unshift(room);
        return;
      }
      this.tokens -= 1;
      this.watched.add(room);
    }
    if (this.queue.length > 0 && !this.draining) {
      this.draining = true;
      this.deps.later(() => {
        this.draining = false;
        this.drain();
      }, 1000 / WATCH_PER_SEC);
    }
  }
}
