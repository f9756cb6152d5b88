"""Honour the pace a server asks for, per origin: Retry-After on 429/503, and robots.txt Crawl-delay.

Plain Scrapy ignores both: a ``429 Too Many Requests`` with ``Retry-After: 30`` is retried at once
(twice, by RetryMiddleware), and ``Crawl-delay: 5`` in robots.txt is parsed by Protego but never used.

- **Retry-After** (seconds or an HTTP date) on a 429 or 503: the origin (scheme://host:port) is paused
  for that long, then RetryMiddleware's retry (and every other request to it) goes through. A wait
  longer than ``NEWSCRAWL_PACING_RETRY_AFTER_MAX`` (default 120 s; a Retry-After of a day must not
  stall a scheduled crawl) is capped: the origin pauses for the cap only and this request is given up
  (IgnoreRequest; stat ``newscrawl/pacing/retry_after_too_long``); the next run fetches it.
- **Crawl-delay** (and Protego's ``Request-rate``) for our user agent: consecutive requests to the
  origin start at least that many seconds apart, capped at ``NEWSCRAWL_PACING_CRAWL_DELAY_MAX``
  (default 30 s; stat ``newscrawl/pacing/crawl_delay_capped``). This is a floor on top of
  DOWNLOAD_DELAY and AutoThrottle, which keep working per slot.

Only the origin that asked is slowed: other hosts keep their pace (but a paused request holds one of
the CONCURRENT_REQUESTS places while it waits, as a delayed request in a Scrapy slot does).
Disabled in replay mode (``NEWSCRAWL_REPLAY``): there is no server to be polite to.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.pacing.HostPacingMiddleware": 560}

Why 560: process_response runs in descending order, so the 429/503 is seen before RetryMiddleware
(550) schedules its retry; process_request runs after robots.txt (100), so a disallowed URL never waits.

Stats: ``newscrawl/pacing/retry_after`` (pauses honoured), ``newscrawl/pacing/retry_after_too_long``,
``newscrawl/pacing/crawl_delay`` (origins with a delay), ``newscrawl/pacing/crawl_delay_capped``,
``newscrawl/pacing/waits`` (requests held back) and ``newscrawl/pacing/wait_seconds`` (total).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/pacing/"
RETRY_AFTER_STATUSES = frozenset({429, 503})


def parse_retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value ("120" or "Wed, 21 Oct 2015 07:28:00 GMT"), or None.

    A date in the past means 0; garbage (``Retry-After: soon``) means None: no pause asked.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # HTTP dates are GMT
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def origin_of(request: Request) -> str:
    """scheme://host:port, the unit robots.txt and Retry-After apply to."""
    parsed = urlparse_cached(request)
    return f"{parsed.scheme}://{parsed.netloc}".lower()


class HostPacingMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.retry_after_max = settings.getfloat("NEWSCRAWL_PACING_RETRY_AFTER_MAX", 120.0)
        self.crawl_delay_max = settings.getfloat("NEWSCRAWL_PACING_CRAWL_DELAY_MAX", 30.0)
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or "*"
        self.not_before: dict[str, float] = {}  # origin -> monotonic time before which nothing is sent
        self.interval: dict[str, float] = {}    # origin -> Crawl-delay
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWSCRAWL_PACING_ENABLED", True) or crawler.settings.get("NEWSCRAWL_REPLAY"):
            raise NotConfigured
        return cls(crawler)

    # ------------------------------------------------------------------ holding requests back
    def pause(self, origin: str, seconds: float) -> None:
        """Send nothing to ``origin`` for ``seconds`` (an existing longer pause is kept)."""
        self.not_before[origin] = max(self.not_before.get(origin, 0.0), monotonic() + seconds)

    async def process_request(self, request: Request) -> None:
        """Wait until the request's origin may be contacted again."""
        if request.meta.get("newscrawl_file"):
            return None
        origin = origin_of(request)
        began = monotonic()
        # Re-check after every sleep: several requests may wake at once, and the first one through moves
        # not_before on by the Crawl-delay, so the others sleep again. Release times, not reservations
        # made in advance, are what end up at least one Crawl-delay apart on the wire.
        while (wait := self.not_before.get(origin, 0.0) - monotonic()) > 0.001:
            await sleep(wait)
        if monotonic() - began > 0.001:
            self.stats.inc_value(STAT + "waits")
            self.stats.inc_value(STAT + "wait_seconds", round(monotonic() - began, 3))
        interval = self.interval.get(origin)
        if interval:
            self.not_before[origin] = max(self.not_before.get(origin, 0.0), monotonic() + interval)
        return None

    # ------------------------------------------------------------------ Retry-After
    def process_response(self, request: Request, response: Response) -> Response:
        """Pause the origin on a 429/503 with Retry-After; give the request up when it asks too much."""
        if response.status not in RETRY_AFTER_STATUSES:
            return response
        seconds = parse_retry_after(response.headers.get(b"Retry-After"))
        if not seconds:
            return response
        origin = origin_of(request)
        if seconds > self.retry_after_max:
            self.pause(origin, self.retry_after_max)
            self.stats.inc_value(STAT + "retry_after_too_long")
            logger.warning("%s answered %d with Retry-After %g s (more than NEWSCRAWL_PACING_RETRY_AFTER_MAX=%g): "
                           "pausing %s for %g s and giving this request up", request.url[:300], response.status,
                           seconds, self.retry_after_max, origin, self.retry_after_max)
            raise IgnoreRequest(f"Retry-After {seconds:g} s exceeds the {self.retry_after_max:g} s cap")
        self.pause(origin, seconds)
        self.stats.inc_value(STAT + "retry_after")
        logger.info("%s answered %d with Retry-After %g s: pausing %s", request.url[:300], response.status,
                    seconds, origin)
        return response  # RetryMiddleware re-schedules it; process_request holds it until the pause ends

    # ------------------------------------------------------------------ Crawl-delay
    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        """Read Crawl-delay / Request-rate for our user agent from a freshly parsed robots.txt."""
        rp = getattr(robotparser, "rp", None)  # ProtegoRobotParser keeps the Protego object here
        if rp is None:
            return
        delay = None
        try:
            delay = rp.crawl_delay(self.user_agent)
            rate = rp.request_rate(self.user_agent)
            if rate is not None and rate.requests:
                delay = max(delay or 0.0, rate.seconds / rate.requests)
        except Exception as exc:  # noqa: BLE001 - a broken robots.txt must not break the crawl
            logger.debug("Could not read Crawl-delay from robots.txt of %s: %r", request.url, exc)
        if not delay or delay <= 0:
            return
        origin = origin_of(request)
        if delay > self.crawl_delay_max:
            self.stats.inc_value(STAT + "crawl_delay_capped")
            logger.warning("robots.txt of %s asks for Crawl-delay %g s; using NEWSCRAWL_PACING_CRAWL_DELAY_MAX=%g s",
                           origin, delay, self.crawl_delay_max)
            delay = self.crawl_delay_max
        self.interval[origin] = float(delay)
        self.stats.inc_value(STAT + "crawl_delay")
        logger.info("Crawl-delay %g s for %s (robots.txt)", delay, origin)
