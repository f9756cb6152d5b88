"""Redis key layout and the Lua scripts that make each multi-key step atomic.

Every key starts with ``NEWSCRAWL_REDIS_PREFIX`` (default ``newscrawl``). Per crawl (spider ``S``):

=============================  ======  =====================================================================
``P:S:requests``               zset    the shared request queue (scrapy-redis PriorityQueue, score = -priority)
``P:S:dupefilter``             set     8-byte request fingerprints ever enqueued in this crawl
``P:S:workers``                set     worker ids that joined this crawl and have not left cleanly
``P:S:inflight:W``             hash    leases of worker W: serialized request -> its queue score
``P:S:dead:W``                 string  when a reaper first saw W dead while it still held claims (ms)
``P:hb:W``                     string  heartbeat of worker W: its incarnation nonce, with a TTL
=============================  ======  =====================================================================

Seen-store and near-duplicate index (shared by every crawl, see newscrawl/distributed/state.py):

=============================  ======  =====================================================================
``P:s:a:B``                    hash    article records: 8-byte URL fingerprint -> packed record; B = top 18 bits
``P:s:h:B``                    hash    body index: 8-byte content-hash fingerprint -> URL fingerprint
``P:s:b:K``                    set     SimHash band K -> URL fingerprints (integers, so Redis keeps intsets)
``P:s:p:B``                    hash    paragraph sketch entry -> URL fingerprints (8 bytes each, concatenated)
``P:s:seq`` / ``P:s:n``        string  insertion counter (first-recorded order) / number of articles
``P:s:claims``                 hash    ``u<fp>`` / ``h<fp>`` -> owner ``W|nonce`` of an export in progress
``P:s:wc:W``                   hash    index of the claims worker W holds (for recovery and reaping)
=============================  ======  =====================================================================

Keys are built inside some scripts from prefixes passed as arguments: this needs one Redis server (or a
primary with replicas), not Redis Cluster.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Bucket bits for the article, body and paragraph hashes: 2**18 hashes of ~4 entries per million articles.
BUCKET_BITS = 18


def bucket(fp8: bytes) -> int:
    """The bucket of an 8-byte fingerprint (its top BUCKET_BITS bits)."""
    return int.from_bytes(fp8[:4], "big") >> (32 - BUCKET_BITS)


@dataclass(frozen=True)
class CrawlKeys:
    """Keys of one crawl (one spider) and of the worker heartbeats."""

    prefix: str
    spider: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{self.spider}"

    @property
    def queue(self) -> str:
        return f"{self.base}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.base}:dupefilter"

    @property
    def workers(self) -> str:
        return f"{self.base}:workers"

    @property
    def inflight_prefix(self) -> str:
        return f"{self.base}:inflight:"

    def inflight(self, worker: str) -> str:
        return self.inflight_prefix + worker

    def dead(self, worker: str) -> str:
        return f"{self.base}:dead:{worker}"

    @property
    def hb_prefix(self) -> str:
        return f"{self.prefix}:hb:"

    def hb(self, worker: str) -> str:
        return self.hb_prefix + worker


@dataclass(frozen=True)
class StateKeys:
    """Keys of the shared seen-store and near-duplicate index."""

    prefix: str

    @property
    def article_prefix(self) -> str:
        return f"{self.prefix}:s:a:"

    def article(self, fp8: bytes) -> str:
        return f"{self.article_prefix}{bucket(fp8)}"

    def body(self, fp8: bytes) -> str:
        return f"{self.prefix}:s:h:{bucket(fp8)}"

    def band(self, key: int) -> str:
        return f"{self.prefix}:s:b:{key}"

    def para(self, fp8: bytes) -> str:
        return f"{self.prefix}:s:p:{bucket(fp8)}"

    @property
    def seq(self) -> str:
        return f"{self.prefix}:s:seq"

    @property
    def count(self) -> str:
        return f"{self.prefix}:s:n"

    @property
    def claims(self) -> str:
        return f"{self.prefix}:s:claims"

    @property
    def wc_prefix(self) -> str:
        return f"{self.prefix}:s:wc:"

    def worker_claims(self, worker: str) -> str:
        return self.wc_prefix + worker


# ------------------------------------------------------------------------------------------ scheduler

#: Pop the best request and lease it to this worker in one step, so no crash can lose it in between.
#: KEYS: queue, inflight:W. Returns the serialized request or nil.
POP_LEASE = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('HSET', KEYS[2], r[1], r[2])
return r[1]
"""

#: Enqueue a request unless the shared dupefilter has seen it (one round trip instead of SADD + ZADD).
#: KEYS: dupefilter, queue. ARGV: fingerprint ('' = dont_filter), score, serialized request. Returns 1 if queued.
ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

