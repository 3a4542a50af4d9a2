-- A connection of a user leaves a room's presence.
-- KEYS[1] presence set  KEYS[2] away set  ARGV[1] member  ARGV[2] now ms
-- ARGV[3] "user|" prefix  ARGV[4] live channel  ARGV[5] the "offline" frame
-- ARGV[6] the "online, active" frame  ARGV[7] the "online, away" frame
-- Publishes "offline" only when it was the user's last live connection
-- there; otherwise the user's status when it changed (the last active
-- connection left while others are away).
local function standing()
  local had, away = false, true
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
    if string.sub(m, 1, #ARGV[3]) == ARGV[3] then
      had = true
      if redis.call('SISMEMBER', KEYS[2], m) == 0 then away = false end
    end
  end
  return had, away
end
local _, was_away = standing()
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local had, away = standing()
if not had then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
elseif away ~= was_away then
  redis.call('PUBLISH', ARGV[4], away and ARGV[7] or ARGV[6])
end
return 1
