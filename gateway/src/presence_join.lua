-- A connection of a user enters a room's presence (keys: presence_lib.lua).
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] expiry ms  ARGV[4] user id
-- ARGV[5] user name  ARGV[6] the room's live channel  ARGV[7] the "online,
-- active" frame  ARGV[8] the "online, away" frame  ARGV[9] "1" when this
-- connection is away  ARGV[10] room id
-- Publishes "online" when the user had no live connection in the room, and
-- their status when it changes (away only while every connection is away).
-- Returns how many users are online in the room (the joining one included):
-- the subscribe's `online_count`, never the list (GET /api/rooms/{id}/online pages it).
local user = ARGV[4]
-- the user's own expired entry is not announced "offline": they are back
sweep(ARGV[2], ARGV[6], ARGV[10], user)
local n, a = standing(user)
local added = redis.call('ZADD', ENTRIES, ARGV[3], ARGV[1])
local da = set_away(ARGV[1], ARGV[9])
local n2, a2 = count(user, ARGV[5], added, da)
expire_at(ARGV[3])
local away = a2 == n2
if n == 0 or away ~= (a == n) then
  redis.call('PUBLISH', ARGV[6], away and ARGV[8] or ARGV[7])
end
return redis.call('HLEN', USERS)
