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
- Photo captions end in the credit and, for handouts, in upper-case notes to editors: "Fire is seen on a
  plane in Kathmandu. @JaneDoe/via REUTERS THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY. NO RESALES.
  NO ARCHIVES." -> caption "Fire is seen on a plane in Kathmandu.", credit "@JaneDoe/via REUTERS".
- Known gap: ``article:tag``/``keywords`` meta hold topic codes ("AER,AERO,INDG08"), which reach
  ``tags`` when a page shows no tag list and has no JSON-LD keywords.
"""
from __future__ import annotations

import re

from newscrawl.crawling import NewsSpider

# Notes to editors appended to handout captions; never part of the caption or the credit.
_EDITOR_NOTES = re.compile(
    r"(?:\s*(?:THIS IMAGE HAS BEEN SUPPLIED BY A THIRD PARTY|MANDATORY CREDIT|NO RESALES|NO ARCHIVES"
    r"|TPX IMAGES OF THE DAY|ATTENTION EDITORS\b[^.]*|REUTERS IS UNABLE TO INDEPENDENTLY VERIFY[^.]*)\.?)+\s*$"
)
_SENTENCE_END = re.compile(r"[.!?”\"]\s+")


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

    @staticmethod
    def clean_images(images: list[dict]) -> list[dict]:
        """Drop notes to editors and split the trailing "... REUTERS" credit off each caption."""
        for img in images:
            caption = img.get("caption")
            if not caption or img.get("credit"):
                continue
            caption = _EDITOR_NOTES.sub("", caption).strip()
            at = caption.rfind("REUTERS")
            ends = [m.end() for m in _SENTENCE_END.finditer(caption, 0, at)] if at > 0 else []
            credit = caption[ends[-1]:].split() if ends else []
            # "REUTERS/Jane Doe", "@handle/via REUTERS", "Jane Doe via REUTERS"; not a sentence naming REUTERS
            if credit and len(credit) <= 8 and any("REUTERS" in w for w in credit[:3]):
                img["caption"], img["credit"] = caption[: ends[-1]].strip(), " ".join(credit)
            else:
                img["caption"] = caption or None
        return images
