"""Download limits made visible: a stat and a WARNING when a response hits a time or size bound.

What Scrapy 2.19 already bounds (verified by tests/test_hostile.py):

- ``DOWNLOAD_TIMEOUT`` (30 s in newscrawl's settings, 180 s by default) is a *total* time limit: the
  handler cancels the whole download, body included, so a server that trickles one byte every 0.2 s
  is cut at the limit like a silent one (DownloadTimeoutError, retried RETRY_TIMES times);
- ``DOWNLOAD_MAXSIZE`` (8 MiB; 1 GiB by default) cuts an endless body as soon as it is passed
  (DownloadCancelledError, not retried).

Scrapy only logs these per attempt, or at the end as "Gave up retrying"; this middleware counts every
hit as ``newscrawl/limits/timeout`` and ``newscrawl/limits/too_large``.

It also bounds what reaches extraction: an HTML page larger than ``NEWSCRAWL_LIMITS_HTML_MAX_BYTES``
(default 4 MiB, twice the largest real article page measured, 2.1 MB) is dropped with
``newscrawl/limits/html_too_large``. Extraction runs in the reactor thread and its time grows with the
text: a dense 0.85 MB page took 5 s, during which no other download progresses. 0 disables the bound.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.limits.DownloadLimitsMiddleware": 589}

Why 589: process_response runs in descending order, so the size seen is the decompressed one (590);
process_exception runs in descending order too, so every failed attempt is counted before
RetryMiddleware (550) turns it into a retry.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/limits/"


class DownloadLimitsMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.html_max = settings.getint("NEWSCRAWL_LIMITS_HTML_MAX_BYTES", 4 * 1024 * 1024)
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Count a download cut by DOWNLOAD_TIMEOUT or DOWNLOAD_MAXSIZE; let retry/errbacks go on."""
        if isinstance(exception, DownloadTimeoutError):
            self.stats.inc_value(STAT + "timeout")
            logger.warning("Download of %s took longer than %g s in total (DOWNLOAD_TIMEOUT): a stalled or "
                           "trickling server", request.url[:300], request.meta.get("download_timeout", self.timeout))
        elif isinstance(exception, DownloadCancelledError):
            # the only cancellation Scrapy's HTTP/1.1 handler makes itself: the body passed DOWNLOAD_MAXSIZE
            self.stats.inc_value(STAT + "too_large")
            logger.warning("Download of %s cut: body larger than DOWNLOAD_MAXSIZE=%d bytes", request.url[:300],
                           request.meta.get("download_maxsize", self.maxsize))
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        """Drop an HTML page too large to extract without stalling the crawl."""
        if self.html_max and isinstance(response, HtmlResponse) and len(response.body) > self.html_max:
            self.stats.inc_value(STAT + "html_too_large")
            logger.warning("Dropped %s: HTML of %d bytes is over NEWSCRAWL_LIMITS_HTML_MAX_BYTES=%d",
                           response.url[:300], len(response.body), self.html_max)
            raise IgnoreRequest(f"HTML page of {len(response.body)} bytes over {self.html_max}")
        return response