#: Put every lease of a worker back in the queue. KEYS: inflight:W, queue. Returns how many.
REQUEUE = """
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do redis.call('ZADD', KEYS[2], all[i + 1], all[i]) end
redis.call('DEL', KEYS[1])
return #all / 2
"""

#: A worker joins a crawl. KEYS: hb:W, workers, queue, dupefilter.
#: ARGV: W, nonce, ttl ms, hb prefix, inflight prefix, "1" to start a fresh crawl when nothing is pending.
#: Returns -1 when another live process holds W, 1 when this starts a fresh crawl (dupefilter cleared), else 0.
BEGIN = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[2] then return -1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local fresh = redis.call('ZCARD', KEYS[3]) == 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local leases = redis.call('HLEN', ARGV[5] .. w)
  if leases > 0 or (w ~= ARGV[1] and redis.call('EXISTS', ARGV[4] .. w) == 1) then
    fresh = false
  elseif w ~= ARGV[1] then
    redis.call('SREM', KEYS[2], w)  -- left without leases (killed while idle): forget it
  end
end
redis.call('SADD', KEYS[2], ARGV[1])
if fresh and ARGV[6] == '1' then
  redis.call('DEL', KEYS[4])
  return 1
end
return 0
"""

#: Renew this worker's heartbeat unless another incarnation took the id, and stay in the worker set (a
#: reaper removes a worker whose heartbeat lapsed, e.g. while a long journal reconciliation blocked it at
#: start; without its entry nobody would reap its leases later). KEYS: hb:W, workers. ARGV: nonce, ttl ms, W.
HEARTBEAT = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""

#: Whether the crawl has work anywhere: queued requests or leases held by any worker, alive or dead.
#: KEYS: queue, workers. ARGV: inflight prefix.
PENDING = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 1 end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HLEN', ARGV[1] .. w) > 0 then return 1 end
end
return 0
"""

