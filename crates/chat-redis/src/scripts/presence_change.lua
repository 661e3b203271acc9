-- Sets or removes one connection of a user and returns the aggregate before and after,
-- atomically. Leases run on the server's clock, so every node agrees on when one lapses.
-- KEYS[1]: the user's presence hash, socket -> "status:lease_expiry_ms".
-- KEYS[2]: the user's last-seen instant.
-- ARGV[1]: socket; ARGV[2]: 'online' | 'away' | 'offline' to set, '' to remove;
-- ARGV[3]: lease (ms); ARGV[4]: the caller's now (ms), recorded as last seen.
-- Returns {before, after} as status names.
local key = KEYS[1]
local socket = ARGV[1]
local status = ARGV[2]
local lease = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- The live connections; lapsed leases (a crashed node's sockets) are dropped on the way.
local live = {}
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local sep = string.find(value, ':', 1, true)
  local expiry = sep and tonumber(string.sub(value, sep + 1)) or 0
  if expiry > now then
    live[fields[i]] = string.sub(value, 1, sep - 1)
  else
    redis.call('HDEL', key, fields[i])
  end
end

local function aggregate()
  local away = false
  for _, s in pairs(live) do
    if s == 'online' then return 'online' end
    if s == 'away' then away = true end
  end
  if away then return 'away' end
  return 'offline'
end

local before = aggregate()
if status == '' then
  live[socket] = nil
  redis.call('HDEL', key, socket)
else
  live[socket] = status
  redis.call('HSET', key, socket, status .. ':' .. string.format('%.0f', now + lease))
  -- Every write extends the newest lease to now + lease: the hash outlives none of them.
  redis.call('PEXPIRE', key, lease)
end
local after = aggregate()
if after == 'offline' and before ~= 'offline' then
  redis.call('SET', KEYS[2], ARGV[4])
end
return {before, after}
