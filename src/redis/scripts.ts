/**
 * The Lua script that stamps and appends frames inside Redis, each in one atomic step, so that
 * two processes can never take the same seq and no seq is ever left without a frame.
 *
 * One call carries a batch of events (a publisher sends what accumulated while its previous
 * calls were under way: one script call per batch, not per event).
 * KEYS: 1 the stream, 2 the seq counter, 3 the per-lane laneSeq counters (a hash), 4 the epoch,
 * 5 the producer's fence (a hash: `owner`, the token of the bus holding the producer id, and
 * `n`, the highest publish number of a call that landed; it expires after the lease).
 * ARGV: a header of {@link PUBLISH_HEADER} values: the epoch the caller is in ('' skips the
 * epoch checks); the highest seq the caller knows the stream held (0: none); the owner token
 * ('' skips the fence); the lease in ms. Then four per event: the lane key; the producer tag
 * (`<producer id>:<publish number>`, the numbers increasing in the order calls leave); the JSON
 * body; '' on a first attempt, or on a retry the seq after which its earlier attempts would be
 * ('0' for the start of the stream), followed by the tags of those attempts, one per line.
 * Constants baked into the source by {@link publishScript} (fewer arguments per call): the
 * encoding version, the XADD trim arguments, the most entries a retry scans.
 *
 * Before anything is written, the call is checked; a refusal returns `{-1, reason, detail}`:
 * `'epoch'` (the epoch key differs from the caller's or is missing; detail: the stored one or
 * ''), `'behind'` (the counter and the stream are below a seq the caller saw: the log went
 * backwards; detail: the counter), `'lost'` (the counter is above 0 but the stream does not exist), `'producer'`
 * (another bus holds the producer id; detail: its token), `'fenced'` (the call's publish numbers
 * are not above the producer's fence: a late request, overtaken by a later call that landed).
 *
 * Otherwise it returns the seq of the call's first appended event (0 when none is), then one
 * value per event, in call order: a number, the laneSeq of an appended event (the appended
 * events take the seqs from the first one on, in call order); a pair [seq, laneSeq], a retry that
 * found an earlier attempt already appended (the seqs are that entry's); or a string, an event
 * not appended: the reason Redis refused it, then '' for each event after it (not attempted).
 *
 * The counters are taken once per call, not per event: one INCRBY for the events to append and
 * one HINCRBY per distinct lane of the call, then one XADD per event (with the seqs counted on
 * from there, in call order), of the two fields of encoding version 2 (see codec.ts):
 * `m` = `<version> <laneSeq> <producer tag>` and `e` = the JSON body. When the first XADD is
 * refused because the stream already holds a higher id (an entry another client added without
 * the counter), the counter is moved up to the stream's last id and the seqs count on from there:
 * publishing goes on.
 *
 * Redis runs a script without interleaving other commands, but does not roll back a script that
 * fails halfway: HINCRBY and XADD are therefore called with pcall, and a refusal gives back
 * exactly the seqs and laneSeqs not used (of the refused event and the ones after it), so the
 * counters stay dense.
 */
/** Header values of a publish call, before the events' four each. */
export const PUBLISH_HEADER = 4;

/** Lua: the ms part of a stream's last generated id (0 when the stream does not exist). */
const LAST_GENERATED = `
local lastGenerated = function(key)
  if redis.call('EXISTS', key) == 0 then return 0 end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      return tonumber(string.match(info[i + 1], '^(%d+)-'))
    end
  end
  return 0
end
`;

