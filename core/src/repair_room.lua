-- Moves a room's counter past every stored seq and starts a new epoch, after
-- Redis came back with a stale copy of the room (restarted from a snapshot or
-- an append-only file that missed its last writes, or a lagging replica): its
-- counter may have fallen behind seqs already handed out.
--
-- KEYS[1]   room state hash
-- KEYS[2]   room tail: emptied, since it may hold records at seqs now reused
-- KEYS[3..] seq keys of messages that must be sequenced again
-- ARGV[1]   the highest seq stored in Postgres for the room
-- ARGV[2]   the new epoch
-- ARGV[3]   the epoch the caller found stale, or '' for any: when the room has
--           another epoch by now, someone repaired it first and nothing is done
-- The counter's new value is also the epoch's `base` (restore_room.lua): a
-- message that kept a seq at or below it is sequenced again (sequence.lua).
-- Returns the counter's value.
local state = redis.call('HMGET', KEYS[1], 'seq', 'epoch')
local current = tonumber(state[1] or '0')
if ARGV[3] ~= '' and state[2] and state[2] ~= ARGV[3] then
  return current
end
local floor = tonumber(ARGV[1])
if current > floor then floor = current end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
redis.call('HSET', KEYS[1], 'seq', floor, 'epoch', ARGV[2], 'run', run, 'base', floor)
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do
  redis.call('DEL', KEYS[i])
end
return floor
