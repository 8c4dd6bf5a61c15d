//! The Lua scripts: each store operation that must be atomic is one script, run by Redis as one
//! step. Every key a script touches shares a hash tag with its declared keys, so each runs on one
//! cluster node.
//!
//! Family values are `<generation>:<created>:<deadline>:<JSON>`; revocation values
//! `<until>:<cutoff>:<kid>:<mac>:<id>` (see `layout`). Times in values are the keycard clock's
//! unix seconds; expiries are relative (`PX`), so they hold whatever Redis's own clock says.

use std::sync::OnceLock;

use redis::Script;

macro_rules! script {
    ($name:ident, $doc:literal, $src:literal) => {
        #[doc = $doc]
        pub(crate) fn $name() -> &'static Script {
            static S: OnceLock<Script> = OnceLock::new();
            S.get_or_init(|| Script::new($src))
        }
    };
}

script!(
    insert,
    "Adds a family, counting the subject's live ones first. KEYS: index, family. ARGV: sid, \
     value, family px, index px, max (0: no limit), evict (1) or reject (0), now, family prefix. \
     Returns {1, evicted values...}, {0} when refused, or an error reply when the sid exists.",
    r#"
local index, fam = KEYS[1], KEYS[2]
if redis.call('EXISTS', fam) == 1 then
  return redis.error_reply('KEYCARD session exists')
end
local evicted = {1}
local max = tonumber(ARGV[5])
if max > 0 then
  local now = tonumber(ARGV[7])
  local live = {}
  for _, sid in ipairs(redis.call('SMEMBERS', index)) do
    local v = redis.call('GET', ARGV[8] .. sid)
    if v then
      local created, deadline = string.match(v, '^%d+:(%d+):(%d+):')
      if tonumber(deadline) > now then
        table.insert(live, {tonumber(created), sid, v})
      end
    else
      redis.call('SREM', index, sid)
    end
  end
  if #live >= max then
    if ARGV[6] ~= '1' then
      return {0}
    end
    table.sort(live, function(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] < b[2]
    end)
    for i = 1, #live + 1 - max do
      redis.call('DEL', ARGV[8] .. live[i][2])
      redis.call('SREM', index, live[i][2])
      table.insert(evicted, live[i][3])
    end
  end
end
redis.call('SET', fam, ARGV[2], 'PX', ARGV[3])
redis.call('SADD', index, ARGV[1])
if redis.call('PTTL', index) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', index, ARGV[4])
end
return evicted
"#
);

script!(
    compare_and_swap,
    "Replaces a family if its stored generation is the expected one. KEYS: family. ARGV: \
     expected generation, new value, px. Returns {1} swapped, {0, current} conflict, {-1} missing.",
    r#"
local cur = redis.call('GET', KEYS[1])
if not cur then
  return {-1}
end
if string.match(cur, '^(%d+):') ~= ARGV[1] then
  return {0, cur}
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return {1}
"#
);

script!(
    remove,
    "Removes a family. KEYS: family, index. ARGV: sid. Returns the value, or nil.",
    r#"
local cur = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return cur
"#
);

script!(
    by_subject,
    "A subject's families, dropping ids whose family expired. KEYS: index. ARGV: family \
     prefix. Returns the values.",
    r#"
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. sid)
  if v then
    table.insert(out, v)
  else
    redis.call('SREM', KEYS[1], sid)
  end
end
return out
"#
);

script!(
    revoke,
    "Stores revocations and appends their batch to the stream, in one step. KEYS: stream, \
     index, then one key per revocation. ARGV: kid, batch, mac, then per revocation: value, px, \
     index member. A stored revocation is replaced only by one that lasts at least as long. \
     Returns the stream entry id.",
    r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 3, #KEYS do
  local j = 4 + (i - 3) * 3
  local value, px, member = ARGV[j], tonumber(ARGV[j + 1]), ARGV[j + 2]
  local keep = false
  local cur = redis.call('GET', KEYS[i])
  if cur then
    local cu = tonumber(string.match(cur, '^(%d+):'))
    local nu = tonumber(string.match(value, '^(%d+):'))
    keep = cu ~= nil and nu ~= nil and cu > nu
  end
  if not keep then
    redis.call('SET', KEYS[i], value, 'PX', px)
    redis.call('ZADD', KEYS[2], 'GT', now_ms + px, member)
  end
end
return redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 'd', ARGV[2], 't', ARGV[3])
"#
);

script!(
    prune_index,
    "Drops index members whose revocation has expired. KEYS: index. Returns how many.",
    r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
"#
);

script!(
    live_members,
    "A page of the index's live members. KEYS: index. ARGV: offset, count. Returns members.",
    r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now_ms, '+inf', 'LIMIT', ARGV[1], ARGV[2])
"#
);

script!(
    status_allocate,
    "Takes a free Token Status List index. KEYS: cap, used, bits, reclaim. ARGV: random (< 2^32), \
     reclaim time, initial size, largest size. Doubles the list when half of it is taken; takes the \
     first free index from the random start (wrapping); clears its status bit. Returns the index.",
    r#"
local cap = tonumber(redis.call('GET', KEYS[1]) or ARGV[3])
local taken = redis.call('ZCARD', KEYS[4])
local largest = tonumber(ARGV[4])
if (taken + 1) * 2 > cap and cap < largest then
  cap = math.min(cap * 2, largest)
end
redis.call('SET', KEYS[1], cap)
local len = redis.call('STRLEN', KEYS[2]) * 8
local function first_clear(from, to)
  if from > to then return -1 end
  if from >= len then return from end
  local p = redis.call('BITPOS', KEYS[2], 0, from, math.min(to, len - 1), 'BIT')
  if p >= 0 then return p end
  if to >= len then return len end
  return -1
end
local start = tonumber(ARGV[1]) % cap
local idx = first_clear(start, cap - 1)
if idx < 0 then idx = first_clear(0, start - 1) end
if idx < 0 then return redis.error_reply('KEYCARD status list full') end
redis.call('SETBIT', KEYS[2], idx, 1)
redis.call('SETBIT', KEYS[3], idx, 0)
redis.call('ZADD', KEYS[4], ARGV[2], idx)
return idx
"#
);

script!(
    status_mark,
    "Sets the status bits of ended sessions. KEYS: bits, reclaim. ARGV: index, reclaim time, ... \
     An index not taken is ignored; a reclaim time only ever moves earlier.",
    r#"
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    redis.call('SETBIT', KEYS[1], ARGV[i], 1)
    redis.call('ZADD', KEYS[2], 'LT', ARGV[i + 1], ARGV[i])
  end
end
return 0
"#
);

script!(
    status_reclaim,
    "Frees indices whose reclaim time has come. KEYS: used, bits, reclaim. ARGV: now, most. \
     Returns how many.",
    r#"
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, idx in ipairs(due) do
  redis.call('SETBIT', KEYS[1], idx, 0)
  redis.call('SETBIT', KEYS[2], idx, 0)
  redis.call('ZREM', KEYS[3], idx)
end
return #due
"#
);

script!(
    status_bits,
    "The status bits and the list size. KEYS: cap, bits. Returns {cap or false, bits or false}.",
    r#"
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
"#
);

script!(
    claim_once,
    "Records a DPoP proof's first use. KEYS: the proof's key. ARGV: expiry (ms). Returns 1 the \
     first time, 0 after.",
    r#"
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"#
);
