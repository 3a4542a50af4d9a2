import { describe, expect, it, vi } from 'vitest';
import {
  ClientFrame,
  HistoryPage,
  MyRoom,
  SERVER_FRAME_TYPES,
  ServerFrame,
  Session,
  parseServerFrame,
} from './index';
import { inlineSamples } from './samples';

const room = '0197a7f0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const user = { id: '0197a7f0-0000-7000-8000-0000000000a1', username: 'alice' };

describe('server frames', () => {
  it('cover every type of docs/protocol.md and of ServerFrame in protocol.rs', () => {
    expect([...SERVER_FRAME_TYPES].sort()).toEqual(
      ['ack', 'draft', 'error', 'hello', 'member_left', 'message', 'pong', 'presence', 'read', 'resync', 'room_added', 'room_removed', 'subscribed', 'typing', 'unsubscribed'].sort(),
    );
  });

  it.each(inlineSamples.server_frames.map((f) => [(f as { type: string }).type, f]))('accept a %s frame', (_type, frame) => {
    expect(ServerFrame.parse(frame)).toEqual(frame);
  });

  const malformed: [string, unknown][] = [
    ['message without seq', { type: 'message', room, epoch: 1, id: room, sender: user, client_msg_id: 'c', kind: 'user', body: 'x', sent_at: '2026-01-01T00:00:00Z' }],
    ['message with seq 0', { type: 'message', room, seq: 0, epoch: 1, id: room, sender: user, client_msg_id: 'c', kind: 'user', body: 'x', sent_at: '2026-01-01T00:00:00Z' }],
    ['message of an unknown kind', { type: 'message', room, seq: 1, epoch: 1, id: room, sender: user, client_msg_id: 'c', kind: 'html', body: 'x', sent_at: '2026-01-01T00:00:00Z' }],
    ['message with a body that is not text', { type: 'message', room, seq: 1, epoch: 1, id: room, sender: user, client_msg_id: 'c', kind: 'user', body: { html: '<b>' }, sent_at: '2026-01-01T00:00:00Z' }],
    ['message with a bad timestamp', { type: 'message', room, seq: 1, epoch: 1, id: room, sender: user, client_msg_id: 'c', kind: 'user', body: 'x', sent_at: 'yesterday' }],
    ['subscribed with a room that is not a uuid', { type: 'subscribed', room: 'general', epoch: 1, head_seq: 0, base_seq: 0, online_count: 0 }],
    ['subscribed with a fractional seq', { type: 'subscribed', room, epoch: 1, head_seq: 1.5, base_seq: 0, online_count: 0 }],
    ['subscribed with a seq past 2^53', { type: 'subscribed', room, epoch: 1, head_seq: 2 ** 60, base_seq: 0, online_count: 0 }],
    ['subscribed without its count', { type: 'subscribed', room, epoch: 1, head_seq: 0, base_seq: 0 }],
    ['subscribed without its base', { type: 'subscribed', room, epoch: 1, head_seq: 0, online_count: 0 }],
    ['ack with a seq as a string', { type: 'ack', room, client_msg_id: 'c', id: room, seq: '1', epoch: 1 }],
    ['error with an unknown code', { type: 'error', code: 'teapot', message: 'x' }],
    ['presence without online', { type: 'presence', room, user }],
    ['typing without a user', { type: 'typing', room }],
    ['room_removed for an unknown reason', { type: 'room_removed', room, reason: 'vanished' }],
    ['read without a seq', { type: 'read', room }],
    ['room_added with a bare id', { type: 'room_added', room }],
    ['draft without the id of its message', { type: 'draft', room, reply_to: room, sender: user, body: 'x', state: 'streaming' }],
    ['draft of an unknown state', { type: 'draft', room, id: room, reply_to: room, sender: user, body: 'x', state: 'done' }],
    ['draft with a body that is not text', { type: 'draft', room, id: room, reply_to: room, sender: user, body: null, state: 'streaming' }],
    ['an unknown type', { type: 'launch_missiles' }],
    ['no type at all', { room }],
  ];
  it.each(malformed)('refuse %s', (_name, frame) => {
    expect(ServerFrame.safeParse(frame).success).toBe(false);
  });
});

