/**
 * The Lua scripts behind the Redis store. Each runs atomically on one Redis
 * (in a cluster: on the node owning the shared hash tag of all its KEYS) and
 * takes the time from Redis `TIME`, so instances' clocks never matter.
 *
 * Window counters are hashes `{s = window start ms, n = used}` expiring at
 * `s + window`; concurrency counters are sorted sets of lease ids scored by
 * their expiry.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * The checks of one or more requests, in order, each as if alone: a request
 * sees what the ones before it took. KEYS: every request's counters, one
 * request after the other. ARGV: the number of requests, then per request
 * its counter count n, its leaseId, and per counter kind, quota, windowMs,
 * cost, enforce(1/0). Returns per request {allowed, then per counter used,
 * start, resetMs, fits}. A request's fitting counters are committed only if
 * every enforced one of its counters fits.
 */
export const TAKE = `${NOW}
local out = {}
local a, k = 2, 0
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local lease = ARGV[a + 1]
  a = a + 2
  local kind, quota, win, cost, enforce, used, start, reset, fits = {}, {}, {}, {}, {}, {}, {}, {}, {}
  local allowed = 1
  for i = 1, n do
    local key = KEYS[k + i]
    local b = a + (i - 1) * 5
    kind[i] = ARGV[b]
    quota[i] = tonumber(ARGV[b + 1])
    win[i] = tonumber(ARGV[b + 2])
    cost[i] = tonumber(ARGV[b + 3])
    enforce[i] = ARGV[b + 4] == '1'
    local need = cost[i]
    if kind[i] == 'c' then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
      used[i] = redis.call('ZCARD', key)
      start[i] = now
      reset[i] = 1000
    else
      local h = redis.call('HMGET', key, 's', 'n')
      local s = tonumber(h[1])
      if s == nil or now >= s + win[i] then
        start[i] = now
        used[i] = 0
      else
        start[i] = s
        used[i] = tonumber(h[2]) or 0
      end
      reset[i] = start[i] + win[i] - now
      if kind[i] == 't' and need < 1 then need = 1 end
    end
    fits[i] = used[i] + need <= quota[i]
    if enforce[i] and not fits[i] then allowed = 0 end
  end
  out[#out + 1] = allowed
  for i = 1, n do
    local key = KEYS[k + i]
    if allowed == 1 and fits[i] then
      if kind[i] == 'c' then
        redis.call('ZADD', key, now + win[i], lease)
        redis.call('PEXPIRE', key, win[i])
      else
        redis.call('HSET', key, 's', start[i], 'n', used[i] + cost[i])
        redis.call('PEXPIREAT', key, start[i] + win[i])
      end
      used[i] = used[i] + cost[i]
    end
    out[#out + 1] = used[i]
    out[#out + 1] = start[i]
    out[#out + 1] = reset[i]
    out[#out + 1] = fits[i] and 1 or 0
  end
  a = a + 5 * n
  k = k + n
end
return out
`;

/**
 * What ends calls: settlements and lease releases, of any number of calls.
 * KEYS: n window counters, then lease sets. ARGV: n, then per window counter
 * start, delta; then per lease set the lease id to remove. A delta applies
 * only to the window that started at \`start\` (an ended window's key has
 * expired or holds a later start), never below 0.
 */
export const SETTLE = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local s = redis.call('HGET', KEYS[i], 's')
  if s and tonumber(s) == tonumber(ARGV[2 * i]) then
    local used = tonumber(redis.call('HGET', KEYS[i], 'n')) or 0
    used = used + tonumber(ARGV[2 * i + 1])
    if used < 0 then used = 0 end
    redis.call('HSET', KEYS[i], 'n', used)
  end
end
for i = n + 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[n + 1 + i])
end
return 1
`;

/** KEYS: lease sets. ARGV: leaseId, ttlMs. Extends only leases still held. */
export const RENEW = `${NOW}
for i = 1, #KEYS do
  local expiry = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[2]), ARGV[1])
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2]))
  end
end
return 1
`;

/** KEYS: counters. ARGV: per counter kind, quota, windowMs, cost. Returns per counter used, start, resetMs, fits. */
export const PEEK = `${NOW}
local out = {}
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 4
  local kind, quota, win, cost = ARGV[b], tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local used, start, reset = 0, now, win
  if kind == 'c' then
    used = redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf')
    reset = 1000
  else
    local h = redis.call('HMGET', KEYS[i], 's', 'n')
    local s = tonumber(h[1])
    if s ~= nil and now < s + win then
      start = s
      used = tonumber(h[2]) or 0
      reset = s + win - now
    end
    if kind == 't' and cost < 1 then cost = 1 end
  end
  out[#out + 1] = used
  out[#out + 1] = start
  out[#out + 1] = reset
  out[#out + 1] = (used + cost <= quota) and 1 or 0
end
return out
`;
