-- Room events: what 0006 left out.
--
-- `mentions`: the users a message or an edit mentions by name, as the record
-- carried them. An edit's list replaces its message's (the message row holds
-- its current list), `message_mentions` is derived from it for the room
-- list's badge, and resume and history give every row the list it had live.
ALTER TABLE messages ADD COLUMN mentions uuid[] NOT NULL DEFAULT '{}';

-- The writer folds a message's events into it by seq: the greatest seq of the
-- events targeting a message is one index probe, not a scan of them all.
DROP INDEX IF EXISTS messages_target_idx;
CREATE INDEX messages_target_seq_idx ON messages (target_id, seq) WHERE target_id IS NOT NULL;
