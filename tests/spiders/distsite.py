"""Test outlet for distributed crawls (tests/test_redis.py): a sitemap index whose child sitemaps are
fetched by whichever worker pops them. ``scrapy runspider tests/spiders/distsite.py -a base=URL``."""
from __future__ import annotations

from typing import Any

from newscrawl.crawling import NewsSpider


class DistSiteSpider(NewsSpider):
    name = "distsite"
    publisher = "Harbour Ledger"
    allowed_domains = ["127.0.0.1"]
    timezone = "UTC"
    language = "en"
    selectors = {
        "headline": "article h1 ::text",
        "authors": "article .byline a ::text",
        "published_at": "article time::attr(datetime)",
        "body": "article .story p",
    }

    def __init__(self, base: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [f"{base}/sitemap-index.xml"]
