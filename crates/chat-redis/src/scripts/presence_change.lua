-- Sets or removes one connection of a user and returns the aggregate before and after,
-- atomically. Leases run on the server's clock, so every node agrees on when one lapses.
-- KEYS[1]: the user's presence hash, socket -> "status:lease_expiry_ms".
-- KEYS[2]: the user's last-seen instant.
-- ARGV[1]: socket ('' with ARGV[2] '': none, which only drops lapsed connections: a sweep);
-- ARGV[2]: 'online' | 'away' | 'offline' to set, '' to remove;
-- ARGV[3]: lease (ms); ARGV[4]: the caller's now (ms), recorded as last seen;
-- ARGV[5]: how long the hash outlives its newest lease (ms), so that a sweep still finds
-- a lapsed connection to announce.
-- Returns {before, after, expiry}: status names, and the connection's lease expiry (ms, '0'
-- when removed).
--
-- `before` counts lapsed connections too: a lapse is announced by whoever drops it (a change
-- or a sweep), so until then the others still see what was last announced.
local key = KEYS[1]
local socket = ARGV[1]
local status = ARGV[2]
local lease = tonumber(ARGV[3])
local keep = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local announced = {}
local live = {}
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local value = fields[i + 1]
  local sep = string.find(value, ':', 1, true)
  local expiry = sep and tonumber(string.sub(value, sep + 1)) or 0
  local s = sep and string.sub(value, 1, sep - 1) or 'offline'
  announced[fields[i]] = s
  if expiry > now then
    live[fields[i]] = s
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
local expiry = 0
if status == '' then
  if socket ~= '' then
    live[socket] = nil
    redis.call('HDEL', key, socket)
  end
else
  live[socket] = status
  expiry = now + lease
  redis.call('HSET', key, socket, status .. ':' .. string.format('%.0f', expiry))
  redis.call('PEXPIRE', key, lease + keep)
end
local after = aggregate(live)
if after == 'offline' and before ~= 'offline' then
  redis.call('SET', KEYS[2], ARGV[4])
end
return {before, after, string.format('%.0f', expiry)}
