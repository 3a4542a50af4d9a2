import { describe, expect, it, vi } from 'vitest';
import { ALICE, ROOM, message } from '../test/fixtures';
import type { ChatMessage, UserRef } from '../wire';
import { MAX_AGE_MS, Notifier, notificationText, shouldNotify, type NotifyContext } from './notify';

const BOB: UserRef = { id: '0197a7f0-0000-7000-8000-0000000000b2', username: 'bob' };
const NOW = Date.parse('2026-01-01T00:10:00Z');

function from(sender: UserRef, fields: Partial<ChatMessage> = {}): ChatMessage {
  return { ...message(1, { sender, sent_at: '2026-01-01T00:09:59Z', body: 'hello there', ...fields }) };
}

const hidden: NotifyContext = { me: ALICE, kind: 'public', muted: false, visible: false, permission: 'granted', now: NOW };

describe('shouldNotify', () => {
  it('a direct message, or a mention by name, by id or by @room, while the page is hidden', () => {
    expect(shouldNotify(from(BOB), { ...hidden, kind: 'direct' })).toBe('direct');
    expect(shouldNotify(from(BOB, { body: 'hey @alice, look' }), hidden)).toBe('mention');
    expect(shouldNotify(from(BOB, { mentions: [ALICE.id] }), hidden)).toBe('mention');
    expect(shouldNotify(from(BOB, { mention_room: true }), hidden)).toBe('mention');
    expect(shouldNotify(from(BOB, { body: 'hey @alice' }), { ...hidden, kind: undefined })).toBe('mention');
  });

  it('not an ordinary message of a room, nor one’s own, nor while the page is visible', () => {
    expect(shouldNotify(from(BOB), hidden)).toBeNull();
    expect(shouldNotify(from(BOB), { ...hidden, kind: undefined })).toBeNull();
    expect(shouldNotify(from(ALICE), { ...hidden, kind: 'direct' })).toBeNull();
    expect(shouldNotify(from(BOB, { body: '@alice' }), { ...hidden, visible: true })).toBeNull();
  });

  it('never in a muted room, nor without the permission', () => {
    expect(shouldNotify(from(BOB), { ...hidden, kind: 'direct', muted: true })).toBeNull();
    expect(shouldNotify(from(BOB, { mention_room: true }), { ...hidden, muted: true })).toBeNull();
    for (const permission of ['default', 'denied', 'unsupported'] as const) {
      expect(shouldNotify(from(BOB), { ...hidden, kind: 'direct', permission })).toBeNull();
    }
  });

  it('not for edits, reactions, deletions, system lines or an old message replayed after a reconnect', () => {
    const dm = { ...hidden, kind: 'direct' as const };
    expect(shouldNotify(from(BOB, { op: 'edit', target: ROOM }), dm)).toBeNull();
    expect(shouldNotify(from(BOB, { op: 'react', target: ROOM, emoji: '👍' }), dm)).toBeNull();
    expect(shouldNotify(from(BOB, { deleted: true }), dm)).toBeNull();
    expect(shouldNotify(from(BOB, { kind: 'system' }), dm)).toBeNull();
    const old = new Date(NOW - MAX_AGE_MS - 1000).toISOString();
    expect(shouldNotify(from(BOB, { sent_at: old }), dm)).toBeNull();
  });
});

describe('notificationText', () => {
  it('names the sender, and the room for a mention; the body on one line, cut at 200 characters', () => {
    expect(notificationText(from(BOB, { body: 'a\n\nb' }), 'direct', 'bob')).toEqual({ title: 'bob', body: 'a b' });
    expect(notificationText(from(BOB), 'mention', 'general').title).toBe('bob in #general');
    const long = notificationText(from(BOB, { body: 'é'.repeat(300) }), 'direct', 'bob').body;
    expect([...long]).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});

/** A stand-in for the browser's Notification constructor, recording what it shows. */
function fakeNotification(permission: NotificationPermission) {
  const shown: { title: string; options: NotificationOptions; instance: { onclick: (() => void) | null; close: () => void } }[] = [];
  const ctor = vi.fn(function (this: { onclick: (() => void) | null; close: () => void }, title: string, options: NotificationOptions) {
    this.onclick = null;
    this.close = vi.fn();
    shown.push({ title, options, instance: this });
  }) as unknown as typeof Notification & { permission: NotificationPermission; requestPermission: () => Promise<NotificationPermission> };
  Object.assign(ctor, { permission, requestPermission: vi.fn(async () => 'granted' as const) });
  return { ctor, shown };
}

describe('Notifier', () => {
  function setup(permission: NotificationPermission = 'granted', muted = false) {
    const { ctor, shown } = fakeNotification(permission);
    const open = vi.fn();
    const focus = vi.fn();
    const notifier = new Notifier({
      me: ALICE,
      room: (id) => (id === ROOM ? { kind: 'direct', name: 'bob' } : undefined),
      isMuted: () => muted,
      open,
      focus,
      Notification: ctor,
      isVisible: () => false,
      now: () => NOW,
    });
    return { notifier, shown, open, focus, ctor };
  }

  it('shows one notification per message (a frame seen twice notifies once), tagged by room', () => {
    const { notifier, shown } = setup();
    const dm = from(BOB);
    notifier.onMessage(dm);
    notifier.onMessage(dm);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.title).toBe('bob');
    expect(shown[0]?.options).toMatchObject({ body: 'hello there', tag: ROOM });
  });

  it('a click focuses the page, opens the room and closes the notification', () => {
    const { notifier, shown, open, focus } = setup();
    notifier.onMessage(from(BOB));
    shown[0]?.instance.onclick?.();
    expect(focus).toHaveBeenCalled();
    expect(open).toHaveBeenCalledWith(ROOM);
    expect(shown[0]?.instance.close).toHaveBeenCalled();
  });

  it('nothing in a muted room, or before the permission was given', () => {
    expect(setup('granted', true).shown).toHaveLength(0);
    const muted = setup('granted', true);
    muted.notifier.onMessage(from(BOB));
    expect(muted.shown).toHaveLength(0);
    const asked = setup('default');
    asked.notifier.onMessage(from(BOB));
    expect(asked.shown).toHaveLength(0);
  });

  it('asks for the permission only when told to', async () => {
    const { notifier, ctor } = setup('default');
    expect(ctor.requestPermission).not.toHaveBeenCalled();
    expect(notifier.permission()).toBe('default');
    await expect(notifier.requestPermission()).resolves.toBe('granted');
    expect(ctor.requestPermission).toHaveBeenCalledTimes(1);
  });
});
