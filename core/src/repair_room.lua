-- Moves a room's counter past every stored seq and starts a new epoch, after
-- Redis came back with a stale copy of the room (e.g. an AOF that missed its
-- last second): its counter had fallen behind and handed out a used seq.
--
-- KEYS[1]   room state hash
-- KEYS[2]   room tail: emptied, since it may hold records at seqs now reused
-- KEYS[3..] seq keys of messages that must be sequenced again
-- ARGV[1]   the highest seq stored in Postgres for the room
-- ARGV[2]   the new epoch
-- Returns the counter's new value.
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local floor = tonumber(ARGV[1])
if current > floor then floor = current end
redis.call('HSET', KEYS[1], 'seq', floor, 'epoch', ARGV[2])
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  redis.call('DEL', KEYS[i])
end
return floor
