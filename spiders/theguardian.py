"""The Guardian (theguardian.com): UK, US, Australia and international editions on one site.

Publishes a Google News sitemap (``/sitemaps/news.xml``, the last two days) and an RSS feed per
section and edition (``/international/rss``). Article URLs are
``/<section>[/<series>]/<yyyy>/<mon>/<dd>/<slug>``, e.g. ``/world/2024/feb/24/valencia-fire-...``;
live blogs add a ``live`` segment (``/world/live/2024/feb/24/...``).

Pages are rendered by "dotcom-rendering" (DCR). Its class names are generated per deploy
(``dcr-1m6z4y2``) and never used here; DCR marks the page regions with ``data-gu-name``
(``headline``, ``standfirst``, ``meta``, ``media``, ``body``) and components with
``data-component`` (``meta-byline``) and ``data-spacefinder-type`` (the inline elements of the body,
e.g. ``...pageElements.ImageBlockElement``). The body paragraphs are the children of
``div.article-body-commercial-selector`` (a class the ad code itself keys on, so it stays put).
Pages saved from the frontend before DCR (2019 and earlier, e.g. in web archives) use ``itemprop``
microdata (``h1[itemprop=headline]``, ``div[itemprop=articleBody]``) and are read by fallback selectors.

Quirks:
- JSON-LD is rich (``NewsArticle``/``LiveBlogPosting`` with ``isAccessibleForFree``, Person authors
  with profile URLs) and ``article:published_time``/``article:section``/``article:tag`` meta tags
  carry dates, the section ("World news") and the keyword tags ("Spain,Europe,World news").
- Bylines name contributors with a location: "Jane Doe in Kyiv and John Roe". Tagged contributors
  are ``a[rel=author]`` links, sometimes followed by a role ("Larry Elliott Economics editor"),
  so the links are read when there are any, else the whole byline; the location becomes the
  dateline ("Kyiv"). Wire copy is bylined "Associated Press in Valencia", "Reuters",
  "Guardian staff and agencies": the agency is the wire source, never an author, and JSON-LD then
  names a desk ("Guardian staff reporter").
- Captions end in a credit: "Forensic teams at the site. Photograph: Jane Doe/Reuters" (also
  "Composite:", "Illustration:"); DCR prints the main media caption twice (a mobile toggle and the
  desktop caption), so a doubled caption is folded back to one.
- Live blogs (``LiveBlogPosting``) are articles whose body is the timeline of
  ``article[id^=block-]`` posts, newest first; the pinned post repeats a timeline block and is
  dropped. Video, audio, galleries, picture (cartoon) and interactive pages are not articles and
  are kept out by URL.
- Feature pages open with a drop cap in its own element, ``<span>W</span>hale whisperer ...``: the
  site layer joins inline elements without a space, so it reads "Whale".
- Newsletter sign-ups ("Sign up to This is Europe", "skip past newsletter promotion"), rich links,
  the sign-in gate and the reader-revenue epic sit inside the body markup and are dropped.
"""
from __future__ import annotations

import re
from typing import Any

from newscrawl.crawling import NewsSpider
from newscrawl.processors import wire_from_credit

# "Associated Press in Valencia" / "Jane Doe in Kyiv and John Roe": the first place named.
_BYLINE_PLACE = re.compile(r"\bin ((?:[A-Z][\w'’.-]*)(?:[ -](?:[A-Z][\w'’.-]*|de|del|el|al|la|of))*)")
# "Forensic teams at the site. Photograph: Jane Doe/Reuters" -> caption, credit (label dropped)
_CAPTION_CREDIT = re.compile(r"^(?P<caption>.*?)\s*\b(?:Photograph|Photo|Composite|Illustration|Image)s?:\s*"
                             r"(?P<credit>[^:]{1,120})$", re.S)

# The standfirst is kept as the body's first paragraph (as the other outlets and the generic layer
# do); then the body's children in document order: paragraphs, subheadings, lists, quotes.
_PARTS = ("p", "h2", "h3", "ul > li", "ol > li", "blockquote")
_DCR_BODY = ", ".join(["[data-gu-name='standfirst'] p"]
                      + [f"#maincontent .article-body-commercial-selector > {x}" for x in _PARTS])
