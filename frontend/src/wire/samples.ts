// One concrete example of every frame and body in docs/protocol.md, in the
// shape of docs/wire-samples.json (which the Rust side is to generate from its
// own types; see samples.test.ts). Used by the tests only.

const room = '0197a7f0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const alice = { id: '0197a7f0-0000-7000-8000-0000000000a1', username: 'alice' };
const bot = { id: '0197a7f0-0000-7000-8000-0000000000b0', username: 'helper-bot' };
const messageId = '0197a7f1-2222-7333-8444-555566667777';
const epoch = 1_760_000_000_000;

/** The layout of docs/wire-samples.json. */
export interface WireSamples {
  server_frames: unknown[];
  client_frames: unknown[];
  http: {
    session: unknown[];
    ticket: unknown[];
    user: unknown[];
    room: unknown[];
    my_room: unknown[];
    member: unknown[];
    online: unknown[];
    direct_room: unknown[];
    history: unknown[];
    versions: unknown[];
    error: unknown[];
  };
}

export const inlineSamples: WireSamples = {
  server_frames: [
    {
      type: 'hello',
      protocol: 1,
      server: 'gateway-1',
      session: '0197a7f0-aaaa-7bbb-8ccc-dddddddddddd',
      user: alice,
      heartbeat_ms: 20000,
      limits: { max_body_chars: 4000, max_message_bytes: 32768, messages_per_sec: 5, messages_burst: 20, max_rooms: 100 },
    },
    { type: 'subscribed', room, epoch, head_seq: 41, base_seq: 0, online_count: 2 },
    { type: 'subscribed', room, epoch, head_seq: 0, base_seq: 0, online_count: 0 },
    { type: 'unsubscribed', room },
    {
      type: 'message',
      room,
      seq: 42,
      epoch,
      id: messageId,
      sender: alice,
      client_msg_id: '5f0c6c1e-8a52-4c1b-9a4e-2f3d4c5b6a79',
      kind: 'user',
      body: '<b>not bold</b> & text',
      sent_at: '2026-01-02T03:04:05.678901234Z',
    },
    {
      type: 'message',
      room,
      seq: 43,
      epoch,
      id: '0197a7f1-2222-7333-8444-555566667778',
      sender: bot,
      client_msg_id: 'bot-1',
      kind: 'bot',
      body: 'Hello!',
      sent_at: '2026-01-02T03:04:06Z',
    },
    {
      type: 'message',
      room,
      seq: 44,
      epoch,
      id: '0197a7f1-2222-7333-8444-555566667780',
      sender: alice,
      client_msg_id: 'c-react-1',
      kind: 'user',
      body: '',
      sent_at: '2026-01-02T03:04:07Z',
      op: 'react',
      target: messageId,
      emoji: '👍',
    },
    {
      type: 'message',
      room,
      seq: 45,
      epoch,
      id: '0197a7f1-2222-7333-8444-555566667781',
      sender: alice,
      client_msg_id: 'srv-0197a7f1-2222-7333-8444-555566667781',
      kind: 'system',
      body: '',
      sent_at: '2026-01-02T03:04:08Z',
      op: 'moderation',
      moderation: { action: 'kick', user: bot },
    },
    { type: 'ack', room, client_msg_id: '5f0c6c1e-8a52-4c1b-9a4e-2f3d4c5b6a79', id: messageId, seq: 42, epoch },
    { type: 'error', code: 'unavailable', message: 'not durable in time; resend', room, client_msg_id: 'c-1' },
    { type: 'error', code: 'bad_frame', message: 'unknown frame' },
    { type: 'error', code: 'rate_limited', message: 'slow mode', room, client_msg_id: 'c-2', retry_after_ms: 4200 },
    { type: 'resync', room, reason: 'lagging' },
    { type: 'resync', room, reason: 'epoch' },
    { type: 'presence', room, user: alice, online: true },
    { type: 'presence', room, user: alice, online: true, status: 'away' },
    { type: 'presence', room, user: alice, online: false },
    { type: 'typing', room, user: alice },
    { type: 'member_left', room, user: alice },
    {
      type: 'draft',
      room,
      id: '0197a7f1-2222-7333-8444-555566667779',
      reply_to: messageId,
      sender: bot,
      body: 'Two plus <b>two</b>',
      state: 'streaming',
    },
    { type: 'draft', room, id: '0197a7f1-2222-7333-8444-555566667779', reply_to: messageId, sender: bot, body: '', state: 'cancelled' },
    { type: 'pong', nonce: 7 },
    { type: 'pong' },
    {
      type: 'room_added',
      room: { id: room, name: 'team', kind: 'private', created_at: '2026-01-01T00:00:00Z', role: 'member', last_seq: 3, last_read_seq: 0, unread: 3, mentions: 0, topic: '', slow_mode_seconds: 0 },
    },
    { type: 'room_removed', room, reason: 'kicked' },
    { type: 'read', room, seq: 41 },
  ],
  client_frames: [
    { type: 'subscribe', room, last_seq: 41, epoch },
    { type: 'subscribe', room },
    { type: 'unsubscribe', room },
    { type: 'send', room, client_msg_id: '5f0c6c1e-8a52-4c1b-9a4e-2f3d4c5b6a79', body: 'hi' },
    { type: 'send', room, client_msg_id: 'c-2', body: 'yes @alice', reply_to: messageId },
    { type: 'edit', room, client_msg_id: 'c-3', message: messageId, body: 'fixed' },
    { type: 'delete', room, client_msg_id: 'c-4', message: messageId },
    { type: 'react', room, client_msg_id: 'c-5', message: messageId, emoji: '👍' },
    { type: 'unreact', room, client_msg_id: 'c-6', message: messageId, emoji: '👍' },
    { type: 'typing', room },
    { type: 'ping', nonce: 7 },
    { type: 'ping' },
    { type: 'auth', token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' },
    { type: 'status', status: 'away' },
  ],
  http: {
    session: [
      {
        user: alice,
        access_token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl',
        token_type: 'Bearer',
        expires_in: 900,
      },
    ],
    ticket: [{ ticket: 'tk_0123456789abcdef', expires_in: 30 }],
    user: [alice],
    room: [
      { id: room, name: 'general', kind: 'public', created_at: '2026-01-01T00:00:00Z', member_count: 3 },
      { id: room, name: 'bob', kind: 'direct', created_at: '2026-01-01T00:00:00.5+00:00' },
    ],
    my_room: [
      {
        id: room,
        name: 'general',
        kind: 'private',
        created_at: '2026-01-01T00:00:00Z',
        role: 'owner',
        last_seq: 42,
        last_read_seq: 40,
        unread: 2,
      },
      {
        id: room,
        name: 'general',
        kind: 'public',
        created_at: '2026-01-01T00:00:00Z',
        role: 'moderator',
        last_seq: 42,
        last_read_seq: 40,
        unread: 2,
        mentions: 1,
        topic: 'Be kind',
        slow_mode_seconds: 10,
      },
    ],
    member: [{ ...alice, role: 'member' }],
    online: [
      { online: [{ ...alice, status: 'active' }], online_count: 2, next: alice.id },
      { online: [], online_count: 0, next: null },
    ],
    direct_room: [{ room: { id: room, name: 'bob', kind: 'direct', created_at: '2026-01-01T00:00:00Z' } }],
    history: [
      {
        messages: [
          {
            room,
            seq: 42,
            id: messageId,
            sender: alice,
            client_msg_id: 'c-1',
            kind: 'system',
            body: 'alice joined',
            sent_at: '2026-01-02T03:04:05Z',
            epoch: 0,
          },
          {
            room,
            seq: 43,
            id: '0197a7f1-2222-7333-8444-555566667782',
            sender: alice,
            client_msg_id: 'c-7',
            kind: 'user',
            body: 'now **bold**',
            sent_at: '2026-01-02T03:04:06Z',
            epoch: 0,
            op: 'message',
            reply_to: messageId,
            mentions: [bot.id],
            edited_at: '2026-01-02T03:05:00Z',
            edit_seq: 44,
            deleted: false,
            state_seq: 45,
            reactions: [{ emoji: '👍', count: 1, users: [bot], me: false }],
            reply_preview: { id: messageId, seq: 42, sender: alice, body: 'alice joined', deleted: false },
          },
        ],
        has_more: true,
      },
      { messages: [], has_more: false },
    ],
    versions: [
      {
        versions: [
          { seq: 43, body: 'now bold', edited_at: '2026-01-02T03:04:06Z' },
          { seq: 44, body: 'now **bold**', edited_at: '2026-01-02T03:05:00Z' },
        ],
      },
    ],
    error: [{ error: { code: 'bad_credentials', message: 'invalid username or password' } }],
  },
};
