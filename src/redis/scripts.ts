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
 * Returns the seq of the call's first appended event (0 when none is), then one value per event,
 * in call order: a number, the laneSeq of an appended event (the appended events take the seqs
 * from the first one on, in call order); a pair [seq, laneSeq], a retry that found its first
 * attempt already appended (the seqs are that entry's); or a string, an event not appended: the
 * reason Redis refused it, then '' for each event after it (not attempted).
 *
 * The counters are taken once per call, not per event: one INCRBY for the events to append and
 * one HINCRBY per distinct lane of the call, then one XADD per event (with the seqs counted on
 * from there, in call order), of the two fields of encoding version 2 (see codec.ts):
 * `m` = `<version> <laneSeq> <producer tag>` and `e` = the JSON body. A retry (after a
 * connection failure left the outcome of the first attempt unknown) first looks for its
 * producer tag among the entries appended since the given seq (in either encoding), and takes
 * that entry's seqs instead of appending twice.
 *
 * Redis runs a script without interleaving other commands, but does not roll back a script that
 * fails halfway: HINCRBY and XADD are therefore called with pcall, and a refusal gives back
 * exactly the seqs and laneSeqs not used (of the refused event and the ones after it), so the
 * counters stay dense.
 */
export function publishScript(
  version: string,
  trim: readonly string[],
  retryScanLimit: number,
): string {
  const quoted = (text: string) => `'${text.replace(/[^0-9A-Za-z~=]/g, '')}'`;
  const trimArguments = trim.map((part) => `${quoted(part)}, `).join('');
  return `
local events = #ARGV / 4
local results = {0}
local fresh = 0
local lanes = {}
local laneCount = {}
for i = 1, events do
  local base = i * 4 - 4
  local retryAfter = ARGV[base + 4]
  local foundSeq, foundLaneSeq
  if retryAfter ~= '' then
    local tag = ARGV[base + 2]
    local start = '-'
    if retryAfter ~= '0' then start = '(' .. retryAfter .. '-0' end
    local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ${Math.max(1, Math.floor(retryScanLimit))})
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      local entryTag, laneSeq
      for f = 1, #fields, 2 do
        local name = fields[f]
        if name == 'm' then
          laneSeq, entryTag = string.match(fields[f + 1], '^%d+ (%d+) (.*)$')
        elseif name == 'p' then
          entryTag = fields[f + 1]
        elseif name == 'l' then
          laneSeq = fields[f + 1]
        end
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
    results[i + 1] = {foundSeq, foundLaneSeq}
  else
    fresh = fresh + 1
    local lane = ARGV[base + 1]
    local count = laneCount[lane]
    if count == nil then
      lanes[#lanes + 1] = lane
      laneCount[lane] = 1
    else
      laneCount[lane] = count + 1
    end
  end
end
if fresh == 0 then return results end
-- Marks the events from the first not yet answered on as not appended: that one with the reason.
local refuse = function(reason)
  for i = 1, events do
    if results[i + 1] == nil then
      results[i + 1] = reason
      reason = ''
    end
  end
  return results
end
local lastSeq = redis.call('INCRBY', KEYS[2], fresh)
local seq = lastSeq - fresh
local laneNext = {}
local laneEnd = {}
for l = 1, #lanes do
  local lane = lanes[l]
  local last = redis.pcall('HINCRBY', KEYS[3], lane, laneCount[lane])
  if type(last) == 'table' then
    redis.call('DECRBY', KEYS[2], fresh)
    for u = 1, l - 1 do redis.call('HINCRBY', KEYS[3], lanes[u], -laneCount[lanes[u]]) end
    return refuse('rxjs-backpressure: HINCRBY refused lane ' .. lane .. ' of ' .. KEYS[3] .. ': ' .. tostring(last.err))
  end
  laneEnd[lane] = last
  laneNext[lane] = last - laneCount[lane]
end
results[1] = seq + 1
for i = 1, events do
  if results[i + 1] == nil then
    local base = i * 4 - 4
    local lane = ARGV[base + 1]
    local laneSeq = laneNext[lane] + 1
    local id, meta
    if seq < 99999999999999 and laneSeq < 99999999999999 then
      id = (seq + 1) .. '-0'
      meta = ${quoted(version)} .. ' ' .. laneSeq .. ' ' .. ARGV[base + 2]
    else
      -- Lua writes numbers from 1e14 on in exponent form.
      id = string.format('%d-0', seq + 1)
      meta = ${quoted(version)} .. string.format(' %d ', laneSeq) .. ARGV[base + 2]
    end
    local added = redis.pcall('XADD', KEYS[1], ${trimArguments}id, 'm', meta, 'e', ARGV[base + 3])
    if type(added) == 'table' and added.err then
      -- Give back what this event and the later ones took and did not use.
      redis.call('DECRBY', KEYS[2], lastSeq - seq)
      if seq == lastSeq - fresh then results[1] = 0 end
      for l = 1, #lanes do
        local other = lanes[l]
        local unused = laneEnd[other] - laneNext[other]
        if unused > 0 then redis.call('HINCRBY', KEYS[3], other, -unused) end
      end
      return refuse('rxjs-backpressure: XADD refused seq ' .. string.sub(id, 1, -3) .. ' (is ' .. KEYS[2] ..
        ' behind the stream?): ' .. added.err)
    end
    seq = seq + 1
    laneNext[lane] = laneSeq
    results[i + 1] = laneSeq
  end
end
return results
`;
}