describe('parseServerFrame', () => {
  it('parses a known frame', () => {
    expect(parseServerFrame(JSON.stringify({ type: 'pong', nonce: 3 }))).toEqual({ type: 'pong', nonce: 3 });
  });

  it('ignores an unknown frame and says so with console.debug', () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    expect(parseServerFrame('{"type":"poll","room":"x"}')).toBeNull();
    expect(parseServerFrame('not json')).toBeNull();
    expect(parseServerFrame('[1,2]')).toBeNull();
    expect(debug).toHaveBeenCalledTimes(3);
  });

  it('ignores a malformed known frame, naming fields but not values', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(parseServerFrame(JSON.stringify({ type: 'typing', room, user: { id: room, username: 42 } }))).toBeNull();
    expect(warn).toHaveBeenCalledWith('[wire] ignored a malformed frame', { type: 'typing', fields: ['user.username'] });
  });

  it('drops fields it does not know (a newer server may add some)', () => {
    expect(parseServerFrame(JSON.stringify({ type: 'pong', nonce: 1, extra: true }))).toEqual({ type: 'pong', nonce: 1 });
  });
});

describe('client frames', () => {
  it.each(inlineSamples.client_frames.map((f) => [(f as { type: string }).type, f]))('accept a %s frame', (_type, frame) => {
    expect(ClientFrame.parse(frame)).toEqual(frame);
  });

  const malformed: [string, unknown][] = [
    ['an unknown field (the server denies them)', { type: 'typing', room, extra: 1 }],
    ['an empty body', { type: 'send', room, client_msg_id: 'c', body: '' }],
    ['a body of 4001 characters', { type: 'send', room, client_msg_id: 'c', body: 'x'.repeat(4001) }],
    ['an empty client_msg_id', { type: 'send', room, client_msg_id: '', body: 'x' }],
    ['a client_msg_id of 65 bytes', { type: 'send', room, client_msg_id: 'é'.repeat(33), body: 'x' }],
    ['a negative last_seq', { type: 'subscribe', room, last_seq: -1 }],
    ['an empty token', { type: 'auth', token: '' }],
    ['an unknown type', { type: 'launch_missiles' }],
  ];
  it.each(malformed)('refuse %s', (_name, frame) => {
    expect(ClientFrame.safeParse(frame).success).toBe(false);
  });

  it('count body length in characters as Rust does, not UTF-16 units', () => {
    const emoji = '😀'.repeat(4000); // 8000 UTF-16 units, 4000 characters
    expect(ClientFrame.safeParse({ type: 'send', room, client_msg_id: 'c', body: emoji }).success).toBe(true);
  });
});

describe('HTTP bodies', () => {
  it('accept a session, a room of mine and a history page', () => {
    expect(Session.parse(inlineSamples.http.session[0])).toEqual(inlineSamples.http.session[0]);
    expect(MyRoom.parse(inlineSamples.http.my_room[0])).toEqual(inlineSamples.http.my_room[0]);
    expect(HistoryPage.parse(inlineSamples.http.history[0])).toEqual(inlineSamples.http.history[0]);
  });

  it('refuse a session without a token, a room of mine without unread, a page without has_more', () => {
    expect(Session.safeParse({ user, token_type: 'Bearer', expires_in: 900 }).success).toBe(false);
    expect(MyRoom.safeParse({ id: room, name: 'g', kind: 'public', created_at: '2026-01-01T00:00:00Z', role: 'owner', last_seq: 1, last_read_seq: 0 }).success).toBe(false);
    expect(HistoryPage.safeParse({ messages: [] }).success).toBe(false);
  });
});
