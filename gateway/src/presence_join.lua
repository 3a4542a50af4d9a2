-- A connection of a user enters a room's presence.
-- KEYS[1] the room's presence set (member "user|name|connection", score = expiry ms)
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] expiry ms  ARGV[4] "user|" prefix
-- ARGV[5] the room's live channel  ARGV[6] the "online" frame
-- Publishes "online" only when the user had no live connection in the room.
-- Returns the live members before this one.
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')
local had = false
for _, m in ipairs(live) do
  if string.sub(m, 1, #ARGV[4]) == ARGV[4] then had = true break end
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if not had then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return live
