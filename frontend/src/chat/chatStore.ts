// The controller's state holder, shared by its parts: one immutable ChatState
// snapshot, the listeners told of every change (useSyncExternalStore), the
// message store's reducer, the brief notice, and the timers that go with the
// controller (`later`, cleared on stop). Every part writes through `set`, so
// the UI sees each change in the order it was made.
import { messagesReducer, type MessagesAction } from '../store/messages';
import type { UserRef } from '../wire';
import { roomLabel } from './rooms';
import { idleFeed, initialChatState, type ChatState, type Feed } from './state';

const NOTICE_MS = 6_000;

type Listener = () => void;

export class ChatStore {
  private current: ChatState;
  private readonly listeners = new Set<Listener>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(me: UserRef) {
    this.current = initialChatState(me);
  }

  get state(): ChatState {
    return this.current;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(patch: Partial<ChatState>): void {
    this.current = { ...this.current, ...patch };
    for (const listener of this.listeners) listener();
  }

  dispatch(action: MessagesAction): void {
    const messages = messagesReducer(this.current.messages, action);
    if (messages !== this.current.messages) this.set({ messages });
  }

  feed(room: string): Feed {
    return this.current.feeds[room] ?? idleFeed;
  }

  setFeed(room: string, feed: Feed): void {
    this.set({ feeds: { ...this.current.feeds, [room]: feed } });
  }

  /** The room's name for notices ("the room" when it is not in the list). */
  roomName(room: string): string {
    const known = this.current.rooms?.find((r) => r.id === room);
    return known ? roomLabel(known) : 'the room';
  }

  /** Tells the person something briefly (the notice's polite live region). */
  notify(notice: string): void {
    clearTimeout(this.noticeTimer);
    this.set({ notice });
    this.noticeTimer = setTimeout(() => this.set({ notice: null }), NOTICE_MS);
  }

  /** Resolves true once `check` holds (checked on every change), false after `ms`. */
  until(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(ok);
      };
      const listener = () => {
        if (check()) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      this.listeners.add(listener);
    });
  }

  /** Runs `task` after `ms` unless the controller stops first. */
  later(task: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
  }

  /** Clears the pending tasks and the notice's timer. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.noticeTimer);
  }
}
