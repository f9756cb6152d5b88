"""Any outlet without a spider: ``scrapy crawl news -a sitemap=URL`` / ``-a feed=URL`` / ``-a start=URL``.

- ``sitemap``: news sitemaps and sitemap indexes (news:* metadata kept, ``-a since=48h`` window applies);
- ``feed``: RSS 2.0, Atom or JSON Feed;
- ``start``: a home or section page; links on the same site that look like articles are followed, and
  from articles further article links, up to ``-a depth=N`` (default 1) and ``-a limit=N`` article
  requests (default 500);
- several URLs comma-separated, modes combined; ``-a outlet=NAME`` names the source (default: the host).

Extraction is the JSON-LD / meta / generic layers; pages that are not articles are recognised and skipped
with a stat (``newscrawl/extract/not_article/<kind>``). For a site you crawl often, an outlets-file entry
or a dedicated spider adds selectors and politeness of its own.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from newscrawl import discovery
from newscrawl.crawling import NewsSpider
from newscrawl.discovery import Link

DEFAULT_LIMIT = 500


def _split(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").split(",") if u.strip()]


class GenericNewsSpider(NewsSpider):
    name = "news"

    def __init__(self, sitemap: str | None = None, feed: str | None = None, start: str | None = None,
                 outlet: str | None = None, depth: str | int = 1, limit: str | int | None = DEFAULT_LIMIT,
                 **kwargs: Any) -> None:
        super().__init__(limit=limit, **kwargs)
        self.sitemap_urls = _split(sitemap)
        self.feed_urls = _split(feed)
        self.section_urls = _split(start)
        urls = self.sitemap_urls + self.feed_urls + self.section_urls
        if not urls:
            raise ValueError("news spider: give -a sitemap=URL, -a feed=URL and/or -a start=URL (comma-separated)")
        bad = [u for u in urls if not re.match(r"^https?://[^/\s]+", u)]
        if bad:
            raise ValueError(f"news spider: not http(s) URLs: {', '.join(bad)}")
        hosts = sorted({(urlsplit(u).hostname or "").lower().removeprefix("www.") for u in urls})
        # Articles listed by a sitemap or feed may live on sibling hosts (www., amp.); keep to these sites.
        self.allowed_domains = hosts
        self.source_name = outlet or (hosts[0] if len(hosts) == 1 else "news")
        if not re.match(r"^[\w.-]{1,60}$", self.source_name):
            raise ValueError(f"news spider: -a outlet must be a short name, got {outlet!r}")
        try:
            self.max_depth = int(depth)
        except (TypeError, ValueError):
            raise ValueError(f"news spider: -a depth must be an integer, got {depth!r}") from None

    def parse_article(self, response: Response) -> Iterator[Any]:
        yield from super().parse_article(response)
        # start-page mode: follow article links found in articles, bounded by depth and limit
        depth = int(response.meta.get("newscrawl_depth", 0))
        if self.section_urls and depth < self.max_depth and isinstance(response, TextResponse):
            urls = discovery.extract_article_links(response.text, response.url, allow=self._allow, deny=self._deny,
                                                   max_links=self.max_section_links)
            for request in self._article_requests_for((Link(url=u) for u in urls), "section"):
                request.meta["newscrawl_depth"] = depth + 1
                yield request
