-- Removes entries whose heartbeat stopped (their gateway died) and publishes
-- "offline" for users left with no live connection (keys: presence_lib.lua).
-- Safe to run from every gateway at once: only the caller whose ZREM removed
-- an entry reports it. ARGV[1] now ms  ARGV[2] live channel  ARGV[3] room id
-- (A user left with only away connections after an active one expired keeps
-- their last announced status until their next change.)
-- Returns 1 when more expired entries may be left (the caller calls again).
return sweep(ARGV[1], ARGV[2], ARGV[3], nil) and 1 or 0
