"""Voice of America (voanews.com), the US international broadcaster's English news site.

Publishes a Google News sitemap, ``/sitemap_415_news.xml.gz`` (gzip, no Content-Encoding), beside a
sitemap index of ~1M URLs (``/sitemap.xml``). Its RSS feeds live under ``/api/`` (``/api/z...``),
which robots.txt disallows (``Disallow: /api/*``), so they are not used. Article URLs are
``/a/<slug>/<id>.html`` (``/a/america-s-child-care-crisis-.../7585813.html``); video and audio items
come without a slug (``/a/<id>.html``) and section fronts are ``/z/<id>``, so the URL keeps them out.

VOA runs on Pangea, the CMS shared by RFE/RL and the other USAGM services, with stable BEM-style
classes: headline ``h1.pg-title``, byline ``.publishing-details .links__item``, time
``time[pubdate]``, text ``div.wsw`` (its ``p`` children), figures ``figure.media-image`` with a
``span.caption``. JSON-LD (``NewsArticle``, ``inLanguage`` "en-US") has the section and keywords.

Quirks:
- Much of the site is agency copy bylined "By Associated Press" or "Reuters" (also as the JSON-LD
  author Person): the agency is the wire source, not an author. Staff stories may end in "Some
  information for this report came from Reuters and AFP."; the first agency credited is the wire.
- The dateline is its own element before the first paragraph: ``<span class="dateline">AUBURN,
  Wash. —&nbsp;</span>``; it fills the dateline, and the body starts with the paragraph after it.
  Staff stories often write it into the first paragraph instead ("WASHINGTON — ...").
- VOA's language services are separate sites on Pangea: some are subdomains matched here
  (``learningenglish.voanews.com``, ``amharic.voanews.com``), others have domains of their own
  (voachinese.com, voaafrique.com, voaindonesia.com). ``<html lang>``/JSON-LD ``inLanguage`` give
  each page's language; "en" is only the fallback.
- Share bars, "Related" and "Most popular" boxes, and embedded media blocks (``div.wsw__embed``)
  sit beside or inside the text and are dropped.
"""
from __future__ import annotations

import re

from newscrawl.crawling import NewsSpider
from newscrawl.processors import wire_from_credit

_BODY = ", ".join(f"div.wsw > {x}" for x in ("p", "h2", "h3", "ul > li", "ol > li", "blockquote"))
# The byline items, then a staff story's closing agency credit (document order: byline first).
_WIRE = ("//div[contains(@class, 'publishing-details')]//li[contains(@class, 'links__item')]"
         " | //div[contains(@class, 'wsw')]/p[contains(., 'information for this report')"
         " or contains(., 'information in this report')]")


class VoanewsSpider(NewsSpider):
    name = "voanews"
    publisher = "Voice of America"
    allowed_domains = ["voanews.com"]
    sitemap_urls = ["https://www.voanews.com/sitemap_415_news.xml.gz"]
    article_allow = r"voanews\.com/a/[^/?#]+/\d+\.html(?:[?#]|$)"
    timezone = "America/New_York"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": ("h1.pg-title", "h1.title"),
        "authors": (".publishing-details .links__item",),
        "wire_source": (_WIRE,),
        "dateline": ("div.wsw > span.dateline",),
        "body": (_BODY,),
        "images": (".cover-media figure, div.wsw figure.media-image",),
    }
    drop_selectors = (
        ".share--box",
        "div.wsw .wsw__embed .media-block",
        ".media-block-wrap",
    )
    boilerplate = (
        r"Follow (?:VOA|us) on .{1,80}",
        r"Related:?",
        r"Print",
    )

    @staticmethod
    def clean_wire_source(credits: str | None) -> str | None:
        # "By Associated Press" -> "AP"; "By Jane Doe ... came from Reuters and AFP." -> "Reuters"
        return wire_from_credit(credits)

    @staticmethod
    def clean_dateline(text: str | None) -> str | None:
        # "AUBURN, Wash. —" -> "AUBURN, Wash."
        return re.sub(r"\s*(?:--|[-–—:])\s*$", "", text or "").strip() or None
