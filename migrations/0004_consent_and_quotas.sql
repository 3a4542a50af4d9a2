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
-- bring such markers back to the stored head
UPDATE room_members m
SET last_read_seq = head.seq
FROM (
    SELECT r.room_id, coalesce(max(x.seq), 0) AS seq
    FROM (SELECT DISTINCT room_id FROM room_members) r
    LEFT JOIN messages x ON x.room_id = r.room_id
    GROUP BY r.room_id
) head
WHERE m.room_id = head.room_id AND m.last_read_seq > head.seq;
