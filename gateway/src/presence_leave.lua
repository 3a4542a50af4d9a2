-- A connection of a user leaves a room's presence (keys: presence_lib.lua).
-- ARGV[1] member  ARGV[2] now ms  ARGV[3] user id  ARGV[4] live channel
-- ARGV[5] the "offline" frame  ARGV[6] the "online, active" frame
-- ARGV[7] the "online, away" frame  ARGV[8] room id
-- Publishes "offline" only when it was the user's last live connection
-- there; otherwise the user's status when it changed (the last active
-- connection left while others are away). Returns 0 when the entry was
-- gone already (expired: the sweep announced it).
sweep(ARGV[2], ARGV[4], ARGV[8], nil)
local n, a = standing(ARGV[3])
local user, _, n2, a2 = remove(ARGV[1])
if not user then return 0 end
if n2 == 0 then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
elseif (a2 == n2) ~= (a == n) then
  redis.call('PUBLISH', ARGV[4], a2 == n2 and ARGV[7] or ARGV[6])
end
return 1
