"""Al Jazeera English (aljazeera.com).

Publishes a Google News sitemap (``/news-sitemap.xml``, the last two days) and one RSS feed
(``/xml/rss/all.xml``), whose links carry ``?traffic_source=rss``; the sitemap lists the same
stories under their clean URLs, so it is the only discovery source. Article URLs are
``/<type>/<yyyy>/<m>/<d>/<slug>``: ``/news/2024/3/31/...``, ``/features/...``, ``/opinions/...``,
``/economy/...``, ``/sports/...``; live blogs are ``/news/liveblog/2024/3/31/...``. Video
(``/video/<show>/...``), programme episodes (``/program/<show>/...``), podcasts and photo galleries
(``/gallery/...``, a row of captions) are not text articles and are kept out by URL.

Pages are a React app over WordPress with a few stable hooks: ``main#main-content-area``, the
headline in its ``header``, the standfirst ``p.article__subhead``, bylines
``.article-author-name-item a.author-link``, and the body ``div.wysiwyg--all-content`` whose
``p``/``h2``/``ul`` children are the text (``css-1vkfgk0``-style classes beside it are generated).
Pages from before the 2020 redesign (``.html`` URLs) use ``h1.post-title`` and
``div.article-p-wrapper`` and are read by the fallback selectors.

Quirks:
- Agency copy has no byline; the story ends in a credit block, ``div.article-source``:
  "Source: Al Jazeera and news agencies" (no agency named: no wire source) or "Source: Reuters".
  JSON-LD then names the brand as author (an Organization, or "Al Jazeera Staff"), which is dropped.
- Photo credits are square-bracketed at the end of captions: "Residents queue for water in
  Rafah [Mohammed Salem/Reuters]", "[File: AP Photo]", "[Al Jazeera]"; the bracket is the credit
  and a "File:" marker is dropped from it.
- Correspondents' stories open with a place and an en dash: "Kyiv, Ukraine – Olena ..." (older
  pages: "Washington, DC, United States: Getting to ..."); that place is the dateline.
- Inside the body sit "Recommended Stories" boxes (``.more-on``, read out to screen readers as
  "list of 4 items ... end of list"), ad containers and newsletter forms; they are dropped.
- Live blogs (``/news/liveblog/...``, JSON-LD ``LiveBlogPosting``) and long reads
  (``/news/longform/...``, text in ``div.longform-text div.wysiwyg``) are kept as articles and read
  from the same ``.wysiwyg`` containers.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from newscrawl.crawling import NewsSpider
from newscrawl.processors import wire_from_credit

# The standfirst is kept as the body's first paragraph (as the other outlets and the generic layer do),
# then the text container's children: paragraphs, subheadings, lists, quotes.
_BODY_PARTS = ("p", "h2", "h3", "ul > li", "ol > li", "blockquote")
_BODY = "header p.article__subhead, " + ", ".join(f"div.wysiwyg > {x}" for x in _BODY_PARTS)
_LEGACY_BODY = ", ".join(["p.article-heading-des"] + [f"div.article-p-wrapper > {x}" for x in ("p", "h2", "h3")])

# "Rafah residents queue for water [Mohammed Salem/Reuters]" -> caption, credit
_BRACKET_CREDIT = re.compile(r"^(?P<caption>.*?)\s*\[(?P<credit>[^\[\]]{1,120})\]\s*\.?$", re.S)
_FILE_MARK = re.compile(r"^File(?: photo)?\s*:\s*", re.I)
# "Kyiv, Ukraine – Olena ...", "Washington, DC, United States: Getting ...": Title-case place parts,
# at least one comma, then an en/em dash or a colon.
_PLACE_WORD = r"(?:[A-Z][\w'’.-]*|al-\w+|el-\w+|de|of|la)"
_PLACE_PART = rf"{_PLACE_WORD}(?: {_PLACE_WORD}){{0,3}}"
_DATELINE = re.compile(rf"^(?P<place>{_PLACE_PART}(?:, {_PLACE_PART}){{1,2}})(?: [–—]|:) ")
_NOT_PLACE = re.compile(r"\b(?:On|In|At|The|Last|This|Earlier|After|Before|When|Since|Monday|Tuesday|Wednesday"
                        r"|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|August"
                        r"|September|October|November|December)\b")

# URL type segment -> the site's own section name (its top navigation).
_SECTIONS = {"news": "News", "features": "Features", "opinions": "Opinion", "opinion": "Opinion",
             "economy": "Economy", "sports": "Sport", "sport": "Sport", "ajimpact": "AJ Impact",
             "indepth": "In Depth", "investigations": "Investigations", "climate-crisis": "Climate Crisis"}



class AljazeeraSpider(NewsSpider):
    name = "aljazeera"
    publisher = "Al Jazeera"
    allowed_domains = ["aljazeera.com"]
    sitemap_urls = ["https://www.aljazeera.com/news-sitemap.xml"]
    article_allow = r"aljazeera\.com/[a-z0-9-]+/(?:[a-z0-9-]+/)?\d{4}/\d{1,2}/\d{1,2}/[^/?#]+/?(?:[?#]|$)"
    article_deny = r"aljazeera\.com/(?:video|program|programmes|podcasts|audio|gallery|shows)/"
    timezone = "Asia/Qatar"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": ("main#main-content-area header h1", "header.article-header h1", "h1.post-title"),
        "authors": (
            ".article-author-name-item a.author-link",
            ".article-author-name-item",
            ".article-heading-author-name a[rel='author']",
        ),
        "section": ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"),
        "wire_source": ("div.article-source", "div.article-body-artSource"),
        "dateline": ("(//div[contains(concat(' ', @class, ' '), ' wysiwyg ')]/p)[1]",
                     "(//div[contains(@class, 'article-p-wrapper')]/p)[1]"),
        "body": (_BODY, _LEGACY_BODY),
        "images": (
            "figure.article-featured-image, div.wysiwyg figure",
            "figure.main-article-mediaCaption",
        ),
    }
    drop_selectors = (
        ".more-on",
        ".container--ads",
        ".sib-newsletter-form",
        ".inpage-embed",
        "div.wysiwyg .screen-reader-text",
    )
    boilerplate = (
        r"Recommended Stories",
        r"list of \d+ items?",
        r"end of list",
        r"Source: .{1,80}",
        r"More:",
        r"Follow Al Jazeera English:?",
    )

    @staticmethod
    def clean_section(url: str | None) -> str | None:
        # "https://www.aljazeera.com/features/2024/3/31/..." -> "Features"
        segment = urlsplit(url or "").path.strip("/").split("/")[0]
        if not segment:
            return None
        return _SECTIONS.get(segment, segment.replace("-", " ").title())

    @staticmethod
    def clean_wire_source(credit: str | None) -> str | None:
        # "Source: Al Jazeera and news agencies" names no agency; "Source: Reuters" -> "Reuters"
        return wire_from_credit(credit)

    @staticmethod
    def clean_dateline(first_paragraph: str | None) -> str | None:
        m = _DATELINE.match(first_paragraph or "")
        if not m or len(m.group("place")) > 60 or _NOT_PLACE.search(m.group("place")):
            return None
        return m.group("place")

    @staticmethod
    def clean_images(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for img in images:
            m = _BRACKET_CREDIT.match(img.get("caption") or "")
            if m and not img.get("credit"):
                img["caption"] = m.group("caption").strip() or None
                img["credit"] = _FILE_MARK.sub("", m.group("credit").strip()) or None
        return images
