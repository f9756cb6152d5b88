"""DW (dw.com), Deutsche Welle, Germany's international broadcaster, in 30+ languages.

How it publishes: one Media-RSS feed per language (``https://rss.dw.com/xml/rss-en-all``,
``rss-de-all``, ``rss-es-all``) and a Google News sitemap per language section
(``https://www.dw.com/en/news-sitemap.xml``, ``/de/``, ``/es/``). Every URL starts with the language
section (``/en/``, ``/de/``, ``/es/``, ``/pt-br/``, ``/fa-ir/`` ...) and ends in a typed id.

Quirks:
- Only ``/a-<id>`` pages are articles (``/en/germany-budget-row/a-65464327``). The same feeds and
  sitemaps list videos (``/video-65464328``, older ``/av-65422743``), audio (``/audio-...``), galleries
  (``/g-...``) and live blogs (``/live-65464329``, a stream of timestamped updates, not an article):
  ``article_allow`` keeps them out before they are fetched.
- Feed links carry tracking parameters, ``...a-65464327?maca=en-rss-en-all-1573-xml-mrss``; discovery
  drops ``maca`` (a shared tracking-parameter name), so each article is requested once.
- Pages are a React app (since 2023) whose class attributes mix generated names (``sc-gicCDI czqpjL``)
  with stable semantic ones (``rich-text``, ``teaser-text``, ``author-details``, ``kicker``) and
  ``data-tracking-name`` attributes: only the latter are used. The standfirst (``p.teaser-text``) is
  the article's bold lede and is kept as the body's first paragraph.
- The visible date is relative ("vor 3 Stunden", "3 hours ago"), so dates come from JSON-LD
  (``"datePublished": "2023-06-13T12:15:32.158Z"``). Pages of the pre-2023 template (``div.longText``,
  ``p.intro``) have no JSON-LD: their date is a "Datum 28.04.2023" list item, day first.
- Figure credits sit in ``<small class="copyright">Bild: Jane Doe/dpa/picture alliance</small>``
  inside the figcaption, labelled in the page language ("Image:", "Bild:", "Imagen:"); the label is
  dropped.
- News items end with a sign-off of editor initials and agencies, ``mm/rc (AFP, dpa, Reuters)``: the
  first agency is the wire credit. Inline ad slots, embedded videos (their headline is an ``<h2>``),
  share bars and "Send us your feedback!" sit inside the article and are removed as blocks.
- ``<html lang>`` names the language; when a page lacks it, the language section of its canonical
  URL does (``https://www.dw.com/pt-br/...`` -> "pt-BR").
"""
from __future__ import annotations

import re

from newscrawl import processors as p
from newscrawl.crawling import NewsSpider

# XPath class-token tests (a bare contains(@class, 'rich-text') would also match "rich-text-ad").
_RICH = "div[contains(concat(' ', normalize-space(@class), ' '), ' rich-text ')]"
_TEASER = "p[contains(concat(' ', normalize-space(@class), ' '), ' teaser-text ')]"
_OLD_LIST = "(//ul[@class='smallList'])[1]/li"

_SIGN_OFF = re.compile(r"^[a-z]{1,4}(?:/[a-z]{1,4})+\s*\((?P<agencies>[^()]{2,60})\)$", re.I)
_DAY_FIRST = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_CREDIT_LABEL = re.compile(r"^[^\W\d_]{2,15}\s*:\s*")
_LANG_PATH = re.compile(r"^https?://[^/]*dw\.com/([a-z]{2,3}(?:-[a-z0-9]{2,4})?)/", re.I)


