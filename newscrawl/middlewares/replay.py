"""Offline replay: answer every request from WARC archives, never the network.

Enable with ``NEWSCRAWL_REPLAY`` = a WARC path, several comma-separated paths,
or a directory of ``*.warc``/``*.warc.gz`` files, and add to settings::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.replay.ReplayMiddleware": 950}

Why 950: process_request runs in ascending order, so every built-in
middleware (robots 100, retry 550, httpcompression 590, redirect 600,
cookies 700, stats 850, httpcache 900) runs its process_request first and
its process_response on the replayed response afterwards, exactly as for a
downloaded one: a recorded 301 is followed by RedirectMiddleware, a gzip body
is decoded by HttpCompressionMiddleware, a recorded 503 is retried (and gets
the same 503).  Only middlewares numbered above 950 (e.g. the recorder at 960)
are skipped on the way down; they still see the response on the way up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from newscrawl.warc import WarcArchive

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

REPLAY_FLAG = "replay"


class ReplayMiddleware:
    """Downloader middleware serving responses from a :class:`WarcArchive`."""

    def __init__(self, crawler: Crawler, archive: WarcArchive) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.archive = archive
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        paths = crawler.settings.get("NEWSCRAWL_REPLAY")
        if not paths:
            raise NotConfigured  # no message: Scrapy would log a WARNING for an opt-in feature
        # A missing archive raises FileNotFoundError on purpose: falling back
        # to the network would silently turn an offline replay into a live crawl.
        archive = WarcArchive(paths)
        mw = cls(crawler, archive)
        logger.info(
            "Replay mode: %d URLs from %d WARC file(s) (%s); the network is not used",
            len(archive),
            len(archive.files),
            paths,
        )
        if mw.stats is not None:
            mw.stats.set_value("newscrawl/replay/urls", len(archive))
            if archive.problems:
                mw.stats.set_value("newscrawl/replay/bad_files", len(archive.problems))
        if not len(archive):
            logger.warning("Replay archive %s holds no response records: every request will 404", paths)
        return mw

    def process_request(self, request: Request) -> Response:
        """Return the archived response for ``request.url``, or a 404 when absent."""
        try:
            replayed = self.archive.get(request.url)
        except Exception as exc:  # corrupt record: a 404 beats a crashed crawl
            logger.warning("Replay: unreadable record for %s: %r", request.url, exc)
            self._inc("newscrawl/replay/errors")
            replayed = None
        if replayed is None:
            self._inc("newscrawl/replay/miss")
            # robots.txt lands here too: a 404 makes RobotsTxtMiddleware allow all.
            logger.info("Replay miss: %s is not in the archive, answering 404", request.url)
            return Response(
                url=request.url,
                status=404,
                body=b"",
                flags=[REPLAY_FLAG, "replay-miss"],
                request=request,
            )
        self._inc("newscrawl/replay/hit")
        headers = Headers(replayed.headers)
        # Same class choice as Scrapy's HTTP/1.1 download handler; the body may
        # still be gzip bytes, HttpCompressionMiddleware re-picks after decoding.
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=replayed.body)
        return respcls(
            url=request.url,
            status=replayed.status,
            headers=headers,
            body=replayed.body,
            flags=[REPLAY_FLAG],
            request=request,
            protocol="HTTP/1.1",
        )

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def spider_closed(self) -> None:
        """Release archive file handles."""
        self.archive.close()
