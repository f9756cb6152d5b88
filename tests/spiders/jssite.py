"""Test outlet for tests/jssite.py: ``scrapy runspider tests/spiders/jssite.py -a base=URL [-a sitemap=PATH]``.

``-a render_js=1`` switches its article requests to the browser (as an outlet's ``render_js = True``).
"""
from __future__ import annotations

from typing import Any

from newscrawl.crawling import NewsSpider


class JsSiteSpider(NewsSpider):
    name = "jssite"
    publisher = "Valley Courier"
    allowed_domains = ["127.0.0.1"]
    language = "en"
    # The story's paragraphs arrive by fetch() after the load event: wait for the first one.
    render_wait_for = "article .story p"
    selectors = {
        "headline": "article h1 ::text",
        "authors": "article .byline a ::text",
        "published_at": "article time::attr(datetime)",
        "body": "article .story p",
    }

    def __init__(self, base: str = "", sitemap: str = "/js-sitemap.xml?n=3", render_js: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [f"{base}{sitemap}"]
        if render_js:
            self.render_js = render_js.lower() in {"1", "true", "yes"}
