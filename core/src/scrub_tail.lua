-- Replaces records of a room's tail by their scrubbed copies (a deleted
-- message's text gone), atomically and idempotently.
--
-- KEYS[1]  the room's tail: sorted set of sequenced records scored by seq
-- ARGV     triples: the record as stored, its scrubbed copy, its seq
--
-- A record no longer in the tail (trimmed, expired, scrubbed already) is left
-- alone: nothing is added back. Returns how many records were replaced.
local replaced = 0
for i = 1, #ARGV, 3 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i + 1])
    replaced = replaced + 1
  end
end
return replaced
