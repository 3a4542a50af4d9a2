// Browser notifications of direct messages and mentions while the page is
// hidden: a pure decision (shouldNotify) and a small adapter over the
// Notification API (Notifier). The controller hands every live message frame
// of any room to Notifier.onMessage; nothing here asks for the permission on
// its own: the person turns notifications on (the sidebar's control).
import { mentionsMe } from '../text/mentions';
import type { ChatMessage, RoomKind, UserRef } from '../wire';

/** Older than this when it arrives (a replay after a reconnect): no notification. */
export const MAX_AGE_MS = 5 * 60_000;
/** Characters of the body shown. */
const BODY_CHARS = 200;
/** Message ids remembered so that a frame seen twice notifies once. */
const REMEMBERED = 500;

export type Permission = NotificationPermission | 'unsupported';

export interface NotifyContext {
  me: UserRef;
  /** The room's kind, when the room list knows it. */
  kind: RoomKind | undefined;
  muted: boolean;
  /** document.visibilityState === 'visible'. */
  visible: boolean;
  permission: Permission;
  now: number;
}

/** Why a message notifies: a direct message, or a mention of the person (by name or @room). */
export type NotifyReason = 'direct' | 'mention';

/**
 * Whether `message` notifies, and why: a message (not an edit, reaction or
 * room event) of someone else, not deleted, recent, in a room not muted, while
 * the page is hidden and notifications are allowed; in a direct room, or
 * mentioning the person.
 */
export function shouldNotify(message: ChatMessage, ctx: NotifyContext): NotifyReason | null {
  if (ctx.permission !== 'granted' || ctx.visible || ctx.muted) return null;
  if ((message.op ?? 'message') !== 'message' || message.kind === 'system') return null;
  if (message.sender.id === ctx.me.id || message.deleted === true) return null;
  const sentAt = Date.parse(message.sent_at);
  if (!Number.isFinite(sentAt) || ctx.now - sentAt > MAX_AGE_MS) return null;
  if (ctx.kind === 'direct') return 'direct';
  return mentionsMe(message, ctx.me) ? 'mention' : null;
}

/** The notification's title and text. */
export function notificationText(message: ChatMessage, reason: NotifyReason, roomName: string | undefined): { title: string; body: string } {
  const title = reason === 'direct' ? message.sender.username : `${message.sender.username} in #${roomName ?? 'a room'}`;
  const flat = message.body.replace(/\s+/g, ' ').trim();
  const body = [...flat].length > BODY_CHARS ? `${[...flat].slice(0, BODY_CHARS - 1).join('')}…` : flat;
  return { title, body };
}

/** What the notifier needs of the page and the chat. */
export interface NotifierDeps {
  me: UserRef;
  room: (id: string) => { kind: RoomKind; name: string } | undefined;
  isMuted: (room: string) => boolean;
  /** Opens the room (the notification was clicked). */
  open: (room: string) => void;
  /** The browser's Notification constructor; undefined where there is none. */
  Notification?: typeof Notification | undefined;
  isVisible?: () => boolean;
  focus?: () => void;
  now?: () => number;
}

export class Notifier {
  private readonly seen = new Set<string>();

  constructor(private readonly deps: NotifierDeps) {}

  permission(): Permission {
    return this.deps.Notification?.permission ?? 'unsupported';
  }

  /** Asks the browser (call it from a click). */
  async requestPermission(): Promise<Permission> {
    const N = this.deps.Notification;
    if (N === undefined) return 'unsupported';
    try {
      return await N.requestPermission();
    } catch {
      return N.permission;
    }
  }

  /** A live message frame of any room. */
  onMessage(message: ChatMessage): void {
    const N = this.deps.Notification;
    if (N === undefined || this.seen.has(message.id)) return;
    const room = this.deps.room(message.room);
    const reason = shouldNotify(message, {
      me: this.deps.me,
      kind: room?.kind,
      muted: this.deps.isMuted(message.room),
      visible: this.deps.isVisible?.() ?? document.visibilityState === 'visible',
      permission: N.permission,
      now: (this.deps.now ?? Date.now)(),
    });
    if (reason === null) return;
    this.remember(message.id);
    const { title, body } = notificationText(message, reason, room?.name);
    try {
      // one per room at a time: a newer one replaces it
      const shown = new N(title, { body, tag: message.room, icon: '/favicon.svg' });
      shown.onclick = () => {
        (this.deps.focus ?? (() => window.focus()))();
        this.deps.open(message.room);
        shown.close();
      };
    } catch {
      // some browsers allow notifications from a service worker only
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}

/** The notifier of this page, or one that never notifies where the API is missing. */
export function browserNotifier(deps: Omit<NotifierDeps, 'Notification'>): Notifier {
  const N = typeof window !== 'undefined' && 'Notification' in window ? window.Notification : undefined;
  return new Notifier({ ...deps, Notification: N });
}
