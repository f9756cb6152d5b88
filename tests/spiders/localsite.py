"""A test outlet for crawls against a local server: ``scrapy runspider tests/spiders/localsite.py -a base=URL``."""
from __future__ import annotations

from typing import Any

from newscrawl.crawling import NewsSpider


class LocalSiteSpider(NewsSpider):
    name = "localsite"
    publisher = "Local Gazette"
    allowed_domains = ["127.0.0.1"]
    timezone = "Europe/Lisbon"
    language = "en"
    selectors = {
        "headline": "article h1 ::text",
        "authors": "article .byline a ::text",
        "published_at": "article time::attr(datetime)",
        "body": "article .story p",
    }
    boilerplate = (r"Read more from the Gazette.*",)

    def __init__(self, base: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [f"{base}/news-sitemap.xml"]
