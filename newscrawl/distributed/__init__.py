"""Distributed crawling: N workers share one Redis (queue, dupefilter, seen-store, near-duplicate index).

Switched on by one setting, ``NEWSCRAWL_REDIS_URL`` (``-s`` or the environment), through
:class:`RedisAddon`; without it every crawl stays embedded (SQLite), exactly as before. The engine is
scrapy-redis 0.9.1 (its Redis connection, priority queue and dupefilter), with the two gaps it leaves
closed here (docs/distributed.md):

- a worker killed with requests in flight loses them: scrapy-redis pops a request and forgets it.
  :mod:`newscrawl.distributed.scheduler` leases every popped request to the worker (one Lua step) until
  Scrapy finished it (items exported), and a reaper requeues the leases of workers whose heartbeat expired;
- with ``SCHEDULER_PERSIST = False`` (scrapy-redis' default) the first worker to close deletes the shared
  queue and dupefilter under the others. Persistence is always on here; ``scrapy redis-reset`` clears a crawl.

The seen-store and near-duplicate index get a Redis backend (:mod:`newscrawl.distributed.state`) with the
interface of :class:`newscrawl.state.StateStore`; :func:`newscrawl.state.open_state` picks it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: This process's incarnation: the scheduler's heartbeat and the state store's claims carry it, so a
#: restarted worker (same id) tells its own stale claims from the ones it makes now.
INCARNATION = uuid.uuid4().hex[:12]

SCHEDULER = "newscrawl.distributed.scheduler.LeasedRedisScheduler"
DUPEFILTER = "newscrawl.distributed.scheduler.RedisDupeFilter"
_WORKER_OK = re.compile(r"^[A-Za-z0-9_.:@-]{1,100}$")


def redis_url(settings: Any) -> str:
    """``NEWSCRAWL_REDIS_URL`` from the settings, else from the environment; "" = embedded mode."""
    value = settings.get("NEWSCRAWL_REDIS_URL") if settings is not None else None
    return str(value or os.environ.get("NEWSCRAWL_REDIS_URL", "") or "").strip()


def local_only(settings: Any) -> bool:
    """Batch extraction (``scrapy extract``: NEWSCRAWL_DEDUP_MODE = "mark") and WARC replays (``scrapy demo``)
    are local work on local input: they must neither take requests from, nor record articles in, a shared
    crawl's Redis, even with NEWSCRAWL_REDIS_URL in the environment."""
    return settings is not None and (settings.get("NEWSCRAWL_DEDUP_MODE", "crawl") == "mark"
                                     or bool(settings.get("NEWSCRAWL_REPLAY")))


def crawl_redis_url(settings: Any) -> str:
    """The Redis URL this crawl uses: ``redis_url`` unless the crawl is local-only; "" = embedded mode."""
    return "" if local_only(settings) else redis_url(settings)


def prefix(settings: Any) -> str:
    return str(settings.get("NEWSCRAWL_REDIS_PREFIX") or "newscrawl")


def worker_id(settings: Any) -> str:
    """This worker's id: ``NEWSCRAWL_REDIS_WORKER``, else host name + a hash of the local state path.

    The id must stay the same across restarts of one worker and differ between workers: a restarted
    worker settles what its previous incarnation left from its own export journal, which lives beside
    its local state file. Two workers on one machine therefore need distinct ``NEWSCRAWL_STATE_PATH``s
    (or explicit ids), e.g. ``host-a-1`` and ``host-a-2``.
    """
    explicit = str(settings.get("NEWSCRAWL_REDIS_WORKER") or "").strip()
    if explicit:
        if not _WORKER_OK.match(explicit):
            raise ValueError(f"NEWSCRAWL_REDIS_WORKER={explicit!r}: use letters, digits and _.:@- only")
        return explicit
    state = str(Path(settings.get("NEWSCRAWL_STATE_PATH") or ".newscrawl/state.sqlite3").absolute())
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:60] or "host"
    return f"{host}-{hashlib.sha1(state.encode('utf-8')).hexdigest()[:6]}"


def client(url: str) -> Any:
    """A redis-py client (bytes in, bytes out) with the timeouts scrapy-redis uses."""
    import redis  # noqa: PLC0415 - embedded mode must not need the package

    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=30, retry_on_timeout=True)


class RedisAddon:
    """Turn a crawl distributed when ``NEWSCRAWL_REDIS_URL`` is set; do nothing otherwise.

    Enable with ``ADDONS = {"newscrawl.distributed.RedisAddon": 10}``. It sets SCHEDULER (leased
    scrapy-redis scheduler), DUPEFILTER_CLASS (Redis, replacing the JOBDIR-safe ResumableDupeFilter, which
    only matters for a local disk queue), SCHEDULER_PERSIST = True, REDIS_URL and the queue keys. The
    pipelines find the Redis state backend through :func:`newscrawl.state.open_state`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisAddon:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        url = crawl_redis_url(settings)
        if not url:
            if redis_url(settings):
                logger.info("NEWSCRAWL_REDIS_URL ignored: batch extraction and WARC replay stay embedded")
            return
        p = prefix(settings)
        # Project settings (priority 20) set DUPEFILTER_CLASS; command-line -s (40) still wins over this.
        wanted = {
            "NEWSCRAWL_REDIS_URL": url,
            "SCHEDULER": SCHEDULER,
            "DUPEFILTER_CLASS": DUPEFILTER,
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": url,
            "SCHEDULER_QUEUE_KEY": f"{p}:%(spider)s:requests",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_DUPEFILTER_KEY": f"{p}:%(spider)s:dupefilter",
        }
        for name, value in wanted.items():
            current = settings.getpriority(name) or 0
            if current <= 20 or name in ("SCHEDULER_PERSIST", "NEWSCRAWL_REDIS_URL"):
                settings.set(name, value, priority=max(current, 20))
            else:
                logger.warning("Distributed mode: keeping %s=%r given on the command line", name, settings.get(name))
        if settings.get("JOBDIR"):
            logger.warning("Distributed mode: JOBDIR is not used for the request queue (it lives in Redis)")
        worker = worker_id(settings)
        check(url)
        logger.info("Distributed crawl: Redis %s, worker %s", masked(url), worker)


def masked(url: str) -> str:
    """The URL without its password (redis://user:pass@host -> redis://***@host), for logs."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def command_redis_url(settings: Any, args: list[str]) -> str:
    """For the ``redis-*`` commands: exactly one spider name, a configured and reachable Redis; -> its URL.
    Raises scrapy's UsageError with one clear line otherwise."""
    from scrapy.exceptions import UsageError  # noqa: PLC0415

    if len(args) != 1:
        raise UsageError("give one spider name")
    url = redis_url(settings)
    if not url:
        raise UsageError("NEWSCRAWL_REDIS_URL is not set (environment or -s)")
    try:
        check(url)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    return url


def check(url: str) -> None:
    """Refuse to start a distributed crawl without its Redis: one clear line instead of a traceback deep
    in the engine (a wrong host or port otherwise surfaces as 'Engine slot not assigned')."""
    import redis  # noqa: PLC0415

    try:
        redis.Redis.from_url(url, socket_connect_timeout=10, socket_timeout=10).ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        logger.error("NEWSCRAWL_REDIS_URL: cannot use Redis at %s: %s", masked(url), exc)
        raise RuntimeError(f"NEWSCRAWL_REDIS_URL: cannot use Redis at {masked(url)}: {exc}") from None
