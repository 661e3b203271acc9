-- The connections whose lease has lapsed, from the index of every lease.
-- KEYS[1]: the lease index, a sorted set of "user socket" scored by lease expiry (ms).
-- ARGV[1]: most members to return.
-- Returns the members whose expiry is past, by the server's clock, oldest first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
