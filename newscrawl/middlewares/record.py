"""Record every downloaded response into a WARC file for later offline replay.

Enable with ``NEWSCRAWL_RECORD`` = output path (``%(name)s`` = spider name and
``%(time)s`` = UTC start time are expanded, as in FEEDS), and add::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.record.RecordMiddleware": 960}

Why 960: process_response runs in DESCENDING order, so at 960 (above every
built-in, the highest being httpcache at 900, and above replay at 950) the
recorder is the first to see the response as the download handler produced
it: body still gzip'ed (HttpCompressionMiddleware is at 590), a 301 still a
301 (RedirectMiddleware at 600 has not turned it into a new request), every
failed attempt of a retried 503 still there.  That matches newscrawl.warc,
which stores wire bodies and leaves decoding to Scrapy at replay time.

Responses served by HttpCacheMiddleware (flag "cached") are recorded too, so
the archive alone can replay the crawl; replayed ones (flag "replay") are not.
A file ending in ``.warc`` is written uncompressed, anything else gzip'ed, and
an existing file is appended to (replay picks the last record per URL).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from newscrawl.middlewares.replay import REPLAY_FLAG
from newscrawl.warc import WarcEntry, WarcRecorder

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


def expand_record_path(template: str, spider_name: str, now: datetime | None = None) -> str:
    """Expand ``%(name)s`` and ``%(time)s`` the way FEEDS does.

    ``%(time)s`` uses dashes for colons ("2024-05-01T10-20-30+00-00") so the
    name is valid on every file system.
    """
    now = now or datetime.now(tz=timezone.utc)
    params = {"name": spider_name, "time": now.replace(microsecond=0).isoformat().replace(":", "-")}
    return template % params


def _to_str(value: bytes) -> str:
    # Raw header bytes are usually ASCII/UTF-8; a stray latin-1 byte
    # (b"caf\xe9") must not crash the recorder.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class RecordMiddleware:
    """Downloader middleware appending responses to a WARC file."""

    def __init__(self, crawler: Crawler, template: str) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.template = template
        self.recorder: WarcRecorder | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        template = crawler.settings.get("NEWSCRAWL_RECORD")
        if not template:
            raise NotConfigured  # no message: Scrapy would log a WARNING for an opt-in feature
        return cls(crawler, str(template))

    def spider_opened(self, spider: Spider) -> None:
        """Open the output file once the spider name is known."""
        try:
            path = expand_record_path(self.template, spider.name)
            self.recorder = WarcRecorder(path)
        except (KeyError, ValueError, TypeError, OSError) as exc:
            # e.g. "%(date)s" (unknown placeholder) or a read-only directory:
            # the crawl still runs, loudly without an archive.
            logger.error("NEWSCRAWL_RECORD=%r unusable, not recording: %r", self.template, exc)
            self._inc("newscrawl/record/errors")
            return
        logger.info("Recording responses to %s", self.recorder.path)

    def process_response(self, request: Request, response: Response) -> Response:
        """Append ``response`` to the WARC file (replayed responses are skipped)."""
        if self.recorder is None or REPLAY_FLAG in response.flags:
            return response
        headers = [
            (_to_str(k), _to_str(v)) for k, values in response.headers.items() for v in values
        ]
        # Twisted's HTTP client hides Content-Length/Transfer-Encoding from
        # Scrapy; restore a Content-Length matching the stored body so the
        # record is a self-consistent HTTP message for other WARC tools.
        if request.method != "HEAD" and not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(response.body))))
        extra: dict[str, str] = {}
        if response.ip_address is not None:
            extra["WARC-IP-Address"] = str(response.ip_address)
        if "dataloss" in response.flags:
            extra["WARC-Truncated"] = "disconnect"  # DOWNLOAD_FAIL_ON_DATALOSS=False kept a partial body
        entry = WarcEntry(
            url=response.url,
            status=response.status,
            headers=headers,
            body=response.body,
            fetched_at=datetime.now(tz=timezone.utc),
            warc_headers=extra,
        )
        try:
            self.recorder.write(entry)
        except OSError as exc:  # disk full: keep crawling, say so
            logger.error("Could not record %s to %s: %r", response.url, self.recorder.path, exc)
            self._inc("newscrawl/record/errors")
            return response
        self._inc("newscrawl/record/records")
        return response

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def spider_closed(self) -> None:
        """Close the WARC file."""
        if self.recorder is not None:
            logger.info("Recorded %d responses to %s", self.recorder.count, self.recorder.path)
            self.recorder.close()
            self.recorder = None
