/**
 * The Lua script that stamps and appends a frame in one atomic step inside Redis, so that two
 * processes can never take the same seq and no seq is ever left without a frame.
 *
 * KEYS: 1 the stream, 2 the seq counter, 3 the per-lane laneSeq counters (a hash), 4 the
 * publishing producer's recent publishes (a hash: publish number -> "seq:laneSeq").
 * ARGV: 1 laneId, 2 the producer's publish number, 3 the JSON body, 4 the encoding version,
 * 5 'MAXLEN' or '' (trim on append), 6 '~' or '=', 7 the MAXLEN threshold, 8 the dedupe window
 * (how many recent publish numbers are remembered; '0' turns dedupe off), 9 its TTL in ms.
 * Returns { seq, laneSeq, 1 if this publish number had already been appended else 0 }.
 *
 * Redis runs a script without interleaving other commands, but does not roll back a script
 * that fails halfway: XADD is therefore called with pcall, and a refusal undoes both counter
 * increments before the error is returned, so the counters stay dense.
 *
 * Retrying a publish with the same producer id and publish number returns the first outcome
 * instead of appending again: a reply lost to a dropped connection never doubles a frame.
 */
export const PUBLISH_SCRIPT = `
local known = redis.call('HGET', KEYS[4], ARGV[2])
if known then
  local sep = string.find(known, ':', 1, true)
  return { tonumber(string.sub(known, 1, sep - 1)), tonumber(string.sub(known, sep + 1)), 1 }
end
local seq = redis.call('INCR', KEYS[2])
local laneSeq = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
local added
if ARGV[5] == 'MAXLEN' then
  added = redis.pcall('XADD', KEYS[1], 'MAXLEN', ARGV[6], ARGV[7], seq .. '-0',
    'v', ARGV[4], 'l', laneSeq, 'e', ARGV[3])
else
  added = redis.pcall('XADD', KEYS[1], seq .. '-0', 'v', ARGV[4], 'l', laneSeq, 'e', ARGV[3])
end
if type(added) == 'table' and added.err then
  redis.call('DECR', KEYS[2])
  redis.call('HINCRBY', KEYS[3], ARGV[1], -1)
  return redis.error_reply('rxjs-backpressure: XADD refused seq ' .. seq .. ' (is ' .. KEYS[2] ..
    ' behind the stream?): ' .. added.err)
end
if ARGV[8] ~= '0' then
  redis.call('HSET', KEYS[4], ARGV[2], seq .. ':' .. laneSeq)
  local old = tonumber(ARGV[2]) - tonumber(ARGV[8])
  if old > 0 then redis.call('HDEL', KEYS[4], old) end
  redis.call('PEXPIRE', KEYS[4], ARGV[9])
end
return { seq, laneSeq, 0 }
`;
