-- Creates a room's sequencer state if it has none.
--
-- KEYS[1]  room state hash
-- ARGV[1]  the highest seq stored in Postgres for the room (0 for a new room)
-- ARGV[2]  a new epoch: clients that saw another epoch reload the room
--
-- The state records this server's run_id (`run`): a later run that finds it
-- knows the state came from a snapshot or an append-only file (sequence.lua).
-- `base` is the counter the epoch starts from: every seq at or below it is
-- final (stored, or never to be: a message Redis lost before the writer stored
-- it is sequenced again above it), so a hole in Postgres below it is no gap.
-- Returns 1 when it created the state, 0 when another caller was first.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'epoch', ARGV[2], 'run', run, 'base', ARGV[1])
return 1
