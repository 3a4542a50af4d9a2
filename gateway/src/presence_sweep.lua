-- Removes entries whose heartbeat stopped (their gateway died) and publishes
-- "offline" for users left with no live connection. Safe to run from every
-- gateway at once: only the caller whose ZREM removed an entry reports it.
-- KEYS[1] presence set  KEYS[2] away set  ARGV[1] now ms  ARGV[2] live channel  ARGV[3] room id
-- (A user left with only away connections after an active one expired keeps
-- their last announced status until their next change.)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local gone = {}
for _, m in ipairs(expired) do
  redis.call('SREM', KEYS[2], m)
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local user, name = string.match(m, '^([^|]+)|([^|]+)|')
    if user then gone[user] = name end
  end
end
local still = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  local user = string.match(m, '^([^|]+)|')
  if user then still[user] = true end
end
local n = 0
for user, name in pairs(gone) do
  if not still[user] then
    redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'presence', room = ARGV[3],
      user = {id = user, username = name}, online = false}))
    n = n + 1
  end
end
return n
