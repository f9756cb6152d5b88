"""BBC News (bbc.com/news and bbc.co.uk/news).

Publishes Google News sitemap indexes per edition (``/sitemaps/https-index-com-news.xml`` on
bbc.com, ``/sitemaps/https-index-uk-news.xml`` on bbc.co.uk, both in robots.txt) and RSS feeds on
``feeds.bbci.co.uk``. The same story is served on both hosts; ``link rel=canonical`` names one.
Stories are ``/news/articles/<id>`` (ids like "c0k8e2x1q9lo", since 2024) or the older
``/news/<section>-<8 digits>`` ("/news/world-us-canada-33646704"). The feeds and sitemaps also list
``/news/live/...`` (live pages: a stream of timestamped posts), ``/news/videos/...`` and
``/news/av/...`` (a player and a caption), ``/news/topics/...`` (index pages) and ``/sport/...``:
none is a news article, so ``article_allow``/``article_deny`` keep them out.

Two page generations are handled:

- Next.js pages (2023 on): blocks marked with ``data-component`` ("headline-block",
  "byline-block", "text-block", "subheadline-block", "image-block", "caption-block", "tags",
  "ad-slot", "links-block"); inner elements also carry ``data-testid``. The ``sc-...`` class names
  are generated per build and never used.
- The older story template (to 2023): ``h1.story-body__h1``, ``div.story-body__inner
  [property=articleBody]`` with ``p``, ``h2.story-body__crosshead`` and ``ul`` lists,
  ``span.byline__name``, ``div.date[data-seconds]``.

Quirks:
- A byline names the reporter and then a role line: "Jane Doe" + "BBC News, Washington" (or
  "Political correspondent", "Reporting from Kyiv"). Only the name element is read, so "Washington"
  never becomes an author. Most stories have no byline at all, and the JSON-LD author is then the
  organisation ("BBC News"), which is not a person.
- Lists inside text blocks are either real bullet points (kept) or "related stories" links
  (``<li><a>Budget: Key points at a glance</a></li>``, dropped): an item counts only when it has
  text of its own outside the link.
- Each image starts with a grey placeholder ``<img src="/bbcx/grey-placeholder.png">`` (dropped);
  old pages prefix captions and credits with hidden labels "Image caption"/"Image copyright"
  (``.off-screen``, dropped) and the credit sits in ``span.story-image-copyright`` ("Getty Images").
  On Next.js pages the credit is a bare ``<span>`` next to the image with a generated class only,
  so it is not read (the caption is).
- Closing lines such as "Sign up for our Politics Essential newsletter ..." and "Follow BBC ... on
  X" are boilerplate.
"""
from __future__ import annotations

import re

from newscrawl.crawling import NewsSpider

# Presentational images: a 2px grey rule between sections, a spacer.
_DIVIDERS = {"line", "presentational grey line", "presentational white space"}
_LEADING_CREDIT = re.compile(r"^(Getty Images|Reuters|EPA-EFE|EPA|AFP|PA Media|Shutterstock|Alamy|Bloomberg)\s+(\S.*)$")
# ichef resizes on the fly to standard widths: ".../news/480/cpsprodpb/..." -> ".../news/1024/cpsprodpb/..."
_ICHEF_WIDTH = re.compile(r"^(https?://ichef(?:-\d)?\.bbci\.co\.uk/(?:news|ace/(?:standard|ws))/)\d{2,4}/")
# The shared paragraph text joins text nodes with a space, so a link followed by punctuation reads
# "the OBR ." and a bracketed link "( the report )"; an ellipsis and ".45" are left alone.
_SPACE_BEFORE = re.compile(r"\s+(?=\.(?![.\d])|[,;:!?)\]”%])")
_SPACE_AFTER = re.compile(r"(?<=[(\[“])\s+")


def _tighten(text: str) -> str:
    return _SPACE_AFTER.sub("", _SPACE_BEFORE.sub("", text))


_NEW = "//article//div[@data-component='{}']"
_OLD = "//div[@property='articleBody']"


