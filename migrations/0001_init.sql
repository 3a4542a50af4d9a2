-- The chat schema: accounts, rooms, membership and the message log.
-- Every message row is written by the writer (a Kafka consumer) in bulk; the
-- constraints below are what make its inserts idempotent (G1, G2, G4).

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- case-insensitive uniqueness: "Alice" and "alice" are one account
    username      citext NOT NULL,
    -- argon2id PHC string; never logged, never returned by the API
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_shape CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$')
);

CREATE TYPE room_kind AS ENUM ('public', 'private', 'direct');

CREATE TABLE rooms (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    kind       room_kind NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- a direct room is keyed by its two members (smaller id first) so that
    -- "the DM between A and B" is one row however often it is asked for
    direct_key text,
    CONSTRAINT rooms_name_length CHECK (char_length(name) BETWEEN 1 AND 80),
    CONSTRAINT rooms_direct_key_key UNIQUE (direct_key),
    CONSTRAINT rooms_direct_key_only_direct CHECK ((kind = 'direct') = (direct_key IS NOT NULL))
);

-- public room search by name
CREATE INDEX rooms_public_name_idx ON rooms (lower(name)) WHERE kind = 'public';

CREATE TYPE member_role AS ENUM ('owner', 'member');

CREATE TABLE room_members (
    room_id       uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          member_role NOT NULL DEFAULT 'member',
    joined_at     timestamptz NOT NULL DEFAULT now(),
    -- highest seq the member has read; unread = room max seq - this
    last_read_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);

CREATE INDEX room_members_user_idx ON room_members (user_id);

CREATE TYPE message_kind AS ENUM ('user', 'bot', 'system');

CREATE TABLE messages (
    -- UUIDv7 given by the gateway before the message is produced to Kafka
    id            uuid PRIMARY KEY,
    room_id       uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- per-room sequence number from the Redis sequencer: 1, 2, 3, ...
    seq           bigint NOT NULL,
    sender_id     uuid NOT NULL REFERENCES users (id),
    -- the sender's own id for the message, the key of idempotent resend
    client_msg_id text NOT NULL,
    kind          message_kind NOT NULL,
    body          text NOT NULL,
    sent_at       timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_room_seq_key UNIQUE (room_id, seq),
    CONSTRAINT messages_sender_client_msg_id_key UNIQUE (sender_id, client_msg_id),
    CONSTRAINT messages_seq_positive CHECK (seq > 0),
    CONSTRAINT messages_body_length CHECK (char_length(body) BETWEEN 1 AND 4000),
    CONSTRAINT messages_client_msg_id_length CHECK (char_length(client_msg_id) BETWEEN 1 AND 64)
);
-- history pages by (room_id, seq): served by messages_room_seq_key's index
