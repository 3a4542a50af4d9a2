-- A connection of a user becomes away or active in a room's presence (keys:
-- presence_lib.lua; ARGV as presence_join.lua's).
-- Publishes the user's status when it changed: away only while every live
-- connection of theirs is away. Nothing for a connection not (or no longer) live.
sweep(ARGV[2], ARGV[6], ARGV[10], nil)
local score = redis.call('ZSCORE', ENTRIES, ARGV[1])
if not score or tonumber(score) < tonumber(ARGV[2]) then return 0 end
local user = ARGV[4]
local n, a = standing(user)
local da = set_away(ARGV[1], ARGV[9])
local a2 = a
if da ~= 0 then n, a2 = count(user, nil, 0, da) end
expire_at(ARGV[3])
if (a2 == n) ~= (a == n) then
  redis.call('PUBLISH', ARGV[6], a2 == n and ARGV[8] or ARGV[7])
end
return 1
