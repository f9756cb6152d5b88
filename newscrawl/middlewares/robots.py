"""robots.txt with RFC 9309's error rules: an unreachable robots.txt means "disallow everything".

Scrapy's RobotsTxtMiddleware parses whatever body comes back: a ``503 Service Unavailable`` page has no
rules, so every path, the disallowed ones included, is crawled while the outlet is struggling; a
timeout or connection error is treated as "no robots.txt" (allow all) too. RFC 9309 section 2.3.1
says the opposite for those cases:

- 2xx: parse it (unchanged from Scrapy);
- 4xx ("unavailable"): allow all; the body (an HTML 404 page) is ignored rather than parsed;
- 5xx or a network error ("unreachable"): assume complete disallow. 429 is treated the same way
  (it is an overloaded server, not a missing file).

An unreachable robots.txt is fetched again after ``NEWSCRAWL_ROBOTS_RETRY_DELAY`` seconds (default 10),
doubling each time, at most ``NEWSCRAWL_ROBOTS_RETRY_TIMES`` more times (default 2; so at most ~30 s).
Requests to that host wait meanwhile (as they already wait for the first fetch); after the last
attempt the host is disallow-all for the rest of the run, and the next scheduled run tries again.
In replay mode (``NEWSCRAWL_REPLAY``) there is no retry: the archive answers the same every time.
The robots.txt request itself is sent with ``dont_retry``: these spaced-out attempts replace Scrapy's
back-to-back retries, which would hit a failing server three times in a row.

Enable instead of Scrapy's middleware, at the same order (100: before anything that fetches)::

    DOWNLOADER_MIDDLEWARES = {
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "newscrawl.middlewares.robots.RobotsMiddleware": 100,
    }

Stats (besides Scrapy's ``robotstxt/*``): ``newscrawl/robots/unreachable`` (failed fetches),
``newscrawl/robots/retries``, ``newscrawl/robots/disallow_all`` (hosts given up on),
``newscrawl/robots/forbidden_unreachable`` (requests dropped for it), ``newscrawl/robots/unavailable``
(4xx: allowed).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newscrawl.middlewares.redirects import RedirectTrapped

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

STAT = "newscrawl/robots/"


class DisallowAll:
    """Stand-in parser for a host whose robots.txt could not be fetched."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


def robots_verdict(status: int) -> str:
    """RFC 9309 class of a robots.txt answer: "parse", "allow_all" or "unreachable"."""
    if status >= 500 or status == 429:
        return "unreachable"
    if status >= 300:
        # 4xx, or a 3xx RedirectMiddleware did not follow (more than REDIRECT_MAX_TIMES hops):
        # "unavailable", which the RFC lets crawlers treat as no robots.txt at all.
        return "allow_all"
    return "parse"


class RobotsMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.retry_times = max(0, settings.getint("NEWSCRAWL_ROBOTS_RETRY_TIMES", 2))
        self.retry_delay = max(0.0, settings.getfloat("NEWSCRAWL_ROBOTS_RETRY_DELAY", 10.0))
        if settings.get("NEWSCRAWL_REPLAY"):
            self.retry_times = 0  # an archived answer is the same on every attempt: do not wait for it

    async def robot_parser(self, request: Request) -> RobotParser | DisallowAll | None:  # type: ignore[override]
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            try:
                await self._fetch(f"{url.scheme}://{netloc}/robots.txt", netloc, request)
            except Exception as exc:  # noqa: BLE001 - a bug here must not leave the host's requests waiting for ever
                logger.error("robots.txt handling failed for %s: %r; treating the host as disallow-all", netloc, exc)
                if isinstance(self._parsers[netloc], Deferred):
                    self._resolve(netloc, DisallowAll(repr(exc)[:200]))
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def process_request_2(self, rp: RobotParser | DisallowAll | None, request: Request) -> None:  # type: ignore[override]
        if isinstance(rp, DisallowAll):
            self._stats.inc_value("robotstxt/forbidden")
            self._stats.inc_value(STAT + "forbidden_unreachable")
            logger.debug("Forbidden (robots.txt unreachable: %s): %s", rp.reason, request)
            raise IgnoreRequest(f"robots.txt unreachable ({rp.reason}): disallow-all per RFC 9309")
        super().process_request_2(rp, request)

    async def _fetch(self, robotsurl: str, netloc: str, request: Request) -> None:
        problem = "?"
        for attempt in range(self.retry_times + 1):
            if attempt:
                delay = self.retry_delay * 2 ** (attempt - 1)
                self._stats.inc_value(STAT + "retries")
                await sleep(delay)
            robotsreq = Request(robotsurl, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK,
                                meta={"dont_obey_robotstxt": True, "dont_retry": True})
            self._stats.inc_value("robotstxt/request_count")
            try:
                response = await self.crawler.engine.download_async(robotsreq)
            except RedirectTrapped:
                # RFC 9309 2.3.1.2: too many redirects may be treated as "unavailable" (allow all)
                await self._allow_all(robotsurl, netloc, request, 310)
                return
            except Exception as exc:  # noqa: BLE001 - timeouts, DNS, refused, IgnoreRequest: all "unreachable"
                self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
                problem = f"{type(exc).__name__}: {exc}"[:200]
            else:
                verdict = robots_verdict(response.status)
                if verdict == "parse":
                    await self._parse_robots(response, netloc, request)
                    return
                if verdict == "allow_all":
                    await self._allow_all(robotsurl, netloc, request, response.status)
                    return
                self._stats.inc_value("robotstxt/response_count")
                self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
                problem = f"HTTP {response.status}"
            self._stats.inc_value(STAT + "unreachable")
            left = self.retry_times - attempt
            logger.warning("robots.txt unreachable: %s (%s); %s", robotsurl, problem,
                           f"trying again in {self.retry_delay * 2 ** attempt:g} s ({left} attempt(s) left), "
                           f"requests to {netloc} wait" if left else "giving up for this run")
        self._stats.inc_value(STAT + "disallow_all")
        logger.warning("robots.txt of %s unreachable after %d attempt(s): every URL of that host is "
                       "disallowed for this run (RFC 9309 2.3.1.4)", netloc, self.retry_times + 1)
        self._resolve(netloc, DisallowAll(problem))

    async def _allow_all(self, robotsurl: str, netloc: str, request: Request, status: int) -> None:
        self._stats.inc_value(STAT + "unavailable")
        logger.debug("robots.txt %s answered %d: no rules, everything allowed (RFC 9309 2.3.1.3)",
                     robotsurl, status)
        await self._parse_robots(Response(robotsurl, status=status, body=b""), netloc, request)

    def _resolve(self, netloc: str, parser: DisallowAll) -> None:
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser  # type: ignore[assignment]
        if isinstance(waiting, Deferred):
            waiting.callback(parser)
