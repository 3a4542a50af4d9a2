-- A connection of a user leaves a room's presence.
-- KEYS[1] presence set  ARGV[1] member  ARGV[2] now ms  ARGV[3] "user|" prefix
-- ARGV[4] live channel  ARGV[5] the "offline" frame
-- Publishes "offline" only when it was the user's last live connection there.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')
for _, m in ipairs(live) do
  if string.sub(m, 1, #ARGV[3]) == ARGV[3] then return 1 end
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
