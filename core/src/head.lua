-- Reads a room's head: its last assigned seq, its epoch and the epoch's base
-- (restore_room.lua; 0 in a state written before bases were kept).
--
-- KEYS[1]  room state hash
--
-- Returns {status, seq, epoch, base}: status 0 with the head; 2 when the room has
-- no state (restore it); 3 when the state was written by an earlier run of
-- this server (repair it), as in sequence.lua.
local state = redis.call('HMGET', KEYS[1], 'seq', 'epoch', 'run', 'base')
if not state[2] then
  return {2, 0, '', 0}
end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if state[3] ~= run then
  return {3, 0, state[2], 0}
end
return {0, tonumber(state[1]), state[2], tonumber(state[4] or '0')}
