-- Shared by the presence scripts: presence.rs puts it before each of them.
-- A room's presence is four keys in one slot:
-- KEYS[1] entries: sorted set, one member per connection
--         ("user|name|instance:connection"), scored by its expiry (ms)
-- KEYS[2] away: the entries of away connections
-- KEYS[3] users: hash, user id -> "entries|away entries|name" for every user
--         with an entry: the index that gives a user's standing and the count
--         of users online without walking the entries
-- KEYS[4] ids: sorted set of the same user ids, every score 0 (ordered by
--         id, for paging)
-- Every script keeps users and ids equal to what entries and away hold, in
-- the same atomic step as its change, and first sweeps entries that expired
-- (a crashed gateway's, at most SWEEP_BATCH a call), so what it reads is the
-- room's live presence. A script's cost is its user's entries and what it
-- sweeps, not the room's presence.
local ENTRIES, AWAY, USERS, IDS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local SWEEP_BATCH = 128

-- a user's entries, away entries and name (0, 0, nil for none)
local function standing(user)
  local held = redis.call('HGET', USERS, user)
  if not held then return 0, 0, nil end
  local n, a, name = string.match(held, '^(%d+)|(%d+)|(.*)$')
  return tonumber(n), tonumber(a), name
end

-- adds dn entries and da away entries to a user's (name: the one to keep,
-- nil for the one held); returns their entries and away entries after
local function count(user, name, dn, da)
  local n, a, held = standing(user)
  local n2, a2 = n + dn, a + da
  if n2 <= 0 then
    redis.call('HDEL', USERS, user)
    redis.call('ZREM', IDS, user)
    return 0, 0
  end
  redis.call('HSET', USERS, user, n2 .. '|' .. a2 .. '|' .. (name or held or ''))
  if n == 0 then redis.call('ZADD', IDS, 0, user) end
  return n2, a2
end

-- takes an entry out of the room; returns its user and name, and the user's
-- entries and away entries after (nil when it was not there)
local function remove(member)
  if redis.call('ZREM', ENTRIES, member) == 0 then return nil end
  local away = redis.call('SREM', AWAY, member)
  local user, name = string.match(member, '^([^|]+)|([^|]*)|')
  if not user then return nil end
  local n, a = count(user, nil, -1, -away)
  return user, name, n, a
end

-- removes at most SWEEP_BATCH entries that expired before `now` and
-- publishes "offline" for each user they leave without an entry (but
-- `except`); returns whether more may be left
local function sweep(now, channel, room, except)
  local expired = redis.call('ZRANGEBYSCORE', ENTRIES, '-inf', '(' .. now, 'LIMIT', 0, SWEEP_BATCH)
  for _, member in ipairs(expired) do
    local user, name, n = remove(member)
    if user and n == 0 and user ~= except then
      redis.call('PUBLISH', channel, cjson.encode({type = 'presence', room = room,
        user = {id = user, username = name}, online = false}))
    end
  end
  return #expired == SWEEP_BATCH
end

-- marks an entry away ('1') or active; returns the change to its user's
-- away entries (1, -1 or 0)
local function set_away(member, flag)
  if flag == '1' then return redis.call('SADD', AWAY, member) end
  return -redis.call('SREM', AWAY, member)
end

-- the room's four keys expire together: the index lives as long as the entries
local function expire_at(at)
  for i = 1, 4 do redis.call('PEXPIREAT', KEYS[i], at) end
end

