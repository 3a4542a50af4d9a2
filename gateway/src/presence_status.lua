-- A connection of a user becomes away or active in a room's presence.
-- KEYS[1] presence set  KEYS[2] away set  ARGV[1] member  ARGV[2] now ms
-- ARGV[3] expiry ms  ARGV[4] "user|" prefix  ARGV[5] live channel
-- ARGV[6] the "online, active" frame  ARGV[7] the "online, away" frame
-- ARGV[8] "1" for away
-- Publishes the user's status when it changed: away only while every live
-- connection of theirs is away. Nothing for a connection not (or no longer) live.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) < tonumber(ARGV[2]) then return 0 end
-- One read of the room's live entries (this member is among them): the
-- user's standing before the change, and their other entries' for after it.
local was_away, other_away = true, true
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
  if string.sub(m, 1, #ARGV[4]) == ARGV[4] and redis.call('SISMEMBER', KEYS[2], m) == 0 then
    was_away = false
    if m ~= ARGV[1] then other_away = false end
  end
end
if ARGV[8] == '1' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
local away = other_away and ARGV[8] == '1'
if away ~= was_away then
  redis.call('PUBLISH', ARGV[5], away and ARGV[7] or ARGV[6])
end
return 1
