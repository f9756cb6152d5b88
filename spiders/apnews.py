"""AP News (apnews.com), the Associated Press's own site.

Publishes a Google News sitemap (``/news-sitemap-content.xml``, listed in robots.txt) with every
story of the last two days. Stories live at ``/article/<slug>-<32 hex digits>``; the same sitemap
family and the site's navigation also carry ``/video/...``, ``/live/...`` (live blogs),
``/hub/...`` (topic fronts) and ``/photo-gallery/...`` pages, which are not articles and are kept
out by ``article_allow``/``article_deny``.

Two page generations are handled:

- Brightspot (since the August 2023 redesign): ``h1.Page-headline``; the byline
  ``div.Page-authors`` ("By ZEKE MILLER and JOSH BOAK", names in capitals); body paragraphs are
  direct ``<p>`` children of ``div.RichTextStoryBody``, interleaved with ``div.Enhancement`` blocks
  (ads, "Related" promo cards, in-story photos, newsletter sign-ups); the lead photo is a
  ``figure.Figure`` in ``div.Page-lead``; timestamps are ``bsp-timestamp[data-timestamp]`` in epoch
  milliseconds, but they show the *update* time, so publish/modify dates come from JSON-LD.
- The React app before it (pages saved until mid-2023): ``div[data-key="article"] > p``, the
  headline in ``[data-key="card-headline"] h1``, the byline the first span of ``div.CardHeadline``'s
  signature; the other class names (``Component-bylines-0-2-19``) are generated and never used.

Quirks:
- Datelines read "WASHINGTON (AP) — ..." (city in capitals, "(AP)", em dash); the clean stage turns
  them into ``dateline="WASHINGTON"``, ``wire_source="AP"``.
- Photo captions end in the credit: "... on Tuesday. (AP Photo/Jane Doe, File)"; the loader splits it
  into caption and credit "AP Photo/Jane Doe, File".
- Bylines are upper case in the HTML ("By PETER McCANDLESS"): ``clean_authors`` recases them
  ("Peter McCandless") before the shared byline splitter runs; a byline of "Associated Press" or
  "The Associated Press" is the agency, not a person, and yields no author.
- The story ends with a "___" rule, then notes: "Associated Press writer Jane Roe in Denver contributed
  to this report." (kept: it is part of the story) and "Follow AP's coverage of ... at https://..." or
  "The Associated Press receives support from ..." (dropped as boilerplate).
"""
from __future__ import annotations

import re

from newscrawl.crawling import NewsSpider

# A byline word set in capitals: "PETER", "O'NEIL", "MARY-ANN", "JR.", and "McCANDLESS" (AP keeps the
# "Mc" of Scottish and Irish names in mixed case inside an upper-case byline).
_CAPS_WORD = re.compile(r"(?<!\w)(?:Ma?c)?[A-Z][A-Z'’-]*[A-Z]\.?(?!\w)")
# The shared paragraph text joins text nodes with a space, so a link followed by punctuation reads
# "recovered from the pandemic , but"; an ellipsis and ".45" are left alone.
_SPACE_BEFORE = re.compile(r"\s+(?=\.(?![.\d])|[,;:!?)\]”%])")
_SPACE_AFTER = re.compile(r"(?<=[(\[“])\s+")
_MIXED_PREFIX = re.compile(r"^(Ma?c)(?=[A-Z])")  # "McCANDLESS", "MacDONALD": the page shows the prefix
_KEEP_CAPS = {"II", "III", "IV", "AP"}


def _recase(word: str) -> str:
    """'McCANDLESS' -> 'McCandless', 'MCCARTHY' -> 'McCarthy', "O'NEIL" -> "O'Neil", 'MARY-ANN' ->
    'Mary-Ann'; 'MACIAS' stays 'Macias' (not 'MacIas'); 'II' stays."""
    if word.rstrip(".") in _KEEP_CAPS:
        return word
    prefix = _MIXED_PREFIX.match(word)
    if prefix:
        rest = word[prefix.end():]
        return prefix.group(1) + rest[:1] + rest[1:].lower()
    titled = word.title().replace("’S", "’s").replace("'S", "'s")
    return re.sub(r"^Mc([a-z])", lambda m: "Mc" + m.group(1).upper(), titled)


class ApnewsSpider(NewsSpider):
    name = "apnews"
    publisher = "Associated Press"
    allowed_domains = ["apnews.com"]
    sitemap_urls = ["https://apnews.com/news-sitemap-content.xml"]
    # "/article/<slug>-<hex32>" (a few old stories have no slug: "/article/<hex32>")
    article_allow = r"apnews\.com/article/(?:[a-z0-9-]+-)?[0-9a-f]{32}/?(?:[?#]|$)"
    article_deny = r"apnews\.com/(?:video|live|hub|photo-gallery|newsletters?)/"
    timezone = "America/New_York"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": ("h1.Page-headline ::text", "[data-key='card-headline'] h1 ::text"),
        "authors": ("div.Page-authors", "//div[contains(concat(' ', @class, ' '), ' CardHeadline ')]/span/span[1]"),
        "body": (
            "div.RichTextStoryBody > p, div.RichTextStoryBody > h2",
            "div[data-key='article'] > p, div[data-key='article'] > h2",
        ),
        "images": ("div.Page-lead figure, div.RichTextStoryBody figure",),
        "tags": ("a[data-key='related-tag'] ::text",),
    }
    drop_selectors = (
        # ad slots, "Related" promo cards and newsletter boxes sit between the paragraphs
        "div.RichTextStoryBody div.Enhancement:not(:has(figure))",
        "div.RichTextStoryBody .Advertisement", "bsp-ad", ".Page-actions", ".SocialShare",
        "#ap-comments", ".viafoura",
    )
    boilerplate = (
        r"_{2,}",  # the "___" rule before the story's end notes
        r"Follow AP['’]s (?:full )?coverage .{0,200}",
        r"Find (?:more of )?AP['’]s (?:full )?coverage .{0,200}",
        # "The Associated Press’ climate coverage receives financial support from ... AP is solely ..."
        r"(?:The )?Associated Press(?:['’]s?)? [\w ,-]{0,60}?(?:coverage )?receives (?:financial )?support from .{0,400}",
        r"AP is solely responsible for all content\.?",
        r"Get AP News stories every morning\.?|Sign up for AP['’]s .{0,120}newsletter.{0,150}",
        r"Copyright \d{4} The Associated Press\. All rights reserved\..{0,200}",
    )

    @staticmethod
    def clean_authors(value: list[str] | None) -> list[str] | None:
        """'By PETER McCANDLESS and ANA RUIZ' -> 'By Peter McCandless and Ana Ruiz' (split later)."""
        if not value:
            return value
        return [_CAPS_WORD.sub(lambda m: _recase(m.group()), v) for v in value]

    @staticmethod
    def clean_body(paragraphs: list[str] | None) -> list[str] | None:
        """'from the pandemic , but' -> 'from the pandemic, but' (see _SPACE_BEFORE)."""
        if not paragraphs:
            return paragraphs
        return [_SPACE_AFTER.sub("", _SPACE_BEFORE.sub("", p)) for p in paragraphs]
