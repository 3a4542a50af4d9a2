-- A page of who is online in a room, by user id (keys: presence_lib.lua).
-- ARGV[1] now ms  ARGV[2] the last user id of the previous page ('' for the first)
-- ARGV[3] the page's size  ARGV[4] live channel  ARGV[5] room id
-- A user is away when every live entry of theirs is in the away set (as
-- presence frames announce it). Returns {online users, more after the page (0/1),
-- id, name, away (0/1) of each user of the page}; every value is a string.
-- Sweeps first (as every presence script does), then reads the index: its
-- cost is the page, not the room's presence.
sweep(ARGV[1], ARGV[4], ARGV[5], nil)
local limit = tonumber(ARGV[3])
local from = ARGV[2] == '' and '-' or '(' .. ARGV[2]
local ids = redis.call('ZRANGEBYLEX', IDS, from, '+', 'LIMIT', 0, limit + 1)
local page = {tostring(redis.call('HLEN', USERS)), #ids > limit and '1' or '0'}
for i = 1, math.min(limit, #ids) do
  local n, a, name = standing(ids[i])
  page[#page + 1] = ids[i]
  page[#page + 1] = name or ''
  page[#page + 1] = (n > 0 and a == n) and '1' or '0'
end
return page
