-- A connection of a user enters a room's presence.
-- KEYS[1] the room's presence set (member "user|name|connection", score = expiry ms)
-- KEYS[2] the room's away set (members whose connection is away)
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] expiry ms  ARGV[4] "user|" prefix
-- ARGV[5] the room's live channel  ARGV[6] the "online, active" frame
-- ARGV[7] the "online, away" frame  ARGV[8] "1" when this connection is away
-- Publishes "online" when the user had no live connection in the room, and
-- their status when it changes (away only while every connection is away).
-- Returns how many users are online in the room (the joining one included):
-- the subscribe's `online_count`, never the list (GET /api/rooms/{id}/online pages it).
-- One walk of the room's live entries: the user's standing (had a live
-- entry; away while every one of theirs is) and how many other users are online.
local prefix = ARGV[4]
local had, was_away = false, true
local users, count = {[prefix] = true}, 1
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], '+inf')) do
  local bar = string.find(m, '|', 1, true)
  if bar then
    local user = string.sub(m, 1, bar)
    if user == prefix then
      had = true
      if was_away and redis.call('SISMEMBER', KEYS[2], m) == 0 then was_away = false end
    elseif not users[user] then
      users[user] = true
      count = count + 1
    end
  end
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
local away = ARGV[8] == '1'
if away then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
local now_away = away and was_away
if not had or now_away ~= was_away then
  redis.call('PUBLISH', ARGV[5], now_away and ARGV[7] or ARGV[6])
end
return count