#: Reap a dead worker: requeue its leases. If it died holding claims (an export was in progress, so its
#: line may or may not be on its disk) wait ARGV[2] ms from when it was first seen dead, for it to come
#: back and settle them from its export journal; past that, release the claims and requeue.
#: KEYS: hb:W, inflight:W, queue, workers, dead:W, wc:W, claims. ARGV: W, orphan timeout ms.
#: Returns -1 (alive), -2 (waiting for its claims), else the number of requests requeued.
REAP = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('HLEN', KEYS[6]) > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local since = redis.call('GET', KEYS[5])
  if not since then
    redis.call('SET', KEYS[5], now)
    return -2
  end
  if now - tonumber(since) < tonumber(ARGV[2]) then return -2 end
  local mine = ARGV[1] .. '|'
  for _, f in ipairs(redis.call('HKEYS', KEYS[6])) do
    local v = redis.call('HGET', KEYS[7], f)
    if v and string.sub(v, 1, #mine) == mine then redis.call('HDEL', KEYS[7], f) end
  end
  redis.call('DEL', KEYS[6])
end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do redis.call('ZADD', KEYS[3], all[i + 1], all[i]) end
redis.call('DEL', KEYS[2], KEYS[5])
redis.call('SREM', KEYS[4], ARGV[1])
return #all / 2
"""

#: A restarted worker settles what its previous incarnation left: claims not recorded by the journal
#: reconciliation are released (that export never reached the disk), then its leases are requeued.
#: KEYS: wc:W, claims, inflight:W, queue, dead:W. ARGV: W, current nonce. Returns {claims released, requeued}.
RECOVER = """
local mine = ARGV[1] .. '|'
local current = mine .. ARGV[2]
local released = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  local v = redis.call('HGET', KEYS[2], f)
  if v and string.sub(v, 1, #mine) == mine and string.sub(v, 1, #current) ~= current then
    redis.call('HDEL', KEYS[2], f)
    released = released + 1
  end
  if not v or string.sub(v, 1, #current) ~= current then redis.call('HDEL', KEYS[1], f) end
end
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do redis.call('ZADD', KEYS[4], all[i + 1], all[i]) end
redis.call('DEL', KEYS[3], KEYS[5])
return {released, #all / 2}
"""

#: A worker leaves cleanly: its leases (requests cut off by the shutdown) go back to the queue, its
#: heartbeat is deleted if still its own. KEYS: inflight:W, queue, hb:W, workers. ARGV: W, nonce.
LEAVE = """
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do redis.call('ZADD', KEYS[2], all[i + 1], all[i]) end
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
redis.call('SREM', KEYS[4], ARGV[1])
return #all / 2
"""

# ---------------------------------------------------------------------------------------------- state

#: Record an exported article (all or nothing) and drop the claims on it.
#: KEYS: article bucket, body bucket, seq, count, claims.
#: ARGV: 1 url fp8, 2 packed record without its seq (newscrawl/distributed/record.py), 3 body fp8 or '', 4 url fp as a decimal integer, 5 worker-claims prefix,
#:       6 number of band keys NB, 7..6+NB band keys, 7+NB number of sketch entries NP, then NP pairs
#:       (paragraph bucket key, paragraph fp8). Returns 1 for a new article, 0 for an update.
RECORD = """
local fp, hfp, ufp, wc = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local old = redis.call('HGET', KEYS[1], fp)
local seq
if old then
  seq = string.sub(old, 1, 4)
else
  local n = redis.call('INCR', KEYS[3])
  redis.call('INCR', KEYS[4])
  seq = string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end
redis.call('HSET', KEYS[1], fp, seq .. ARGV[2])
if hfp ~= '' then redis.call('HSETNX', KEYS[2], hfp, fp) end
local nb = tonumber(ARGV[6])
if not old then
  for i = 1, nb do redis.call('SADD', ARGV[6 + i], ufp) end
  local np = tonumber(ARGV[7 + nb])
  for i = 0, np - 1 do
    local pk, pf = ARGV[8 + nb + 2 * i], ARGV[9 + nb + 2 * i]
    local cur = redis.call('HGET', pk, pf) or ''
    if #cur < 8 * 64 then redis.call('HSET', pk, pf, cur .. fp) end
  end
end
local function drop(field, match)
  local v = redis.call('HGET', KEYS[5], field)
  if v and (match == nil or string.sub(v, -#match) == match) then
    redis.call('HDEL', KEYS[5], field)
    redis.call('HDEL', wc .. string.match(v, '^([^|]*)|'), field)
  end
end
drop('u' .. fp, nil)
if hfp ~= '' then drop('h' .. hfp, '\\t' .. fp) end
if old then return 0 end
return 1
"""

#: Claim an article before exporting it, so two workers never both export it. Checks first, then writes.
#: KEYS: claims, wc:W, body bucket. ARGV: 1 owner W|nonce, 2 url fp8, 3 packed content_hash field or '',
#: 4 body fp8 or '', 5 source, 6 article-bucket key prefix (the bucket is computed here as in keys.bucket:
#: 18 bits), 7 packed source field. Packed records: newscrawl/distributed/record.py (source at byte 15,
#: content_hash right after it).
#: Returns 'ok', 'busy' (another worker is exporting it, or the same body of the same outlet) or
#: 'seen' (another worker recorded this very version since this worker's lookups).
CLAIM = """
local owner, fp, chf, hfp, src, aprefix, srcf = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local function record_of(f)
  local b1, b2, b3 = string.byte(f, 1, 3)
  return redis.call('HGET', aprefix .. (b1 * 1024 + b2 * 4 + math.floor(b3 / 64)), f)
end
local function field_end(rec, p)
  local tag = string.byte(rec, p)
  if tag == 0 then return p + 1 end
  if tag == 1 then return p + 2 + string.byte(rec, p + 1) end
  if tag == 2 then return p + 3 + string.byte(rec, p + 1) * 256 + string.byte(rec, p + 2) end
  if tag == 3 then return p + 21 end
  if tag == 4 then
    if string.byte(rec, p + 6) == 2 then return p + 9 end
    return p + 7
  end
  local a, b, c, d = string.byte(rec, p + 1, p + 4)
  return p + 5 + ((a * 256 + b) * 256 + c) * 256 + d
end
local uf = 'u' .. fp
local cur = redis.call('HGET', KEYS[1], uf)
if cur and cur ~= owner then return 'busy' end
if chf ~= '' then
  local rec = record_of(fp)
  if rec then
    local p = field_end(rec, 15)
    if string.sub(rec, p, p + #chf - 1) == chf then return 'seen' end
  end
end
local hf = nil
if hfp ~= '' then
  local hc = redis.call('HGET', KEYS[1], 'h' .. hfp)
  if hc then
    local o, s, u = string.match(hc, '^(.-)\\t(.-)\\t(.*)$')
    if o ~= owner and s == src and u ~= fp then return 'busy' end
  else
    local first = redis.call('HGET', KEYS[3], hfp)
    if first and first ~= fp then
      local other = record_of(first)
      if other and string.sub(other, 15, 14 + #srcf) == srcf then return 'busy' end
    end
    hf = 'h' .. hfp
  end
end
redis.call('HSET', KEYS[1], uf, owner)
redis.call('HSET', KEYS[2], uf, '1')
if hf then
  redis.call('HSET', KEYS[1], hf, owner .. '\\t' .. src .. '\\t' .. fp)
  redis.call('HSET', KEYS[2], hf, '1')
end
return 'ok'
"""

#: Release this worker's claims on an article that was not exported after all (dropped or failed).
#: KEYS: claims, wc:W. ARGV: owner, then the claim fields.
RELEASE = """
local owner = ARGV[1]
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v and string.sub(v, 1, #owner) == owner then redis.call('HDEL', KEYS[1], ARGV[i]) end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return 1
"""
