"""Reuters (reuters.com), the wire service.

Publishes a Google News sitemap (``/arc/outboundfeeds/news-sitemap/?outputType=xml``) and a sitemap
index. Article pages are a React app (Arc XP) with stable ``data-testid`` attributes: the headline is
``h1[data-testid="Heading"]``, paragraphs ``[data-testid^="paragraph-"]``, authors ``a[rel=author]``;
the generated class names (``text__text__1FZLe``) change with every deploy and are never used.

Quirks:
- Datelines read "BRUSSELS, March 31 (Reuters) - ..." (parsed by the clean stage).
- Bylines list several reporters; the "Reporting by ...; Editing by ..." trailer names editors too,
  so authors come from the byline links only, never from the trailer.
- JSON-LD authors are ``{"@type": "Person", "byline": "Jane Doe"}`` (no "name").
"""
from __future__ import annotations

from newscrawl.crawling import NewsSpider


class ReutersSpider(NewsSpider):
    name = "reuters"
    publisher = "Reuters"
    allowed_domains = ["reuters.com"]
    sitemap_urls = ["https://www.reuters.com/arc/outboundfeeds/news-sitemap/?outputType=xml"]
    article_allow = r"reuters\.com/[a-z-]+/(?:[a-z-]+/)?[a-z0-9-]+-\d{4}-\d{2}-\d{2}/?$"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2}

    selectors = {
        "headline": "h1[data-testid='Heading'] ::text",
        "authors": "a[rel='author'] ::text",
        "body": "[data-testid^='paragraph-']",
        "images": "[data-testid='primary-image'], figure",
        "section": "nav[aria-label='Tags'] a ::text, [data-testid='Breadcrumb'] a ::text",
        "tags": "[data-testid='tag-list'] a ::text",
    }
    drop_selectors = ("[data-testid='ResponsiveAdSlot']", "[data-testid='Social']",
                      "[data-testid='toolbar-container']")
    boilerplate = (r"Our Standards: The Thomson Reuters Trust Principles\.?",
                   r"Sign up here\.?",
                   r"Get a look at the days ahead.*newsletter.*",)
