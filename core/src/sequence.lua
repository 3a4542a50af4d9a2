-- Gives one message its place in its room, exactly once.
--
-- KEYS[1]  room state hash: fields `seq` (last assigned), `epoch` and `run`
--          (the run_id of the Redis server that wrote the state)
-- KEYS[2]  room tail: sorted set of sequenced records scored by seq
-- KEYS[3]  this message's assigned seq
-- ARGV[1]  the event's JSON (produced by serde, always a valid JSON object)
-- ARGV[2]  the room's pub/sub channel
-- ARGV[3]  how many records the tail keeps
-- ARGV[4]  seconds the message's seq and the room's tail are remembered
--
-- Returns {status, seq, epoch}:
--   status 1: assigned now (and appended to the tail and published)
--   status 0: assigned before; nothing is written or published again
--   status 2: the room has no state here (new room, or Redis lost its data):
--             the caller restores it from Postgres and calls again
--   status 3: the state was written by an earlier run of this server (Redis
--             restarted from a snapshot or an append-only file, which may lack
--             its last writes): the caller repairs the room and calls again
-- Assigning and publishing in one script makes publish order equal seq order.
local state = redis.call('HMGET', KEYS[1], 'epoch', 'run')
local epoch = state[1]
if not epoch then
  return {2, 0, ''}
end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if state[2] ~= run then
  return {3, 0, epoch}
end
local known = redis.call('GET', KEYS[3])
if known then
  return {0, tonumber(known), epoch}
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('SET', KEYS[3], seq, 'EX', ARGV[4])
-- seq is an integer and epoch a decimal string written by the caller, so the
-- record is valid JSON: {"seq":N,"epoch":E,"event":{...}}
local record = '{"seq":' .. seq .. ',"epoch":' .. epoch .. ',"event":' .. ARGV[1] .. '}'
redis.call('ZADD', KEYS[2], seq, record)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1 - tonumber(ARGV[3]))
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[2], record)
return {1, seq, epoch}
