-- Room events: edits, deletes, reactions, replies, mentions, topics and
-- moderation. Every change to a room's content is a record of chat.messages
-- with the room's next seq, stored as one row of `messages` (the room's log,
-- `op` says what it does) by the writer, which applies its effect to the
-- message it targets in the same transaction (docs/architecture/writer.md).

CREATE TYPE message_op AS ENUM
    ('message', 'edit', 'delete', 'react', 'unreact', 'topic', 'moderation');

-- A moderator deletes any message, kicks, bans and sets slow mode. The value
-- is not used in this file (Postgres allows that only after the commit).
ALTER TYPE member_role ADD VALUE IF NOT EXISTS 'moderator' BEFORE 'member';

ALTER TABLE messages
    ADD COLUMN op            message_op NOT NULL DEFAULT 'message',
    -- the message an edit, delete, react or unreact acts on
    ADD COLUMN target_id     uuid,
    -- the message a message replies to (same room; its preview is read live)
    ADD COLUMN reply_to      uuid,
    ADD COLUMN emoji         text,
    -- a moderation event's details (the record's `moderation` object)
    ADD COLUMN data          jsonb,
    -- `@room`: every member is mentioned
    ADD COLUMN mention_room  boolean NOT NULL DEFAULT false,
    -- on a message: the state its events gave it
    ADD COLUMN edited_at     timestamptz,
    -- seq of the edit whose text `body` is (the last one wins, whatever order
    -- the writer sees them in)
    ADD COLUMN edit_seq      bigint,
    -- the text as first sent, kept once it is edited (versions: this, then
    -- the bodies of the edit rows in seq order)
    ADD COLUMN original_body text,
    -- a deleted message keeps its row (a tombstone: body '' and no versions)
    ADD COLUMN deleted_at    timestamptz,
    ADD COLUMN deleted_by    uuid,
    -- the greatest seq of an event applied to this message: a client folds a
    -- live event into a message from history only when the event's seq is greater
    ADD COLUMN state_seq     bigint;

ALTER TABLE messages DROP CONSTRAINT messages_body_length;
ALTER TABLE messages ADD CONSTRAINT messages_body_length CHECK (
    char_length(body) <= 4000
    -- a message has text until it is deleted (an edit row loses its text then too)
    AND (op <> 'message' OR deleted_at IS NOT NULL OR char_length(body) >= 1)
    AND (op NOT IN ('delete', 'react', 'unreact', 'moderation') OR body = '')
    AND (op <> 'topic' OR char_length(body) <= 300)
);
ALTER TABLE messages ADD CONSTRAINT messages_target_shape CHECK (
    (op IN ('edit', 'delete', 'react', 'unreact')) = (target_id IS NOT NULL)
);
ALTER TABLE messages ADD CONSTRAINT messages_emoji_shape CHECK (
    (op IN ('react', 'unreact')) = (emoji IS NOT NULL) AND octet_length(emoji) <= 64
);

-- the events of a message (its edits, for versions and for removing their text)
CREATE INDEX messages_target_idx ON messages (target_id) WHERE target_id IS NOT NULL;

-- Full-text search over messages' current text ('simple': no stemming, so
-- every language is matched word for word). Deleted messages have no text.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN op = 'message' THEN to_tsvector('simple'::regconfig, body) END
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);

-- Reactions: the state of (message, user, emoji), last event by seq wins.
-- No foreign key to messages: the writer applies an event even when its
-- target was dead-lettered (then it shows nowhere).
CREATE TABLE message_reactions (
    message_id uuid NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji      text NOT NULL,
    -- the seq of the react or unreact that set `present`
    seq        bigint NOT NULL,
    present    boolean NOT NULL,
    PRIMARY KEY (message_id, user_id, emoji),
    CONSTRAINT message_reactions_emoji_length CHECK (octet_length(emoji) BETWEEN 1 AND 64)
);
CREATE INDEX message_reactions_present_idx ON message_reactions (message_id) WHERE present;

-- Mentions by name, for the room list's mention badge (a message with
-- `mention_room` counts for every member without a row here).
CREATE TABLE message_mentions (
    message_id uuid NOT NULL,
    room_id    uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_user_room_idx ON message_mentions (user_id, room_id, seq);

-- Rooms: a topic, and slow mode (one message per member per N seconds).
ALTER TABLE rooms
    ADD COLUMN topic text NOT NULL DEFAULT '',
    ADD COLUMN slow_mode_seconds integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT rooms_topic_length CHECK (char_length(topic) <= 300),
    ADD CONSTRAINT rooms_slow_mode_range CHECK (slow_mode_seconds BETWEEN 0 AND 3600);

-- A banned user cannot join, be invited or send until unbanned.
CREATE TABLE room_bans (
    room_id    uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    banned_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);

-- A member's report of a message, listed for the room's moderators.
CREATE TABLE message_reports (
    id          uuid PRIMARY KEY,
    room_id     uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    message_id  uuid NOT NULL,
    reporter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT message_reports_once UNIQUE (message_id, reporter_id),
    CONSTRAINT message_reports_reason_length CHECK (char_length(reason) <= 500)
);
CREATE INDEX message_reports_open_idx ON message_reports (room_id, created_at) WHERE resolved_at IS NULL;
