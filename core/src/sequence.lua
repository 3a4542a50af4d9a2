-- Gives each of a batch of messages its place in its room, exactly once.
--
-- ARGV[1]  how many records a room's tail keeps
-- ARGV[2]  seconds a message's seq and a room's tail are remembered
-- For the i-th message (in order; several may share a room):
--   KEYS[3i-2]  its room's state hash: fields `seq` (last assigned), `epoch`,
--               `run` (the run_id of the Redis server that wrote the state)
--               and `base` (the counter the epoch started from, restore_room.lua)
--   KEYS[3i-1]  its room's tail: sorted set of sequenced records scored by seq
--   KEYS[3i]    its assigned seq
--   ARGV[2i+1]  its event's JSON (produced by serde, always a valid JSON object)
--   ARGV[2i+2]  its room's pub/sub channel
--
-- Returns {status, seq, epoch} for each message, flattened:
--   status 1: assigned now (and appended to the tail and published)
--   status 0: assigned before; nothing is written or published again (a seq
--             at or below the epoch's base was given in an earlier epoch and
--             never stored: the message is sequenced again, as status 1)
--   status 2: the room has no state here (new room, or Redis lost its data):
--             the caller restores it from Postgres and calls again
--   status 3: the state was written by an earlier run of this server (Redis
--             restarted from a snapshot or an append-only file, which may lack
--             its last writes): the caller repairs the room and calls again
-- Assigning and publishing in one script makes publish order equal seq order.
-- The server's run_id is read once per call (INFO costs more than the rest of
-- a message's steps): a batch is one call.
local run = nil
local out = {}
for i = 1, #KEYS / 3 do
  local state_key, tail_key, msg_key = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local state = redis.call('HMGET', state_key, 'epoch', 'run', 'base')
  local epoch = state[1]
  if not epoch then
    table.insert(out, {2, 0, ''})
  else
    if not run then
      run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
    end
    if state[2] ~= run then
      table.insert(out, {3, 0, epoch})
    else
      local known = tonumber(redis.call('GET', msg_key) or '0')
      if known > tonumber(state[3] or '0') then
        table.insert(out, {0, known, epoch})
      else
        local seq = redis.call('HINCRBY', state_key, 'seq', 1)
        redis.call('SET', msg_key, seq, 'EX', ARGV[2])
        -- seq is an integer and epoch a decimal string written by the caller,
        -- so the record is valid JSON: {"seq":N,"epoch":E,"event":{...}}
        local record = '{"seq":' .. seq .. ',"epoch":' .. epoch .. ',"event":' .. ARGV[2 * i + 1] .. '}'
        redis.call('ZADD', tail_key, seq, record)
        redis.call('ZREMRANGEBYRANK', tail_key, 0, -1 - tonumber(ARGV[1]))
        redis.call('EXPIRE', tail_key, ARGV[2])
        redis.call('PUBLISH', ARGV[2 * i + 2], record)
        table.insert(out, {1, seq, epoch})
      end
    end
  end
end
return out
