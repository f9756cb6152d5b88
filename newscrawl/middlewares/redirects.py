"""Make redirect loops and over-long redirect chains loud: a stat and a WARNING instead of silence.

Plain Scrapy stops both, but quietly: a loop ``/a -> /b -> /a`` ends when the dupefilter drops the
second ``/a`` (one DEBUG line for the whole run), and a chain longer than ``REDIRECT_MAX_TIMES`` is
"Discarding ...: max redirections reached" at DEBUG. An outlet whose CDN starts looping (consent wall,
geo redirect, http <-> https flip-flop) would lose every article with nothing in the stats.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.redirects.RedirectGuardMiddleware": 610}

Why 610: process_response runs in descending order, so the guard sees the 3xx just before Scrapy's
RedirectMiddleware (600) turns it into a new request. It never follows anything itself.

Stats: ``newscrawl/redirect/loop`` (the target is already in the chain), ``newscrawl/redirect/too_many``
(``REDIRECT_MAX_TIMES`` hops already made). The request is dropped with :class:`RedirectTrapped`.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import safe_url_string

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
STAT = "newscrawl/redirect/"


class RedirectTrapped(IgnoreRequest):
    """A request given up because its redirects loop or never end."""


def redirect_target(request: Request, response: Response) -> str | None:
    """The absolute URL a 3xx points to (fragment dropped), resolved the way RedirectMiddleware does."""
    raw = response.headers.get(b"Location")
    if not raw:
        return None
    location = safe_url_string(raw)
    if raw.startswith(b"//"):
        location = f"{urlparse_cached(request).scheme}://{location.lstrip('/')}"
    return urldefrag(urljoin(request.url, location))[0]


class RedirectGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_times = crawler.settings.getint("REDIRECT_MAX_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("REDIRECT_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _handled_by_spider(self, request: Request, response: Response) -> bool:
        meta = request.meta
        return bool(meta.get("dont_redirect") or meta.get("handle_httpstatus_all")
                    or response.status in meta.get("handle_httpstatus_list", ())
                    or response.status in getattr(self.crawler.spider, "handle_httpstatus_list", ()))

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass the 3xx on to RedirectMiddleware, or raise RedirectTrapped for a loop / endless chain."""
        if response.status not in REDIRECT_STATUSES or self._handled_by_spider(request, response):
            return response
        target = redirect_target(request, response)
        if target is None:
            return response
        chain = [urldefrag(u)[0] for u in (*request.meta.get("redirect_urls", []), request.url)]
        if target in chain:
            self._trap("loop", request, f"redirect loop back to {target} after {len(chain)} URL(s)")
        hops = int(request.meta.get("redirect_times", 0))
        if hops >= self.max_times:
            self._trap("too_many", request,
                       f"{hops} redirects already (REDIRECT_MAX_TIMES={self.max_times}), next {target}")
        return response

    def _trap(self, event: str, request: Request, detail: str) -> None:
        self.stats.inc_value(STAT + event)
        first = (request.meta.get("redirect_urls") or [request.url])[0]
        logger.warning("Giving up %s: %s", first[:300], detail)
        raise RedirectTrapped(detail)