class BbcSpider(NewsSpider):
    name = "bbc"
    publisher = "BBC News"
    allowed_domains = ["bbc.com", "bbc.co.uk", "feeds.bbci.co.uk"]
    sitemap_urls = [
        "https://www.bbc.com/sitemaps/https-index-com-news.xml",
        "https://www.bbc.co.uk/sitemaps/https-index-uk-news.xml",
    ]
    feed_urls = ["https://feeds.bbci.co.uk/news/rss.xml"]
    # "/news/articles/c0k8e2x1q9lo" or "/news/world-us-canada-33646704" (also "/news/63588631")
    article_allow = r"bbc\.(?:com|co\.uk)/news/(?:articles/[a-z0-9]{8,16}|(?:[a-z0-9_]+-)*\d{7,9})/?(?:[?#]|$)"
    article_deny = r"bbc\.(?:com|co\.uk)/news/(?:live|videos|av|topics|in_pictures|reality_check/av)/"
    timezone = "Europe/London"
    language = "en-GB"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": (
            "article [data-component='headline-block'] h1 ::text",
            "h1.story-body__h1 ::text",
            "h1#main-heading ::text",
        ),
        "authors": (
            # Next.js: the name is the contributor's first span; the role line sits in a nested div
            "[data-testid='byline-new-contributors'] > div > span",
            # 2021-23 pages: "ssrcss-68pt20-TextContributorName" (hashed prefix, stable component suffix)
            "[data-component='byline-block'] [class*='-TextContributorName']",
            ".byline__name",
        ),
        "body": (
            f"{_NEW.format('text-block')}//p | {_NEW.format('subheadline-block')}//h2"
            f" | {_NEW.format('text-block')}//li[text()[normalize-space()]]",
            f"{_OLD}/p | {_OLD}/h2 | {_OLD}/ul/li[text()[normalize-space()]]",
        ),
        "images": (
            "article figure:has([data-component='image-block'])",
            "div[property='articleBody'] figure:has(img)",
        ),
        "tags": (
            "article [data-component='tags'] a ::text",
            "[data-component='topic-list'] li ::text",
            ".tags-list a ::text",
        ),
    }
    drop_selectors = (
        "img[src*='grey-placeholder']",
        "[data-component='ad-slot']", "[data-component='links-block']",
        ".visually-hidden", ".off-screen",
        ".bbccom_slot", ".bbccom_advert", ".social-embed", ".twite", ".share",
    )
    boilerplate = (
        r"Sign up for our .{0,80}newsletter.{0,200}",
        # "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube."
        r"Follow (?:BBC |the BBC |us |@)?[\w&' ]{0,50}? on "
        r"(?:Facebook|X|Twitter|Instagram|TikTok|YouTube|Snapchat)\b.{0,150}",
        # "Listen to Newsbeat live at 12:45 and 17:45 weekdays - or listen back here."
        r"Listen to .{0,80}(?:live at|on (?:BBC )?Sounds|listen back).{0,200}",
        r"Get in touch",
        r"(?:Watch|Related): .{0,120}",
        r"Media caption,? .{0,200}",
        r"Image (?:source|caption|copyright),? .{0,120}",
    )

    @staticmethod
    def clean_body(paragraphs: list[str] | None) -> list[str] | None:
        """Undo the space the shared text join puts after an inline link: "the OBR ." -> "the OBR."."""
        return [_tighten(p) for p in paragraphs] if paragraphs else paragraphs

    @staticmethod
    def clean_images(images: list[dict] | None) -> list[dict] | None:
        """Drop divider images; split the credit that Next.js pages put first in the alt text; ask
        the image server for the 1024px rendition instead of the 320/480px ``src``.

        A hero image without a figcaption reads its caption from ``alt``, which on Next.js pages is
        the credit then the description: "Getty Images City of London timelapse"."""
        out = []
        for img in images or ():
            caption = (img.get("caption") or "").strip()
            if caption.casefold() in _DIVIDERS:
                continue
            m = _LEADING_CREDIT.match(caption)
            if m and not img.get("credit"):
                img = {**img, "caption": m.group(2), "credit": m.group(1)}
            if isinstance(img.get("url"), str):
                img = {**img, "url": _ICHEF_WIDTH.sub(r"\g<1>1024/", img["url"])}
            out.append(img)
        return out
