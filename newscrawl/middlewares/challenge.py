"""Downloader middleware: bot walls and empty JavaScript shells are their own outcome, never an article.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.challenge.ChallengeMiddleware": 575}

At 575 its ``process_response`` runs after decompression (590) and redirects (600), so it reads the
final, decoded page, and before RetryMiddleware (550), so a Cloudflare 503 interstitial is not
retried twice over plain HTTP (it would answer the same page twice more).

A response :func:`newscrawl.challenge.detect` flags is counted (``newscrawl/challenge/detected`` and
``newscrawl/challenge/<kind>``), logged, and dropped with :class:`ChallengeResponse` (an
``IgnoreRequest``): the spider never parses it, so no item is built, and nothing marks the URL as
seen (dedup state and the JOBDIR dupefilter record exported items only), so the next run tries again.

With ``NEWSCRAWL_CHALLENGE_BROWSER_RETRY = True`` an ARTICLE request flagged over plain HTTP is sent
once more through Chromium (stat ``newscrawl/challenge/retried_in_browser``). The retry is marked in
``meta``; a retry that is flagged again is given up (``newscrawl/challenge/gave_up``), one that
passes is counted ``newscrawl/challenge/solved_in_browser``. A request already rendered by the
browser is never retried: there is no loop.

Settings: NEWSCRAWL_CHALLENGE_ENABLED (True), NEWSCRAWL_CHALLENGE_BROWSER_RETRY (False),
NEWSCRAWL_CHALLENGE_SHELL_MAX_WORDS (40; 0 turns the empty-shell rule off).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response, TextResponse

from newscrawl.browser import RETRY_META, handlers_installed, is_article_request
from newscrawl.challenge import SHELL_MAX_WORDS, Challenge, detect, is_html, response_headers

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/challenge/"


class ChallengeResponse(IgnoreRequest):
    """A bot wall answered instead of the page; errbacks can tell it from other failures."""

    def __init__(self, challenge: Challenge, response: Response) -> None:
        super().__init__(f"{challenge.kind} challenge at {response.url}: {challenge.reason}")
        self.challenge = challenge
        self.response = response


class ChallengeMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSCRAWL_CHALLENGE_ENABLED", True):
            raise NotConfigured("NEWSCRAWL_CHALLENGE_ENABLED is off")
        self.stats = crawler.stats
        self.shell_max_words = settings.getint("NEWSCRAWL_CHALLENGE_SHELL_MAX_WORDS", SHELL_MAX_WORDS)
        self.retry_in_browser = settings.getbool("NEWSCRAWL_CHALLENGE_BROWSER_RETRY", False)
        if self.retry_in_browser and not handlers_installed(settings):
            # e.g. DOWNLOAD_HANDLERS overridden by hand without scrapy-playwright: say so once, don't pretend
            logger.warning("NEWSCRAWL_CHALLENGE_BROWSER_RETRY is on but scrapy-playwright's download handlers "
                           "are not installed; challenges are counted, not retried")
            self.retry_in_browser = False
        self._warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if not isinstance(response, TextResponse) or not is_html(response):
            return response
        try:
            html = response.text
        except (UnicodeError, LookupError) as exc:  # a bogus charset: extraction reports it, not us
            logger.debug("Challenge check skipped for %s: %r", response.url, exc)
            return response
        article = is_article_request(request)
        # The lambda defers the parse to the rare pages that reach a size guard; response.selector is
        # cached, so the spider's extraction reuses the same tree instead of parsing twice.
        try:
            challenge = detect(response.status, html, response_headers(response), article=article,
                               shell_max_words=self.shell_max_words, selector=lambda: response.selector)
        except Exception as exc:  # noqa: BLE001 - markup lxml cannot take: extraction reports it, the crawl goes on
            self.stats.inc_value(STAT + "errors")
            logger.warning("Challenge check failed for %s (%r); treating it as a page", response.url, exc)
            return response
        retried = request.meta.get(RETRY_META)
        if challenge is None:
            if retried:
                self.stats.inc_value(STAT + "solved_in_browser")
                logger.info("Browser retry passed the %s challenge: %s", retried, response.url)
            return response
        self.stats.inc_value(STAT + "detected")
        self.stats.inc_value(STAT + challenge.kind)
        via_browser = "playwright" in response.flags or bool(request.meta.get("playwright"))
        self._log(challenge, response, via_browser)
        if retried:
            self.stats.inc_value(STAT + "gave_up")
            logger.warning("Still a %s challenge after one browser retry (first: %s); giving up on %s",
                           challenge.kind, retried, response.url)
        elif self.retry_in_browser and article and not via_browser:
            self.stats.inc_value(STAT + "retried_in_browser")
            meta = {**request.meta, "playwright": True, RETRY_META: challenge.kind}
            meta.pop("playwright_page_methods", None)  # the routing middleware adds the challenge wait
            # dont_filter: the dupefilter saw this URL on the first try
            return request.replace(meta=meta, dont_filter=True)
        raise ChallengeResponse(challenge, response)

    def _log(self, challenge: Challenge, response: Response, via_browser: bool) -> None:
        how = "browser" if via_browser else "plain HTTP"
        if challenge.kind not in self._warned:
            self._warned.add(challenge.kind)
            logger.warning("Challenge or empty shell (%s) instead of the page, via %s: %s (%s); not exported, not marked "
                           "seen. Further %s challenges are logged at INFO", challenge.kind, how, response.url,
                           challenge.reason, challenge.kind)
        else:
            logger.info("Challenge or empty shell (%s) via %s: %s (%s)", challenge.kind, how, response.url, challenge.reason)
