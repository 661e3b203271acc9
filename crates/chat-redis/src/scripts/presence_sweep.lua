-- Drops the lapsed connections of one user and returns the aggregate before (as last
-- announced: lapsed connections included) and after, atomically, like presence_change.lua.
-- KEYS[1]: the user's presence hash; KEYS[2]: the user's last-seen instant.
-- ARGV[1]: the caller's now (ms), recorded as last seen when the user goes offline.
-- Returns {before, after, next}: `next` is the earliest lease expiry still in the hash (ms),
-- '0' when none is left.
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local announced = {}
local live = {}
local next_expiry = 0
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local sep = string.find(value, ':', 1, true)
  local expiry = sep and tonumber(string.sub(value, sep + 1)) or 0
  local s = sep and string.sub(value, 1, sep - 1) or 'offline'
  announced[fields[i]] = s
  if expiry > now then
    live[fields[i]] = s
    if next_expiry == 0 or expiry < next_expiry then next_expiry = expiry end
  else
    redis.call('HDEL', key, fields[i])
  end
end

local function aggregate(conns)
  local away = false
  for _, s in pairs(conns) do
    if s == 'online' then return 'online' end
    if s == 'away' then away = true end
  end
  if away then return 'away' end
  return 'offline'
end

local before = aggregate(announced)
local after = aggregate(live)
if after == 'offline' and before ~= 'offline' then
  redis.call('SET', KEYS[2], ARGV[1])
end
return {before, after, string.format('%.0f', next_expiry)}
