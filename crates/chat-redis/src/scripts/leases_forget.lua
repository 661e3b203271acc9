-- Removes swept members from the lease index, unless their lease moved on meanwhile (the
-- connection was set again).
-- KEYS[1]: the lease index; ARGV: members.
-- Returns how many were removed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local removed = 0
for _, member in ipairs(ARGV) do
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and tonumber(score) <= now then
    removed = removed + redis.call('ZREM', KEYS[1], member)
  end
end
return removed
