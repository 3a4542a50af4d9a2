-- Counts a mention against the room's and the user's reply budgets, once.
--
-- KEYS[1]  the room's window: sorted set of mention ids scored by time (ms)
-- KEYS[2]  the user's window, the same
-- ARGV[1]  the mention id
-- ARGV[2]  now, in milliseconds
-- ARGV[3]  the window's length, in milliseconds
-- ARGV[4]  replies allowed per window in a room
-- ARGV[5]  replies allowed per window to a user
--
-- Returns 1 when the mention may be answered, 0 when a budget is spent.
-- A mention counted before (the bot restarted mid-reply) gets the same
-- answer as the first time it was counted, so a retry never eats budget.
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
end
local in_room = redis.call('ZSCORE', KEYS[1], ARGV[1])
local in_user = redis.call('ZSCORE', KEYS[2], ARGV[1])
if in_room and in_user then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return 0
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], window)
end
return 1
