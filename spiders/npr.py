"""NPR (npr.org), the US public radio network.

Discovered through NPR's RSS feeds on ``feeds.npr.org`` ("1001" = News, "1002" = Home page top
stories, "1004" = World, "1014" = Politics). Stories live at ``/YYYY/MM/DD/<id>/<slug>``, also under a
blog or section prefix (``/sections/health-shots/2024/03/05/<id>/<slug>``); the id is numeric
("1234567890") or, since 2024, a CMS id like "g-s1-12345" or "nx-s1-5012345". The feeds also link
``/transcripts/<id>`` (the broadcast text of a radio story that has its own page),
``/podcasts/...`` and ``/series/...`` (index pages) and ``/live-updates/...``: not articles.

Page markup (the "Seamus" story template): ``article.story`` holds ``div.storytitle h1``, the
section slug ``div.slug-wrap h3.slug a``, bylines ``.byline__name`` (a link to ``/people/...``),
``time[datetime]`` with a full offset ("2024-03-05T05:00:41-05:00") and the body ``div#storytext``
whose direct ``<p>`` children are the paragraphs. Photos are ``div.bucketwrap.image`` blocks: an
``img``, ``div.caption`` and ``span.credit`` ("Jane Doe/NPR", "Mark Lennihan/AP").

Quirks:
- Captions are not ``<figcaption>``s, and the shared figure reader takes a caption only from a
  figcaption or the ``alt``: the ``div.caption-wrap`` is dropped so that ``span.credit`` is read
  as the credit alone, and the caption comes from ``alt`` (NPR fills it with the caption text).
- Each photo is repeated in a hidden "enlarge" overlay (``.enlarge_html``) with "hide caption" /
  "toggle caption" button labels: dropped.
- Radio stories ("Heard on Morning Edition") put the broadcast transcript in ``div.transcript``
  under the story: speaker lines such as "STEVE INSKEEP, HOST:" are content; the trailing notice
  "Copyright © 2024 NPR. All rights reserved. ..." and "NPR transcripts are created on a rush
  deadline ..." (``p.disclaimer``) are not.
- JSON-LD author names are lists: ``"author": {"@type": "Person", "name": ["Jane Doe"]}``.
- Agency copy is bylined "The Associated Press" (no person): ``clean_wire_source`` turns the byline
  into ``wire_source="AP"``, and the shared byline splitter keeps the agency out of ``authors``.
- Sponsor messages (``aside.ad-wrap``, "Sponsor Message"), "Related" insets
  (``div.bucketwrap.internallink``) and newsletter sign-ups sit between paragraphs.
"""
from __future__ import annotations

import re

from newscrawl.crawling import NewsSpider
from newscrawl.processors import wire_from_credit

# The shared paragraph text joins text nodes with a space, so a link followed by punctuation reads
# "told NPR ." ; an ellipsis and ".45" are left alone.
_SPACE_BEFORE = re.compile(r"\s+(?=\.(?![.\d])|[,;:!?)\]”%])")
_SPACE_AFTER = re.compile(r"(?<=[(\[“])\s+")


class NprSpider(NewsSpider):
    name = "npr"
    publisher = "NPR"
    allowed_domains = ["npr.org"]
    feed_urls = [
        "https://feeds.npr.org/1001/rss.xml",
        "https://feeds.npr.org/1002/rss.xml",
    ]
    article_allow = r"npr\.org/(?:sections/[\w-]+/)?\d{4}/\d{2}/\d{2}/(?:\d{6,}|[a-z]{1,3}-[a-z0-9]{1,4}-\d{3,})/[\w-]+"
    article_deny = r"npr\.org/(?:transcripts|podcasts|series|live-updates|programs)/"
    timezone = "America/New_York"
    language = "en"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0}

    selectors = {
        "headline": ("article.story .storytitle h1 ::text", "div.storytitle h1 ::text"),
        "authors": ("article.story .byline__name",),
        "wire_source": ("article.story .byline__name",),
        "section": ("article.story .slug-wrap .slug a ::text", "article.story .slug-wrap .slug ::text"),
        "published_at": ("article.story .story-meta .dateblock time::attr(datetime)",),
        "body": ("//div[@id='storytext']/p | //div[@id='storytext']/h3 | //div[contains(concat(' ', @class, ' '),"
                 " ' transcript ')]/p[not(contains(@class, 'disclaimer'))]",),
        "images": ("#storytext div.bucketwrap.image",),
    }
    drop_selectors = (
        ".enlarge_html", ".enlarge_measure", ".hide-caption", ".toggle-caption",
        "div.bucketwrap.image .caption-wrap",
        "aside.ad-wrap", "#storytext .bucketwrap.internallink", "#storytext .bucketwrap.newsletter",
        "#storytext .bucketwrap.related", ".share-tools",
    )
    boilerplate = (
        r"Sponsor Message",
        r"Copyright © \d{4} NPR\. All rights reserved\..{0,300}",
        r"NPR transcripts are created on a rush deadline.{0,400}",
        r"Sign up for (?:the )?.{0,60}newsletter.{0,200}",
        r"Have a question\? .{0,150}\bnpr\.org\b.{0,80}",
    )

    @staticmethod
    def clean_body(paragraphs: list[str] | None) -> list[str] | None:
        """'told NPR , adding' -> 'told NPR, adding' (see _SPACE_BEFORE)."""
        if not paragraphs:
            return paragraphs
        return [_SPACE_AFTER.sub("", _SPACE_BEFORE.sub("", p)) for p in paragraphs]

    @staticmethod
    def clean_wire_source(byline: str | None) -> str | None:
        """A byline of "The Associated Press" is agency copy; a reporter's name is not a wire credit."""
        return wire_from_credit(byline) if byline else None
