-- Consent and quotas: who left a direct room, who blocked whom, the index
-- the room-creation quota counts with, and read markers held to the head.

-- A member who left a direct room by their own action. The other member's
-- `POST /api/dm` does not add them back; their own does (and deletes the row).
CREATE TABLE direct_departures (
    room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (room_id, user_id)
);

-- `blocker` does not want `blocked` to open a direct room with them or to
-- invite them into a room.
CREATE TABLE user_blocks (
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CONSTRAINT user_blocks_not_self CHECK (blocker_id <> blocked_id)
);

-- rooms a user created in the last hour (the creation quota)
CREATE INDEX rooms_created_by_idx ON rooms (created_by, created_at);

-- a marker once accepted beyond the room's head hid every later message:
-- bring such markers back to the stored head (one index probe per member row)
UPDATE room_members m
SET last_read_seq = coalesce((SELECT max(x.seq) FROM messages x WHERE x.room_id = m.room_id), 0)
WHERE m.last_read_seq > coalesce((SELECT max(x.seq) FROM messages x WHERE x.room_id = m.room_id), 0);
