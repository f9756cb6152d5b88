"""Baseline: a bare Scrapy spider (Scrapy's defaults) that parses title + paragraphs and exports JSONL."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.spiders import SitemapSpider


class BareSpider(SitemapSpider):
    name = "bare"

    def __init__(self, base: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [f"{base}/news-sitemap.xml"]

    def parse(self, response: Any) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "title": response.css("h1::text").get(),
               "body": "\n\n".join(response.css("article p::text").getall())}