_LEGACY_BODY = ", ".join(["div.content__standfirst > p:first-of-type"]
                         + [f"div[itemprop='articleBody'] > {x}" for x in _PARTS])
# Live blog (only where a #liveblog-body exists): the standfirst, then every text element of each
# post except figure captions and the post footer ("Updated at 12.05 GMT", share buttons).
_LIVE_BODY = ("//*[@data-gu-name='standfirst'][//*[@id='liveblog-body']]//p"
              " | //*[@id='liveblog-body']//article[starts-with(@id, 'block-')]"
              "//*[self::p or self::h2 or self::li][not(ancestor::figure or ancestor::footer or ancestor::li)]")
# The pre-DCR live blog: posts are div.block with their text in .block-elements.
_LEGACY_LIVE_BODY = ("//div[contains(@class, 'js-liveblog-body')]//div[contains(@class, 'block-elements')]"
                     "/*[self::p or self::h2]")


class TheguardianSpider(NewsSpider):
    name = "theguardian"
    publisher = "The Guardian"
    allowed_domains = ["theguardian.com"]
    sitemap_urls = ["https://www.theguardian.com/sitemaps/news.xml"]
    feed_urls = ["https://www.theguardian.com/international/rss"]
    article_allow = r"theguardian\.com/(?:[a-z0-9-]+/){1,3}\d{4}/[a-z]{3}/\d{2}/[a-z0-9-]+/?(?:[?#]|$)"
    # /world/video/2024/..., /artanddesign/gallery/..., /news/audio/..., /commentisfree/picture/...
    article_deny = r"theguardian\.com/(?:[a-z0-9-]+/)*(?:video|audio|gallery|picture|ng-interactive|interactive)/"
    timezone = "Europe/London"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": ("[data-gu-name='headline'] h1", "h1[itemprop='headline']", "h1.content__headline"),
        "authors": (
            "[data-component='meta-byline'] a[rel='author']",
            "[data-gu-name='headline'] a[rel='author']",
            "[data-component='meta-byline']",
            ".content__standfirst a[rel='author']",
        ),
        "wire_source": ("[data-component='meta-byline']",),
        "dateline": ("[data-component='meta-byline']",),
        "body": (_LIVE_BODY, _DCR_BODY, _LEGACY_LIVE_BODY, _LEGACY_BODY),
        "images": (
            "[data-gu-name='media'] figure, figure[data-spacefinder-type$='ImageBlockElement']",
            "figure[itemprop~='image']",
        ),
    }
    drop_selectors = (
        "figure[data-spacefinder-type$='NewsletterSignupBlockElement']",
        "[data-spacefinder-type$='RichLinkBlockElement']",
        "#sign-in-gate",
        "gu-island[name='SlotBodyEnd']",
        "#pinned-post",
        "aside.element-rich-link",
        ".submeta",
    )
    boilerplate = (
        r"skip past newsletter promotion",
        r"after newsletter promotion",
        r"Sign up to [^.!?]{1,60}",
        r"Free (?:daily|weekly|monthly) newsletter",
        r"Privacy Notice: Newsletters may contain info about charities.*",
        r"Explore more on these topics",
        r"Reuse this content",
        r"View image in fullscreen",
        r"(?:Photograph|Composite|Illustration): [^.]{1,80}",
    )

    @staticmethod
    def clean_wire_source(byline: str | None) -> str | None:
        # "Associated Press in Valencia" -> "AP"; "Jane Doe in Kyiv" and "Guardian staff and agencies" -> none
        return wire_from_credit(byline)

    @staticmethod
    def clean_dateline(byline: str | None) -> str | None:
        m = _BYLINE_PLACE.search(byline or "")
        return m.group(1).rstrip(".") if m else None

    @staticmethod
    def clean_images(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for img in images:
            caption = img.get("caption") or ""
            # "Caption. Photograph: X/Y Caption. Photograph: X/Y": DCR's mobile toggle + desktop caption
            half = (len(caption) - 1) // 2
            if half > 0 and caption[half] == " " and caption[:half] == caption[half + 1:]:
                caption = caption[:half]
            m = _CAPTION_CREDIT.match(caption)
            if m and not img.get("credit"):
                caption, img["credit"] = m.group("caption").strip(), m.group("credit").strip()
            img["caption"] = caption or None
        return images
