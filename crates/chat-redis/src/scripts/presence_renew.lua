-- Renews the lease of one live connection.
-- KEYS[1]: the user's presence hash; ARGV[1]: socket; ARGV[2]: lease (ms);
-- ARGV[3]: how long the hash outlives its newest lease (ms).
-- Returns the new lease expiry (ms) when renewed, 0 when the connection is unknown or its
-- lease already lapsed (then others may have seen the user go offline: set its status again).
local key = KEYS[1]
local lease = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local value = redis.call('HGET', key, ARGV[1])
if not value then return 0 end
local sep = string.find(value, ':', 1, true)
if not sep or (tonumber(string.sub(value, sep + 1)) or 0) <= now then return 0 end
local status = string.sub(value, 1, sep - 1)
local expiry = now + lease
redis.call('HSET', key, ARGV[1], status .. ':' .. string.format('%.0f', expiry))
redis.call('PEXPIRE', key, lease + tonumber(ARGV[3]))
return expiry
