-- A connection of a user leaves a room's presence.
-- KEYS[1] presence set  KEYS[2] away set  ARGV[1] member  ARGV[2] now ms
-- ARGV[3] "user|" prefix  ARGV[4] live channel  ARGV[5] the "offline" frame
-- ARGV[6] the "online, active" frame  ARGV[7] the "online, away" frame
-- Publishes "offline" only when it was the user's last live connection
-- there; otherwise the user's status when it changed (the last active
-- connection left while others are away).
-- One read of the room's live entries: the user's standing before the leave
-- (away while every live entry of theirs is) and after it (their other live
-- entries: the set less this member, as a second read would find it).
local was_away, had_other, other_away = true, false, true
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
  if string.sub(m, 1, #ARGV[3]) == ARGV[3] then
    local active = redis.call('SISMEMBER', KEYS[2], m) == 0
    if active then was_away = false end
    if m ~= ARGV[1] then
      had_other = true
      if active then other_away = false end
    end
  end
end
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if not had_other then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
elseif other_away ~= was_away then
  redis.call('PUBLISH', ARGV[4], other_away and ARGV[7] or ARGV[6])
end
return 1
