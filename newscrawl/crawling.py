"""Base spider: turn an outlet's sitemaps, feeds and section pages into article requests.

Outlet spiders subclass :class:`NewsSpider` and only declare data::

    class ExampleSpider(NewsSpider):
        name = "example"
        sitemap_urls = ["https://www.example.com/news-sitemap.xml"]
        feed_urls = ["https://www.example.com/rss"]
        section_urls = ["https://www.example.com/world/"]
        article_allow = r"/\\d{4}/\\d{2}/\\d{2}/"

Run with ``-a since=48h`` (time window, see :func:`newscrawl.discovery.parse_since`) and
``-a limit=200`` (max article requests this run).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Request, Response, TextResponse

from newscrawl import discovery
from newscrawl.discovery import TRUNCATED, Link, SitemapResult, is_recent, link_datetime, parse_since

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from twisted.python.failure import Failure

STAT = "newscrawl/discovery/"
DEPTH_META = "newscrawl_sitemap_depth"
HINT_META = "newscrawl_hint"
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


class NewsSpider(scrapy.Spider):
    """Shared discovery logic; deliberately has no ``name`` so ``scrapy list`` skips it."""

    sitemap_urls: list[str] = []
    feed_urls: list[str] = []
    section_urls: list[str] = []
    article_allow: str | None = None  # searched in every article URL (sitemap, feed, section)
    article_deny: str | None = None
    max_sitemap_depth: int = 2
    max_child_sitemaps: int = 200  # per sitemap index, newest (by lastmod) first
    max_section_links: int = 200

    def __init__(self, *args: Any, since: str | None = None, limit: str | int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        try:
            self.since: datetime | None = parse_since(since)
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}: bad -a since: {exc}") from None
        self.limit: int | None = self._parse_limit(limit)
        self._allow = self._compile("article_allow", self.article_allow)
        self._deny = self._compile("article_deny", self.article_deny)
        self._seen_articles: set[str] = set()
        self._article_requests = 0
        self._limit_logged = False

    # ------------------------------------------------------------------ helpers

    def _parse_limit(self, value: str | int | None) -> int | None:
        if value is None or value == "":
            return None
        try:
            limit = int(value)
        except (TypeError, ValueError):
            limit = -1
        if limit < 0:
            raise ValueError(
                f"{type(self).__name__}: bad -a limit={value!r}: expected a whole number >= 0 "
                "(0 = discover only, fetch no article)"
            )
        return limit

    def _compile(self, attr: str, pattern: str | None) -> re.Pattern[str] | None:
        if not pattern:
            return None
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{type(self).__name__}.{attr} is not a valid regex ({pattern!r}): {exc}") from None

    def _inc(self, event: str, count: int = 1) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None and crawler.stats is not None and count:
            crawler.stats.inc_value(STAT + event, count)

    def _setting_int(self, name: str, default: int) -> int:
        settings = getattr(self, "settings", None)
        return settings.getint(name, default) if settings is not None else default

    def _limit_reached(self) -> bool:
        if self.limit is None or self._article_requests < self.limit:
            return False
        if not self._limit_logged:
            self._limit_logged = True
            self._inc("limit_reached")
            self.logger.info("Article limit %d reached; further discovered links are ignored", self.limit)
        return True

    def _unusable(self, response: Response, what: str, *, allow_gzip: bool = True) -> bool:
        """Log + count bodies we cannot parse (empty, binary) instead of raising.

        A sitemap served as application/octet-stream is still fine if it is XML or gzip
        (``/sitemap.xml.gz`` without Content-Encoding reaches us compressed), so "binary"
        means: not a TextResponse, not gzip when gzip is allowed, and NUL bytes in the head
        (a JPEG error placeholder, a PDF).
        """
        body = response.body
        reason = None
        if not body or not body.strip():
            reason = "empty body"
        elif not isinstance(response, TextResponse) and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
            gzip = body[:2] == b"\x1f\x8b"
            if (gzip and not allow_gzip) or (not gzip and b"\x00" in body[:1024]):
                ctype = response.headers.get("Content-Type", b"?").decode("latin-1")
                reason = f"binary body ({ctype})"
        if reason is None:
            return False
        self._inc("non_text_response")
        self.logger.warning("Skipping %s %s: %s", what, response.url, reason)
        return True

    def _report(self, result: SitemapResult, what: str, url: str) -> None:
        if result.truncated:
            self._inc("sitemap_truncated")
        if any(not e.startswith(TRUNCATED) for e in result.errors):
            self._inc("parse_errors")
        if result.errors:
            self.logger.warning("%s %s: %s", what, url, "; ".join(result.errors))

    def _discovery_request(self, url: str, callback: Any, meta: dict[str, Any] | None = None) -> Request:
        meta = dict(meta or {})
        # sitemaps may be up to 50 MiB uncompressed (the protocol's limit); article pages keep the 8 MiB cap
        meta.setdefault("download_maxsize", self._setting_int("NEWSCRAWL_DISCOVERY_MAX_BYTES", 50 * 1024 * 1024))
        return Request(url, callback=callback, errback=self._discovery_failed, meta=meta, dont_filter=False)

    def _discovery_failed(self, failure: Failure) -> None:
        # A 404 news sitemap is routine when outlets rotate file names; count it, don't crash.
        request = getattr(failure, "request", None)
        self._inc("fetch_errors")
        self.logger.warning(
            "Discovery fetch failed for %s: %s", getattr(request, "url", "?"), failure.getErrorMessage()
        )

    def _article_requests_for(self, links: Iterable[Link], via: str) -> Iterator[Request]:
        """Newest first, drop old (before fetching) and duplicate links, honour ``limit``."""
        ordered = sorted(links, key=lambda link: link_datetime(link) or _OLDEST, reverse=True)
        for link in ordered:
            if not self._wanted(link.url):
                self._inc("skipped_pattern")
                continue
            if not is_recent(link, self.since):
                self._inc("skipped_old")
                continue
            if link.url in self._seen_articles:
                self._inc("duplicates")
                continue
            if self._limit_reached():
                return
            self._seen_articles.add(link.url)
            self._article_requests += 1
            self._inc("article_requests")
            yield Request(
                link.url,
                callback=self.parse_article,
                meta={HINT_META: self._hint(link, via)},
                dont_filter=False,
            )

    def _wanted(self, url: str) -> bool:
        """Apply article_allow/article_deny to every source, not only section pages.

        News sitemaps and "all sections" feeds also list video, podcast and gallery pages
        (e.g. /video/watch/...-12345), which the outlet's allow regex is there to keep out.
        """
        if self._deny is not None and self._deny.search(url):
            return False
        return self._allow is None or bool(self._allow.search(url))

    @staticmethod
    def _hint(link: Link, via: str) -> dict[str, Any]:
        return {
            "title": link.title,
            "published": link.published,
            "language": link.language,
            "lastmod": link.lastmod,
            "keywords": list(link.keywords),
            "via": via,
        }

    # ------------------------------------------------------------------ scrapy API

    async def start(self) -> AsyncIterator[Any]:
        """Sitemaps first (richest metadata), then feeds, then section pages."""
        if not (self.sitemap_urls or self.feed_urls or self.section_urls):
            self.logger.warning("%s declares no sitemap_urls, feed_urls or section_urls", type(self).__name__)
        for url in self.sitemap_urls:
            yield self._discovery_request(url, self.parse_sitemap, {DEPTH_META: 0})
        for url in self.feed_urls:
            yield self._discovery_request(url, self.parse_feed)
        for url in self.section_urls:
            yield self._discovery_request(url, self.parse_section)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """Sitemap index -> child sitemaps (bounded); urlset -> article requests."""
        if self._unusable(response, "sitemap"):
            return
        result = discovery.parse_sitemap(
            response.body,
            response.url,
            max_bytes=self._setting_int("NEWSCRAWL_DISCOVERY_MAX_BYTES", 50 * 1024 * 1024),
            max_urls=self._setting_int("NEWSCRAWL_DISCOVERY_MAX_URLS", 50_000),
        )
        self._report(result, "sitemap", response.url)
        if not result.is_index:
            self._inc("sitemap_links", len(result.links))
            yield from self._article_requests_for(result.links, "sitemap")
            return
        depth = int(response.meta.get(DEPTH_META, 0)) + 1
        if depth > self.max_sitemap_depth:
            self._inc("sitemap_depth_exceeded")
            self.logger.warning(
                "Sitemap index %s at depth %d: children ignored (max_sitemap_depth=%d)",
                response.url, depth - 1, self.max_sitemap_depth,
            )  # fmt: skip
            return
        children = sorted(result.links, key=lambda link: link_datetime(link) or _OLDEST, reverse=True)
        if len(children) > self.max_child_sitemaps:
            self._inc("child_sitemaps_dropped", len(children) - self.max_child_sitemaps)
            children = children[: self.max_child_sitemaps]
        for child in children:
            if self._limit_reached():
                return
            # A child sitemap's lastmod is when any entry in it last changed, so an archive
            # file like sitemap-2019-03.xml (lastmod 2019-03-31) cannot hold anything newer.
            if not is_recent(child, self.since):
                self._inc("skipped_old_sitemaps")
                continue
            self._inc("child_sitemaps")
            yield self._discovery_request(child.url, self.parse_sitemap, {DEPTH_META: depth})

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """RSS / Atom / JSON Feed -> article requests."""
        if self._unusable(response, "feed"):
            return
        result = discovery.parse_feed_result(
            response.body,
            response.url,
            max_bytes=self._setting_int("NEWSCRAWL_DISCOVERY_MAX_BYTES", 50 * 1024 * 1024),
            max_items=self._setting_int("NEWSCRAWL_DISCOVERY_MAX_FEED_ITEMS", 5000),
        )
        self._report(result, "feed", response.url)
        self._inc("feed_links", len(result.links))
        yield from self._article_requests_for(result.links, "feed")

    def parse_section(self, response: Response) -> Iterator[Request]:
        """Section/home page -> article links (undated, so the since window cannot apply)."""
        if self._unusable(response, "section page", allow_gzip=False):
            return
        html: str | bytes = response.text if isinstance(response, TextResponse) else response.body
        urls = discovery.extract_article_links(
            html,
            response.url,
            allow=self._allow,
            deny=self._deny,
            max_links=self.max_section_links,
        )
        self._inc("section_links", len(urls))
        yield from self._article_requests_for((Link(url=u) for u in urls), "section")

    def parse_article(self, response: Response) -> Iterator[Any]:
        """Hand the article page to the extraction stage."""
        if not isinstance(response, TextResponse):
            self._inc("article_non_text")
            self.logger.warning("Article %s is not text (%s); skipped", response.url, type(response).__name__)
            return
        # Imported here so discovery loads (and tests run) without the extraction stack.
        from newscrawl.extract import build_article  # noqa: PLC0415

        article = build_article(response, self)
        if article is not None:
            yield article