export function publishScript(
  version: string,
  trim: readonly string[],
  retryScanLimit: number,
): string {
  const quoted = (text: string) => `'${text.replace(/[^0-9A-Za-z~=]/g, '')}'`;
  const trimArguments = trim.map((part) => `${quoted(part)}, `).join('');
  return `${LAST_GENERATED}
local H = ${PUBLISH_HEADER}
local events = (#ARGV - H) / 4
if events < 1 then return {0} end
local owner = ARGV[3]
if ARGV[1] ~= '' then
  local stored = redis.call('GET', KEYS[4])
  if stored ~= ARGV[1] then return {-1, 'epoch', stored or ''} end
  local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
  -- Behind a seq the caller saw: lost, unless the stream holds it (another client appended
  -- without the counter: repaired at the first XADD below).
  if counter < tonumber(ARGV[2]) and lastGenerated(KEYS[1]) < tonumber(ARGV[2]) then
    return {-1, 'behind', tostring(counter)}
  end
  if counter > 0 and redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 'lost', tostring(counter)} end
end
if owner ~= '' then
  local held = redis.call('HMGET', KEYS[5], 'owner', 'n')
  if held[1] and held[1] ~= owner then return {-1, 'producer', held[1]} end
  local first = tonumber(string.match(ARGV[H + 2], ':(%d+)$'))
  local last = string.match(ARGV[#ARGV - 2], ':(%d+)$')
  if held[1] and first <= tonumber(held[2] or '0') then return {-1, 'fenced', held[2] or '0'} end
  redis.call('HSET', KEYS[5], 'owner', owner, 'n', last)
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
local results = {0}
local fresh = 0
local lanes = {}
local laneCount = {}
for i = 1, events do
  local base = H + i * 4 - 4
  local lookup = ARGV[base + 4]
  local foundSeq, foundLaneSeq
  if lookup ~= '' then
    local tags = {}
    tags[ARGV[base + 2]] = true
    local retryAfter
    for line in string.gmatch(lookup, '[^\\n]+') do
      if retryAfter == nil then retryAfter = line else tags[line] = true end
    end
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
      if entryTag and tags[entryTag] then
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
local append = function(base, laneSeq)
  local id, meta
  if seq < 99999999999999 and laneSeq < 99999999999999 then
    id = (seq + 1) .. '-0'
    meta = ${quoted(version)} .. ' ' .. laneSeq .. ' ' .. ARGV[base + 2]
  else
    -- Lua writes numbers from 1e14 on in exponent form.
    id = string.format('%d-0', seq + 1)
    meta = ${quoted(version)} .. string.format(' %d ', laneSeq) .. ARGV[base + 2]
  end
  return id, redis.pcall('XADD', KEYS[1], ${trimArguments}id, 'm', meta, 'e', ARGV[base + 3])
end
results[1] = seq + 1
for i = 1, events do
  if results[i + 1] == nil then
    local base = H + i * 4 - 4
    local lane = ARGV[base + 1]
    local laneSeq = laneNext[lane] + 1
    local id, added = append(base, laneSeq)
    if type(added) == 'table' and added.err and seq == lastSeq - fresh
      and string.find(added.err, 'equal or smaller', 1, true) then
      -- Another client added entries without the counter: the counter moves up past them.
      local top = lastGenerated(KEYS[1])
      if top > seq then
        local shift = top - seq
        redis.call('INCRBY', KEYS[2], shift)
        seq = seq + shift
        lastSeq = lastSeq + shift
        results[1] = seq + 1
        id, added = append(base, laneSeq)
      end
    end
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

/**
 * Reads a stream's state in one step, for a reader checking that its log did not go backwards:
 * KEYS 1 the stream, 2 the seq counter, 3 the epoch; ARGV 1 a seq. Returns the stored epoch (''
 * when missing), the counter, the ms part of the stream's last generated id (0 when the stream
 * does not exist), the seq of its first entry (0 when it has none), and the fields of the entry
 * at the seq (nil when there is none).
 */
export const PROBE_SCRIPT = `${LAST_GENERATED}
local first = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'first-entry' and info[i + 1] then
      first = tonumber(string.match(info[i + 1][1], '^(%d+)-'))
    end
  end
end
local at = false
if ARGV[1] ~= '0' then
  local entries = redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', ARGV[1] .. '-0')
  if #entries > 0 then at = entries[1][2] end
end
return {redis.call('GET', KEYS[3]) or '', redis.call('GET', KEYS[2]) or '0', lastGenerated(KEYS[1]), first, at}
`;

/**
 * Starts a new epoch when the stored one is still the one given (or missing, when '' is given):
 * KEYS 1 the epoch, 2 the seq counter, 3 the stream; ARGV 1 the epoch seen, 2 the new one. The
 * counter is set to the stream's last id (the stream is the truth). Returns the epoch in force
 * (the new one, or the one another process set first) and the stream's last seq.
 */
export const RENEW_EPOCH_SCRIPT = `${LAST_GENERATED}
local last = lastGenerated(KEYS[3])
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return {current, last} end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], last)
return {ARGV[2], last}
`;

/**
 * Claims a producer id for a bus (KEYS 1 its fence; ARGV 1 the bus's token, 2 the lease in ms),
 * or renews the claim. Returns '' when this bus holds it, else the holder's token.
 */
export const CLAIM_PRODUCER_SCRIPT = `
local held = redis.call('HGET', KEYS[1], 'owner')
if held and held ~= ARGV[1] then return held end
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return ''
`;

/** Gives a producer id back (KEYS 1 its fence; ARGV 1 the bus's token) if this bus holds it. */
export const RELEASE_PRODUCER_SCRIPT = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;