class DwSpider(NewsSpider):
    name = "dw"
    publisher = "DW"
    allowed_domains = ["dw.com"]
    sitemap_urls = [
        "https://www.dw.com/en/news-sitemap.xml",
        "https://www.dw.com/de/news-sitemap.xml",
        "https://www.dw.com/es/news-sitemap.xml",
    ]
    feed_urls = [
        "https://rss.dw.com/xml/rss-en-all",
        "https://rss.dw.com/xml/rss-de-all",
        "https://rss.dw.com/xml/rss-es-all",
    ]
    # /<language section>/<slug>/a-<id>; slugs may be non-ASCII ("/de/energiewende-für-alle/a-65464327")
    article_allow = r"dw\.com/[a-z]{2,3}(?:-[a-z0-9]{2,4})?/[^/?#]+/a-\d{5,}(?:[?#]|$)"
    timezone = "Europe/Berlin"
    custom_settings = {"AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}

    selectors = {
        "headline": ("article header h1 ::text", "#bodyContent h1 ::text"),
        "description": ("article header p.teaser-text ::text", "#bodyContent p.intro ::text"),
        "authors": ("article header .author-details .author ::text",
                    f"{_OLD_LIST}[strong[contains(., 'Aut')]]/text()"),
        # pre-2023 template only ("Datum 28.04.2023"); the current one has JSON-LD dates
        "published_at": f"{_OLD_LIST}[1]/text()",
        "section": ("[data-tracking-name='content-detail-kicker'] a ::text", "(//div[@id='navPath']/a)[last()]"),
        "tags": "[data-tracking-name='related-topics'] a ::text",
        "language": ("/html/@lang", "link[rel='canonical']::attr(href)", "meta[property='og:url']::attr(content)"),
        "wire_source": f"(//article//{_RICH}/p)[last()]",
        "body": (
            f"//article//header//{_TEASER}"
            f" | //article//{_RICH}/*[self::p or self::h2 or self::h3 or self::blockquote]"
            f" | //article//{_RICH}/*[self::ul or self::ol]/li",
            "//p[@class='intro'] | //div[@class='longText']/*[self::p or self::h2]",
        ),
        "images": ("article figure", "#bodyContent .picBox"),
    }
    drop_selectors = (
        ".advertisement",
        ".rich-text-ad",
        "[data-tracking-name='sharing-icons-inline']",
        ".vjs-wrapper",
        "article footer",
        "#sharing-bar",
        ".adsContainer",
    )
    boilerplate = (
        # English newsletter blurb closing Germany stories
        r"While you['’]re here:.*newsletter.*",
        r"Edited by:?\s*.{2,60}",
        r"Redigiert von:?\s*.{2,60}",
        r"Send us your feedback!?|Schicken Sie uns Ihr Feedback!?",
        r"Dieser Artikel wurde aus dem Englischen adaptiert\.?",
        # the sign-off "mm/rc (AFP, dpa, Reuters)" is read into wire_source, not kept as text
        r"[a-z]{1,4}(?:/[a-z]{1,4})+\s*\([^()]{2,60}\)",
    )

    @staticmethod
    def clean_published_at(value: str | None) -> str | None:
        # "Datum 28.04.2023" is day first; dateutil would read "03.04.2023" as March 4
        m = _DAY_FIRST.search(value or "")
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" if m else None

    @staticmethod
    def clean_wire_source(value: str | None) -> str | None:
        # "mm/rc (AFP, dpa, Reuters)" -> "AFP"; any other last paragraph is no credit
        m = _SIGN_OFF.match((value or "").strip())
        return p.wire_from_credit(m.group("agencies")) if m else None

    @staticmethod
    def clean_language(value: str | None) -> str | None:
        # <html lang="de"> as is; a canonical URL gives its language section ("/pt-br/" -> "pt-br")
        if value and "://" in value:
            m = _LANG_PATH.match(value)
            return m.group(1) if m else None
        return value

    @staticmethod
    def clean_images(images: list[dict]) -> list[dict]:
        # credit "Bild: Jane Doe/dpa/picture alliance" -> "Jane Doe/dpa/picture alliance"
        for img in images:
            if img.get("credit"):
                img["credit"] = _CREDIT_LABEL.sub("", img["credit"]) or None
        return images
