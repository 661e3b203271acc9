-- The sliding-window log of one (user, action), atomically (see chat_domain::rate_limit).
-- KEYS[1]: the log, a sorted set of allowed actions scored by their instant (ms).
-- ARGV[1]: now (ms, the caller's clock); ARGV[2]: window (ms); ARGV[3]: limit (>= 1);
-- ARGV[4]: a member unique to this action.
-- Returns 0 when allowed (and counted), else the ms until a slot frees (>= 1); refused
-- actions are not counted.
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])

-- In the window means after now - window; older instants leave the log.
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, math.max(window, 1))
  return 0
end
-- Once the (count - limit + 1) oldest have left the window, one more fits.
local freeing = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local wait = tonumber(freeing[2]) + window - now
return math.max(wait, 1)
