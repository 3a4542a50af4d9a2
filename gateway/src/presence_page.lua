-- A page of who is online in a room, by user id (read only).
-- KEYS[1] the room's presence set  KEYS[2] the room's away set
-- ARGV[1] now ms  ARGV[2] the last user id of the previous page ('' for the first)
-- ARGV[3] the page's size
-- A user is away when every live entry of theirs is in the away set (as
-- presence frames announce it). Returns {online users, more after the page (0/1),
-- id, name, away (0/1) of each user of the page}. Reads the room's live entries
-- whole (the set is scored by expiry, not by user): its cost is the room's
-- presence, and only the page leaves Redis. Every value is a string.
local away = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do away[m] = true end
local users, count = {}, 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  local id, name = string.match(m, '^([^|]+)|([^|]+)|')
  if id then
    local user = users[id]
    if not user then
      user = {name, true}
      users[id] = user
      count = count + 1
    end
    if not away[m] then user[2] = false end
  end
end
local after = {}
for id in pairs(users) do
  if id > ARGV[2] then after[#after + 1] = id end
end
table.sort(after)
local limit = tonumber(ARGV[3])
local page = {tostring(count), #after > limit and '1' or '0'}
for i = 1, math.min(limit, #after) do
  local id = after[i]
  page[#page + 1] = id
  page[#page + 1] = users[id][1]
  page[#page + 1] = users[id][2] and '1' or '0'
end
return page
