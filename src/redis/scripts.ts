/**
 * The Lua script that stamps and appends a frame in one atomic step inside Redis, so that two
 * processes can never take the same seq and no seq is ever left without a frame.
 *
 * KEYS: 1 the stream, 2 the seq counter, 3 the per-lane laneSeq counters (a hash).
 * ARGV: 1 the lane key, 2 the producer tag (`<producer id>:<publish number>`, unique per publish),
 * 3 the JSON body, 4 '' on a first attempt; on a retry, the seq after which the first attempt's
 * entry would be ('0' for the start of the stream).
 * Constants baked into the source by {@link publishScript} (fewer arguments per call): the
 * encoding version, the XADD trim arguments, the most entries a retry scans.
 * Returns { seq, laneSeq, 1 if a retry found its first attempt already appended else 0 }.
 *
 * The hot path is INCR + HINCRBY + XADD. A retry (after a connection failure left the outcome of
 * the first attempt unknown) first looks for its producer tag among the entries appended since
 * the given seq, and returns that entry's seqs instead of appending twice.
 *
 * Redis runs a script without interleaving other commands, but does not roll back a script that
 * fails halfway: XADD is therefore called with pcall, and a refusal undoes both counter
 * increments before the error is returned, so the counters stay dense.
 */
export function publishScript(
  version: string,
  trim: readonly string[],
  retryScanLimit: number,
): string {
  const quoted = (text: string) => `'${text.replace(/[^0-9A-Za-z~=]/g, '')}'`;
  const trimArguments = trim.map((part) => `${quoted(part)}, `).join('');
  return `
if ARGV[4] ~= '' then
  local start = '-'
  if ARGV[4] ~= '0' then start = '(' .. ARGV[4] .. '-0' end
  local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ${Math.max(1, Math.floor(retryScanLimit))})
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    local tag, laneSeq
    for i = 1, #fields, 2 do
      if fields[i] == 'p' then tag = fields[i + 1] elseif fields[i] == 'l' then laneSeq = fields[i + 1] end
    end
    if tag == ARGV[2] then
      local id = entry[1]
      return { tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1)), tonumber(laneSeq), 1 }
    end
  end
end
local seq = redis.call('INCR', KEYS[2])
local laneSeq = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
local added = redis.pcall('XADD', KEYS[1], ${trimArguments}seq .. '-0',
  'v', ${quoted(version)}, 'l', laneSeq, 'e', ARGV[3], 'p', ARGV[2])
if type(added) == 'table' and added.err then
  redis.call('DECR', KEYS[2])
  redis.call('HINCRBY', KEYS[3], ARGV[1], -1)
  return redis.error_reply('rxjs-backpressure: XADD refused seq ' .. seq .. ' (is ' .. KEYS[2] ..
    ' behind the stream?): ' .. added.err)
end
return { seq, laneSeq, 0 }
`;
}
