"""The benchmark site as a newscrawl outlet: site selectors + JSON-LD, then clean, validate, dedup, JSONL."""
from __future__ import annotations

from typing import Any

from newscrawl.crawling import NewsSpider


class BenchGazetteSpider(NewsSpider):
    name = "benchgazette"
    publisher = "Bench Gazette"
    allowed_domains = ["127.0.0.1"]
    timezone = "UTC"
    language = "en"
    selectors = {
        "headline": "h1.headline::text",
        "authors": "a[rel=author]::text",
        "body": "div.article-body > p",
        "images": "article figure",
    }
    drop_selectors = ()

    def __init__(self, base: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [f"{base}/news-sitemap.xml"]
