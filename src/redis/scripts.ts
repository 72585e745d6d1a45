/**
 * The Lua script that stamps and appends frames inside Redis, each in one atomic step, so that
 * two processes can never take the same seq and no seq is ever left without a frame.
 *
 * One call carries a batch of events (a publisher sends what accumulated while its previous
 * calls were under way: one script call per batch, not per event).
 * KEYS: 1 the stream, 2 the seq counter, 3 the per-lane laneSeq counters (a hash).
 * ARGV: four per event: the lane key; the producer tag (`<producer id>:<publish number>`, unique
 * per publish); the JSON body; '' on a first attempt, or on a retry the seq after which the
 * first attempt's entry would be ('0' for the start of the stream).
 * Constants baked into the source by {@link publishScript} (fewer arguments per call): the
 * encoding version, the XADD trim arguments, the most entries a retry scans.
 * Returns three values per event: seq, laneSeq, and 1 if a retry found its first attempt
 * already appended, else 0. If Redis refuses an XADD, that event's third value is the error
 * text (its seq and laneSeq 0) and the events after it are not attempted (no values).
 *
 * The hot path per event is INCR + HINCRBY + XADD. A retry (after a connection failure left the
 * outcome of the first attempt unknown) first looks for its producer tag among the entries
 * appended since the given seq, and returns that entry's seqs instead of appending twice.
 *
 * Redis runs a script without interleaving other commands, but does not roll back a script that
 * fails halfway: XADD is therefore called with pcall, and a refusal undoes both counter
 * increments, so the counters stay dense.
 */
export function publishScript(
  version: string,
  trim: readonly string[],
  retryScanLimit: number,
): string {
  const quoted = (text: string) => `'${text.replace(/[^0-9A-Za-z~=]/g, '')}'`;
  const trimArguments = trim.map((part) => `${quoted(part)}, `).join('');
  return `
local results = {}
for base = 0, #ARGV - 4, 4 do
  local laneKey, tag, body, retryAfter = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local foundSeq, foundLaneSeq
  if retryAfter ~= '' then
    local start = '-'
    if retryAfter ~= '0' then start = '(' .. retryAfter .. '-0' end
    local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ${Math.max(1, Math.floor(retryScanLimit))})
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      local entryTag, laneSeq
      for i = 1, #fields, 2 do
        if fields[i] == 'p' then entryTag = fields[i + 1] elseif fields[i] == 'l' then laneSeq = fields[i + 1] end
      end
      if entryTag == tag then
        local id = entry[1]
        foundSeq = tonumber(string.sub(id, 1, string.find(id, '-', 1, true) - 1))
        foundLaneSeq = tonumber(laneSeq)
        break
      end
    end
  end
  if foundSeq then
    results[#results + 1] = foundSeq
    results[#results + 1] = foundLaneSeq
    results[#results + 1] = 1
  else
    local seq = redis.call('INCR', KEYS[2])
    local laneSeq = redis.call('HINCRBY', KEYS[3], laneKey, 1)
    local added = redis.pcall('XADD', KEYS[1], ${trimArguments}seq .. '-0',
      'v', ${quoted(version)}, 'l', laneSeq, 'e', body, 'p', tag)
    if type(added) == 'table' and added.err then
      redis.call('DECR', KEYS[2])
      redis.call('HINCRBY', KEYS[3], laneKey, -1)
      results[#results + 1] = 0
      results[#results + 1] = 0
      results[#results + 1] = 'rxjs-backpressure: XADD refused seq ' .. seq .. ' (is ' .. KEYS[2] ..
        ' behind the stream?): ' .. added.err
      return results
    end
    results[#results + 1] = seq
    results[#results + 1] = laneSeq
    results[#results + 1] = 0
  end
end
return results
`;
}
