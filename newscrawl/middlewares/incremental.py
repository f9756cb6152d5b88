"""Spider middleware: skip article requests whose article is already exported and unchanged.

Enable with::

    SPIDER_MIDDLEWARES = {"newscrawl.middlewares.incremental.IncrementalMiddleware": 950}

At 950 it is the first to see the spider's output (process_spider_output runs in decreasing order),
so a skipped request is never scheduled, fetched or counted by later middlewares.

Only article requests (those carrying the discovery hint ``meta["newscrawl_hint"]``) are filtered;
sitemaps, feeds and section pages are always fetched. See :func:`newscrawl.incremental.decide` for the
rule, ``docs/incremental.md`` for the whole picture. Settings:

- ``NEWSCRAWL_INCREMENTAL_ENABLED`` (default True): False fetches every discovered article again
  (a full re-crawl); dedup still drops the unchanged ones.
- ``NEWSCRAWL_RECHECK_INTERVAL`` (default "6h"), ``NEWSCRAWL_RECHECK_MAX_AGE`` (default "2d"): re-fetch
  articles published less than MAX_AGE ago once every INTERVAL, lastmod or not.

A spider may set ``trust_lastmod = False`` when its listing stamps every entry with the generation
time (lastmod always "now"), which would otherwise re-fetch everything on every run.

Stats: ``newscrawl/seen/skipped``, ``newscrawl/seen/refetched`` (+ ``/lastmod``, ``/recheck``),
``newscrawl/seen/new``, ``newscrawl/seen/unchanged`` (re-fetched, dropped as already exported),
``newscrawl/seen/revised`` (re-fetched and exported as a new revision).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from newscrawl.incremental import Known, SeenIndex, decide, now_utc, parse_duration

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

HINT_META = "newscrawl_hint"   # set by NewsSpider on article requests
DECISION_META = "newscrawl_seen"
STAT = "newscrawl/seen/"


def _meta(response: Response) -> dict[str, Any]:
    # Response.meta raises AttributeError on a response built without a request (tests, replays)
    return response.meta if response.request is not None else {}


class IncrementalMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        s = crawler.settings
        self.stats = crawler.stats
        try:
            self.interval = parse_duration(s.get("NEWSCRAWL_RECHECK_INTERVAL", "6h"))
            self.max_age = parse_duration(s.get("NEWSCRAWL_RECHECK_MAX_AGE", "2d"))
        except ValueError as exc:
            # a typo must not silently turn incremental crawling off (or on): refuse to start
            raise ValueError(f"IncrementalMiddleware: {exc}") from None
        self.path = s.get("NEWSCRAWL_STATE_PATH", ".newscrawl/state.sqlite3")
        self.index: SeenIndex | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWSCRAWL_INCREMENTAL_ENABLED", True):
            raise NotConfigured
        if crawler.settings.get("NEWSCRAWL_DEDUP_MODE", "crawl") == "mark":
            raise NotConfigured  # batch extraction: no persistent state, nothing to skip
        return cls(crawler)

    def spider_opened(self, spider: Any = None) -> None:
        self.index = SeenIndex(self.path)
        logger.info("Incremental crawl: state %s, re-check articles under %s old every %s",
                    self.path, self.max_age, self.interval)

    def spider_closed(self, spider: Any = None) -> None:
        if self.index is not None:
            self.index.close()
        self.index = None

    def _inc(self, key: str) -> None:
        self.stats.inc_value(STAT + key)

    # ------------------------------------------------------------------ before fetching
    def _known(self, url: str) -> Known | None:
        # one lookup: the same row also answers for articles exported by a run without this middleware
        assert self.index is not None
        return self.index.get(url)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        hint = request.meta.get(HINT_META)
        if hint is None or self.index is None:
            return request
        try:
            known = self._known(request.url)
        except Exception as exc:  # noqa: BLE001 - a broken state file must not stop the crawl: fetch
            logger.warning("Seen-store lookup failed for %s (%r): fetching it", request.url, exc)
            self._inc("errors")
            return request
        spider = self.crawler.spider
        verdict = decide(known, lastmod=hint.get("lastmod"), published=hint.get("published"), now=now_utc(),
                         interval=self.interval, max_age=self.max_age,
                         trust_lastmod=getattr(spider, "trust_lastmod", True))
        if verdict == "skip":
            self._inc("skipped")
            logger.debug("Already exported, unchanged per listing: %s", request.url)
            return None
        if verdict == "new":
            self._inc("new")
        else:
            self._inc("refetched")
            self._inc(f"refetched/{verdict}")
        request.meta[DECISION_META] = verdict
        return request

    # ------------------------------------------------------------------ after exporting
    def _mark(self, item: Any, response: Response | None) -> None:
        if self.index is None or response is None:
            return
        request = response.request
        meta = _meta(response)
        hint = meta.get(HINT_META) or {}
        a = ItemAdapter(item)
        urls = [*meta.get("redirect_urls", []), response.url]
        if request is not None:
            urls.insert(0, request.url)
        try:
            self.index.mark(urls, article_url=a.get("canonical_url") or a.get("url"),
                            source=a.get("source") or getattr(self.crawler.spider, "name", None),
                            lastmod=hint.get("lastmod"), published=a.get("published_at") or hint.get("published"),
                            now=now_utc())
        except Exception as exc:  # noqa: BLE001 - worst case the article is re-fetched next run
            logger.warning("Could not record check of %s: %r", response.url, exc)
            self._inc("errors")

    def item_scraped(self, item: Any, response: Response | None = None, spider: Any = None) -> None:
        self._mark(item, response)
        if (ItemAdapter(item).get("revision") or 1) > 1:
            self._inc("revised")

    def item_dropped(self, item: Any, response: Response | None = None, exception: BaseException | None = None,
                     spider: Any = None) -> None:
        # "duplicate: seen_url" (same body as exported) or another duplicate: the store is current.
        if not str(exception or "").startswith("duplicate"):
            return
        if response is not None and _meta(response).get(DECISION_META) in ("lastmod", "recheck"):
            self._inc("unchanged")
        self._mark(item, response)
