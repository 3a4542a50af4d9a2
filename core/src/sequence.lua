-- Gives one message its place in its room, exactly once.
--
-- KEYS[1]  room state hash: fields `seq` (last assigned) and `epoch`
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
-- Assigning and publishing in one script makes publish order equal seq order.
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  return {2, 0, ''}
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
