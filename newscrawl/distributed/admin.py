"""Operations on a distributed crawl's Redis keys: status, seeding and reset (behind the scrapy commands
``redis-status``, ``redis-seed`` and ``redis-reset``)."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from newscrawl.distributed.keys import CrawlKeys, StateKeys

logger = logging.getLogger(__name__)


@dataclass
class WorkerStatus:
    worker: str
    alive: bool
    leases: int
    claims: int


@dataclass
class CrawlStatus:
    spider: str
    queued: int
    seen_requests: int
    workers: list[WorkerStatus] = field(default_factory=list)
    articles: int = 0
    claims: int = 0
    used_memory: int = 0

    @property
    def pending(self) -> bool:
        return self.queued > 0 or any(w.leases for w in self.workers)

    @property
    def live_workers(self) -> list[str]:
        return [w.worker for w in self.workers if w.alive]


def status(redis: Any, prefix: str, spider: str) -> CrawlStatus:
    """What Redis holds for one crawl, and the shared seen-store's size."""
    k, sk = CrawlKeys(prefix, spider), StateKeys(prefix)
    st = CrawlStatus(spider, int(redis.zcard(k.queue)), int(redis.scard(k.dupefilter)))
    for raw in sorted(redis.smembers(k.workers)):
        w = raw.decode("utf-8", "replace")
        st.workers.append(WorkerStatus(w, bool(redis.exists(k.hb(w))), int(redis.hlen(k.inflight(w))),
                                       int(redis.hlen(sk.worker_claims(w)))))
    st.articles = int(redis.get(sk.count) or 0)
    st.claims = int(redis.hlen(sk.claims))
    st.used_memory = int(redis.info("memory").get("used_memory", 0))
    return st


def _delete_matching(redis: Any, pattern: str) -> int:
    n = 0
    batch: list[bytes] = []
    for key in redis.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            n += redis.delete(*batch)
            batch = []
    if batch:
        n += redis.delete(*batch)
    return n


def reset(redis: Any, prefix: str, spider: str, *, state: bool = False, force: bool = False) -> int:
    """Delete one crawl's queue, dupefilter, workers and leases (and with ``state`` the shared seen-store
    of every crawl). Refuses while a worker of this crawl is alive unless ``force``. -> keys deleted."""
    st = status(redis, prefix, spider)
    if st.live_workers and not force:
        raise RuntimeError(f"workers still running on {spider}: {', '.join(st.live_workers)} "
                           "(stop them first, or pass --force)")
    k = CrawlKeys(prefix, spider)
    n = int(redis.delete(k.queue, k.dupefilter, k.workers))
    n += _delete_matching(redis, f"{k.inflight_prefix}*") + _delete_matching(redis, f"{k.base}:dead:*")
    if state:
        n += _delete_matching(redis, f"{prefix}:s:*")
    return n


def start_new_crawl_if_idle(redis: Any, prefix: str, spider: str) -> bool:
    """Clear the dupefilter when nothing is pending and no worker is alive (the last crawl finished), so
    a new crawl fetches its sitemaps again. -> whether a new crawl was started."""
    st = status(redis, prefix, spider)
    if st.pending or st.live_workers:
        return False
    redis.delete(CrawlKeys(prefix, spider).dupefilter)
    return True


async def _start_requests(spider: Any) -> list[Any]:
    out = []
    async for obj in spider.start():
        out.append(obj)
    return out


def seed(redis: Any, prefix: str, spider: Any, fingerprinter: Any) -> tuple[int, int]:
    """Push a spider's start requests (sitemaps, feeds, section pages) into the shared queue through the
    shared dupefilter. -> (pushed, already seen)."""
    from scrapy import Request  # noqa: PLC0415
    from scrapy_redis.queue import PriorityQueue  # noqa: PLC0415

    from newscrawl.distributed.scheduler import RedisDupeFilter  # noqa: PLC0415

    k = CrawlKeys(prefix, spider.name)
    queue = PriorityQueue(redis, spider, k.queue)
    df = RedisDupeFilter(redis, key=k.dupefilter)
    df.fingerprinter = fingerprinter
    pushed = seen = 0
    for obj in asyncio.run(_start_requests(spider)):
        if not isinstance(obj, Request):
            logger.warning("Ignoring a start item that is not a request: %r", type(obj).__name__)
            continue
        if not obj.dont_filter and df.request_seen(obj):
            seen += 1
            continue
        queue.push(obj)
        pushed += 1
    return pushed, seen

