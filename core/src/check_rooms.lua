-- Checks, before the writer commits a batch, that its rooms' state is the one
-- its seqs were given in.
--
-- KEYS[i]  room state hash of the batch's i-th room
-- ARGV[2i-1], ARGV[2i]  the epoch the room's seqs came from, and the highest
--          seq the batch stores in the room
--
-- Returns 1 when every room still has that epoch, was written by this run of
-- the server, and has a counter at or above the batch's highest seq; else 0
-- (Redis lost or rolled back state meanwhile: sequence again).
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
for i = 1, #KEYS do
  local state = redis.call('HMGET', KEYS[i], 'seq', 'epoch', 'run')
  if state[2] ~= ARGV[2 * i - 1] or state[3] ~= run
      or tonumber(state[1]) < tonumber(ARGV[2 * i]) then
    return 0
  end
end
return 1
