"""scrapy-redis scheduler with leases, heartbeats and a reaper: no request is lost when a worker dies.

scrapy-redis 0.9.1 pops a request from the shared queue and from then on only the popping process knows
it: kill that process and every request it had taken is gone (measured on a 2,000-page loopback site:
318 pages never crawled). Here:

- **lease**: a request is popped *into* ``P:S:inflight:W`` (one Lua step: ZRANGE + ZREM + HSET), and the
  lease is deleted only when Scrapy has finished the request: downloaded, called back, every item it
  produced exported (or dropped), every request it produced pushed to Redis. The hook is the engine's
  slot (``remove_request``), which Scrapy calls exactly then, for every outcome (response, redirect,
  download error, IgnoreRequest);
- **heartbeat**: every worker renews ``P:hb:W`` (its incarnation nonce, TTL ``NEWSCRAWL_REDIS_HEARTBEAT_TTL``);
- **reaper**: every live worker checks the crawl's worker set and requeues the leases of workers whose
  heartbeat expired. A dead worker that held claims (an export was in progress: its JSONL line may be on
  its disk or not) is left alone for ``NEWSCRAWL_REDIS_ORPHAN_TIMEOUT`` so that it can restart and settle
  them from its export journal; after that its claims are released and its leases requeued;
- **recovery**: a restarted worker (same id) waits for its old heartbeat to expire, reconciles its export
  journal (pipelines/dedup.py, on open), releases the claims that reconciliation did not settle and
  requeues its own old leases before it fetches anything;
- **persistence**: the queue and dupefilter are never deleted when a worker closes; a worker that closes
  early (shutdown) puts its leases back. A crawl that starts when nothing is pending (no queued requests,
  no leases, no live worker) is a fresh crawl: it clears the dupefilter, so sitemaps are fetched again.
  ``scrapy redis-reset SPIDER`` clears a crawl by hand.

The crawl ends for a worker only when the queue is empty and no worker holds a lease, so the first
worker to run dry does not quit while another is still parsing a sitemap that will refill the queue.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from newscrawl.distributed import INCARNATION, keys, prefix, worker_id
from newscrawl.distributed.keys import CrawlKeys, StateKeys

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

STAT = "newscrawl/redis/"


class RedisDupeFilter(RFPDupeFilter):
    """scrapy-redis' shared dupefilter with Scrapy's request fingerprinter and 8-byte entries.

    scrapy-redis hashes its own JSON of (method, canonical URL, body) into 40 hex characters, ignoring
    ``REQUEST_FINGERPRINTER_CLASS``; here the crawl's fingerprinter decides (the same one as embedded
    mode) and the set stores its first 8 bytes (about 40 bytes per request in Redis instead of ~90).
    ``close()`` deletes nothing: one worker closing must not clear the others' crawl.
    """

    fingerprinter: Any = None

    @classmethod
    def from_spider(cls, spider: Spider) -> RedisDupeFilter:
        df = super().from_spider(spider)
        crawler = getattr(spider, "crawler", None)
        df.fingerprinter = getattr(crawler, "request_fingerprinter", None)
        return df

    def request_fingerprint(self, request: Request) -> bytes:  # type: ignore[override]
        if self.fingerprinter is None:
            return bytes.fromhex(super().request_fingerprint(request))[:8]
        return self.fingerprinter.fingerprint(request)[:8]

    def close(self, reason: str = "") -> None:
        return None


class LeasedRedisScheduler(Scheduler):
    """scrapy-redis Scheduler + leases, heartbeat, reaper and recovery (see the module docstring)."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedRedisScheduler:
        s = crawler.settings
        if not s.getbool("SCHEDULER_PERSIST"):
            logger.warning("SCHEDULER_PERSIST=False ignored: a closing worker would delete the shared queue")
        instance = super().from_crawler(crawler)
        instance.persist = True
        instance.crawler = crawler
        instance.worker = worker_id(s)
        instance.nonce = INCARNATION
        instance.owner = f"{instance.worker}|{instance.nonce}"
        instance.prefix = prefix(s)
        instance.ttl = max(1.0, s.getfloat("NEWSCRAWL_REDIS_HEARTBEAT_TTL", 30.0))
        instance.orphan_timeout = max(0.0, s.getfloat("NEWSCRAWL_REDIS_ORPHAN_TIMEOUT", 300.0))
        instance.poll = max(0.05, s.getfloat("NEWSCRAWL_REDIS_POLL_INTERVAL", 1.0))
        instance.fresh_start = s.getbool("NEWSCRAWL_REDIS_FRESH_START", True)
        instance._init_state()
        crawler.signals.connect(instance._spider_opened, signal=signals.spider_opened)
        return instance

    def _init_state(self) -> None:
        self._leases: dict[Request, bytes] = {}
        self._loop: task.LoopingCall | None = None
        self._last_beat = 0.0
        self._last_reap = 0.0
        self._pending_cache: tuple[float, bool] = (0.0, True)
        self._joined = False
        self._scripts: dict[str, Any] = {}
        self._waiting_logged: set[str] = set()
        self._taken_over = False

    # ------------------------------------------------------------------ helpers
    def _script(self, name: str) -> Any:
        if name not in self._scripts:
            self._scripts[name] = self.server.register_script(getattr(keys, name))
        return self._scripts[name]

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None and n:
            self.stats.inc_value(STAT + key, n)

    # ------------------------------------------------------------------ open / close
    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.k = CrawlKeys(self.prefix, spider.name)
        self.sk = StateKeys(self.prefix)
        self._join()
        self._hook_engine()

    def _join(self) -> None:
        """Take this worker's heartbeat (waiting out a killed predecessor's) and join the crawl."""
        begin = self._script("BEGIN")
        deadline = time.monotonic() + self.ttl + 2
        waited = False
        while True:
            result = begin(keys=[self.k.hb(self.worker), self.k.workers, self.k.queue, self.k.dupefilter],
                           args=[self.worker, self.nonce, int(self.ttl * 1000), self.k.hb_prefix,
                                 self.k.inflight_prefix, "1" if self.fresh_start else "0"])
            if result != -1:
                break
            if time.monotonic() > deadline:
                logger.error("Worker id %s is held by another live process; set NEWSCRAWL_REDIS_WORKER to a "
                             "distinct id for each worker", self.worker)
                raise CloseSpider("redis_worker_id_in_use")
            if not waited:
                logger.info("Worker id %s still has a heartbeat (a previous run that was killed?): waiting up "
                            "to %.0f s for it to expire", self.worker, self.ttl)
                waited = True
            time.sleep(min(0.25, self.ttl / 4))
        self._joined = True
        self._last_beat = time.monotonic()
        if result == 1:
            self._inc("fresh_crawl")
            logger.info("Fresh distributed crawl of %s: nothing pending, dupefilter cleared", self.spider.name)
        else:
            logger.info("Joined distributed crawl of %s (%d requests queued)", self.spider.name, len(self.queue))

    def _hook_engine(self) -> None:
        """Ack a lease when the engine removes its request from the slot (the request is finished)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        remove = getattr(slot, "remove_request", None)
        if remove is None:
            raise RuntimeError("newscrawl.distributed: this Scrapy's engine has no slot.remove_request; "
                               "leases could never be released (supported: Scrapy 2.19)")

        def remove_request(request: Request) -> None:
            try:
                remove(request)
            finally:
                self._ack(request)

        slot.remove_request = remove_request  # type: ignore[union-attr]

    def _spider_opened(self, spider: Spider | None = None) -> None:
        # Runs after the item pipelines opened, i.e. after the export journal was reconciled into the
        # state: only now may this worker's previous incarnation's unsettled claims be released.
        released, requeued = self._script("RECOVER")(
            keys=[self.sk.worker_claims(self.worker), self.sk.claims, self.k.inflight(self.worker), self.k.queue,
                  self.k.dead(self.worker)], args=[self.worker, self.nonce])
        if released or requeued:
            self._inc("recovered/claims_released", int(released))
            self._inc("recovered/requeued", int(requeued))
            logger.warning("Recovered from a previous run of worker %s: %d unsettled claims released, %d "
                           "unfinished requests requeued", self.worker, released, requeued)
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.poll, now=False).addErrback(
            lambda f: logger.error("Redis heartbeat loop stopped: %s", f.getErrorMessage()))

    def close(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if not self._joined:
            return
        try:
            back = self._script("LEAVE")(keys=[self.k.inflight(self.worker), self.k.queue, self.k.hb(self.worker),
                                                self.k.workers], args=[self.worker, self.nonce])
        except Exception as exc:  # noqa: BLE001 - Redis gone at shutdown: the reaper requeues later
            logger.error("Could not leave the distributed crawl cleanly (%r): the reaper will requeue this "
                         "worker's leases once its heartbeat expires", exc)
            return
        if back:
            self._inc("requeued_at_close", int(back))
            logger.info("Put %d unfinished requests back in the shared queue", back)
        logger.info("Left distributed crawl of %s (%s); shared queue and dupefilter kept (%d requests queued)",
                    self.spider.name, reason, len(self.queue))

    # ------------------------------------------------------------------ queue
    def enqueue_request(self, request: Request) -> bool:
        fp = b"" if request.dont_filter else self.df.request_fingerprint(request)
        queued = self._script("ENQUEUE")(keys=[self.k.dupefilter, self.k.queue],
                                         args=[fp, -request.priority, self.queue._encode_request(request)])
        if not queued:
            self.df.log(request, self.spider)
            return False
        self._inc("enqueued")
        if self.stats is not None:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        data = self._script("POP_LEASE")(keys=[self.k.queue, self.k.inflight(self.worker)])
        if data is None:
            return None
        try:
            request = self.queue._decode_request(data)
        except Exception as exc:  # noqa: BLE001 - a request this code cannot read: drop it, loudly
            self.server.hdel(self.k.inflight(self.worker), data)
            self._inc("undecodable")
            logger.error("Dropped a queued request that cannot be decoded (%r)", exc)
            return None
        self._leases[request] = data
        if self.stats is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _ack(self, request: Request) -> None:
        data = self._leases.pop(request, None)
        if data is None:
            return  # not ours (robots.txt is downloaded outside the scheduler)
        try:
            self.server.hdel(self.k.inflight(self.worker), data)
        except Exception as exc:  # noqa: BLE001 - the lease stays: the request is fetched again, dedup drops it
            logger.warning("Could not release lease of %s (%r)", request.url, exc)
            self._inc("ack_errors")

    def has_pending_requests(self) -> bool:
        """Pending anywhere in the crawl: queued, or leased by any worker (whose output may refill the queue)."""
        now = time.monotonic()
        at, pending = self._pending_cache
        if now - at < min(0.5, self.poll):
            return pending
        pending = bool(self._script("PENDING")(keys=[self.k.queue, self.k.workers], args=[self.k.inflight_prefix]))
        self._pending_cache = (now, pending)
        return pending

    # ------------------------------------------------------------------ heartbeat + reaper
    def _tick(self) -> None:
        try:
            now = time.monotonic()
            if now - self._last_beat >= self.ttl / 3:
                self._beat()
                self._last_beat = now
            if now - self._last_reap >= min(self.ttl / 2, 5.0):
                self._reap()
                self._last_reap = now
            self._nudge()
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup must not stop the loop
            self._inc("tick_errors")
            logger.warning("Redis heartbeat/reaper tick failed: %r", exc)

    def _beat(self) -> None:
        ok = self._script("HEARTBEAT")(keys=[self.k.hb(self.worker), self.k.workers],
                                       args=[self.nonce, int(self.ttl * 1000), self.worker])
        if not ok and not self._taken_over:
            # This process stalled past the TTL and a restarted worker took the id over: stop fetching.
            self._taken_over = True
            logger.error("Worker id %s was taken over by another process; closing this one", self.worker)
            self._inc("heartbeat_lost")
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="redis_worker_id_taken"))

    def _reap(self) -> None:
        reap = self._script("REAP")
        for raw in self.server.smembers(self.k.workers):
            worker = raw.decode("utf-8", "replace")
            if worker == self.worker:
                continue
            n = reap(keys=[self.k.hb(worker), self.k.inflight(worker), self.k.queue, self.k.workers,
                           self.k.dead(worker), self.sk.worker_claims(worker), self.sk.claims],
                     args=[worker, int(self.orphan_timeout * 1000)])
            if n == -2 and worker not in self._waiting_logged:
                self._waiting_logged.add(worker)
                self._inc("reaper/waiting_on_claims")
                logger.warning("Worker %s is dead holding claims (an export was in progress): waiting up to %.0f s "
                               "for it to restart and settle them before requeueing its requests", worker,
                               self.orphan_timeout)
            elif n >= 0:
                self._inc("reaper/workers")
                self._inc("reaper/requeued", int(n))
                logger.warning("Worker %s is dead (heartbeat expired): requeued its %d unfinished requests",
                               worker, n)
                self._pending_cache = (0.0, True)

    def _nudge(self) -> None:
        """Wake the engine every tick (its own idle poll runs every 5 s): to take requests another worker
        just queued, or to close soon after the last lease anywhere was released."""
        self._pending_cache = (0.0, True)
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and hasattr(slot, "nextcall"):
            slot.nextcall.schedule()
