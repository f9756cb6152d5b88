"""Anadolu Agency (aa.com.tr), Türkiye's state-run wire service, in Turkish, English, Arabic and more.

How it publishes: one RSS feed per language section (``https://www.aa.com.tr/en/rss/default?cat=guncel``,
``/tr/rss/default?cat=guncel``). Article URLs are ``/<language>/<category>/<slug>/<numeric id>``
(``/tr/ekonomi/elektrikli-arac-sayisi-artti/3529015``, ``/en/energy/general/solar-record/3529016``);
photo and video galleries (``/tr/pg/foto-galeri/...``, ``/en/vg/video-gallery/...``), infographics
(``/tr/info/...``) and static pages (``/tr/p/abonelik-talep-formu/1001``) share the feeds and host and
are kept out by ``article_allow``/``article_deny``.

Quirks:
- The article template (``div.detay-spot-category`` header, ``div.detay-icerik`` text) has no JSON-LD
  and no ``<html lang>``. The byline is an unclassed ``<span>`` before the date, "Jane Doe &nbsp;|".
- Dates are day first without a time, "05.04.2025 - Güncelleme : 05.04.2025" (English "Update :"):
  the first is the publish date, the last the update. dateutil would read "05.04.2025" as May 4, so the
  clean hooks rebuild ISO dates; the outlet's zone is Europe/Istanbul.
- The dateline is its own ``<h6>Ankara</h6>`` above the text; older copy opens the first paragraph
  with it instead, "ANKARA (AA) - Turkish officials ...": either gives ``dateline``, and the agency
  credit "(AA)" gives ``wire_source`` "Anadolu" (as does the subscription notice every article ends
  with, "Anadolu Agency website contains only a portion of the news stories offered to subscribers").
- The standfirst is an ``<h4>`` under the headline and is kept as the body's first paragraph.
- Photo credits read "Photo: Jane Doe - Anadolu Agency" / "Fotoğraf: Jane Doe - AA": in the
  ``<span class="detay-foto-editor">`` right after the lead ``<img>``, or at the end of a caption. The
  2026 redesign (``<figure>``/``<figcaption>``, text in ``<div dir="ltr">``, JSON-LD NewsArticle) is
  covered by fallback selectors, and its JSON-LD feeds the structured-data layer on its own.
- The language section of the URL names the language when the page does not (``/ba/`` is the Bosnian
  service, "bs").
"""
from __future__ import annotations

import re

from newscrawl import processors as p
from newscrawl.crawling import NewsSpider

_CLS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"
_SPOT = f"//div[{_CLS.format('detay-spot-category')}]"
_TEXT = f"//div[{_CLS.format('detay-icerik')}]"

_DAY_FIRST = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2}))?")
_LANG_PATH = re.compile(r"^https?://[^/]*aa\.com\.tr/([a-z]{2})/", re.I)
_LANG_FIXES = {"ba": "bs"}  # the Balkan service lives under /ba/ but writes Bosnian
_PHOTO_CREDIT = re.compile(
    r"\s*(?:Photo|Fotoğraf|Foto|Fotografija|Фото)\s*:\s*(?P<credit>[^:]{2,100}?)\s*\.?\s*$"
)


def _iso(match: re.Match[str]) -> str:
    day, month, year, hour, minute = match.groups()
    date = f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{date}T{int(hour):02d}:{minute}:00" if hour else date


class AnadoluSpider(NewsSpider):
    name = "anadolu"
    publisher = "Anadolu Agency"
    allowed_domains = ["aa.com.tr"]
    feed_urls = [
        "https://www.aa.com.tr/en/rss/default?cat=guncel",
        "https://www.aa.com.tr/tr/rss/default?cat=guncel",
    ]
    # category and slug are Arabic or Cyrillic on those services ("/ar/%D8%A7.../3529015")
    article_allow = r"aa\.com\.tr/[a-z]{2}/(?:[^/?#]+/){1,2}[^/?#]+/\d{5,}/?(?:[?#]|$)"
    article_deny = r"aa\.com\.tr/[a-z]{2}/(?:pg|vg|info|p|search|rss)/"
    timezone = "Europe/Istanbul"
    custom_settings = {"AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}

    selectors = {
        "headline": f"{_SPOT}/h1",
        "description": f"{_SPOT}/h4",
        "authors": f"{_SPOT}/div/span[not({_CLS.format('tarih')})]",
        "published_at": f"{_SPOT}//span[{_CLS.format('tarih')}]",
        "modified_at": f"{_SPOT}//span[{_CLS.format('tarih')}]",
        "section": f"{_SPOT}//span[{_CLS.format('detay-news-category')}]//a",
        "tags": f"{_TEXT}//div[{_CLS.format('detay-paylas')}]//a[contains(@href, 'tag=1')]",
        "language": ("/html/@lang", "link[rel='canonical']::attr(href)", "meta[property='og:url']::attr(content)"),
        "dateline": (f"{_TEXT}/h6[1]", f"({_TEXT}/div/p)[1]", "(//div[@dir]/p)[1]"),
        "wire_source": (f"({_TEXT}/div/p)[1][contains(., '(AA)')]", "(//div[@dir]/p)[1][contains(., '(AA)')]",
                        f"{_TEXT}//span[{_CLS.format('detay-foto-editor')}]//a"),
        "body": (
            f"{_SPOT}/h4 | {_TEXT}/h6 | {_TEXT}/div/*[self::p or self::h3 or self::h2 or self::blockquote]",
            "//div[@dir]/*[self::p or self::h2 or self::h3]",  # 2026 redesign
        ),
        "images": (f"//img[{_CLS.format('detay-buyukFoto')}] | {_TEXT}/div/p/img | {_TEXT}//figure",
                   "//figure[.//img][not(ancestor::aside or ancestor::footer)]"),
        # the lead photo's credit is the <span class="detay-foto-editor"> right after the <img>
        "image_credit": f"./following-sibling::*[1][self::span][{_CLS.format('detay-foto-editor')}]",
    }
    drop_selectors = (
        ".social-left",
        ".detay-gundemdekiler",
        ".detay-benzerHaberler",
        ".ad",
    )
    boilerplate = (
        # the subscription notice closing every article, in Turkish and English
        r"Anadolu Ajansı web sitesinde.*abonelere.*",
        r"Anadolu Agency website contains only a portion of the news stories.*",
        r"Abonelik için lütfen iletişime geçiniz\.?|Please contact us for subscription options\.?",
    )

    @staticmethod
    def clean_published_at(value: str | None) -> str | None:
        # "05.04.2025 - Güncelleme : 06.04.2025" -> "2025-04-05" (the first stamp)
        m = _DAY_FIRST.search(value or "")
        return _iso(m) if m else None

    @staticmethod
    def clean_modified_at(value: str | None) -> str | None:
        # the stamp after "Güncelleme :" / "Update :" -> "2025-04-06"; none when only one stamp
        stamps = list(_DAY_FIRST.finditer(value or ""))
        return _iso(stamps[-1]) if len(stamps) > 1 else None

    @staticmethod
    def clean_dateline(value: str | None) -> str | None:
        # "<h6>Ankara</h6>" as written; "ANKARA (AA) - Turkish ..." -> "ANKARA"
        text = (value or "").strip()
        if text and len(text) <= 40 and len(text.split()) <= 4 and not re.search(r"[.!?]\s", text):
            return text
        return p.parse_dateline(text)[0]

    @staticmethod
    def clean_wire_source(value: str | None) -> str | None:
        # "ANKARA (AA) - ..." or the subscription notice "Anadolu Ajansı web sitesinde..." -> "Anadolu"
        return p.wire_from_credit(value)

    @staticmethod
    def clean_language(value: str | None) -> str | None:
        if value and "://" in value:
            m = _LANG_PATH.match(value)
            return _LANG_FIXES.get(m.group(1).lower(), m.group(1)) if m else None
        return value

    @staticmethod
    def clean_images(images: list[dict]) -> list[dict]:
        """Split "Photo: Jane Doe - Anadolu Agency" off a caption; drop that label from a credit."""
        for img in images:
            caption, credit = img.get("caption"), img.get("credit")
            m = _PHOTO_CREDIT.search(caption) if caption and not credit else None
            if m:  # "Rescue teams in Hatay. Photo: Jane Doe - Anadolu Agency"
                img["caption"] = caption[: m.start()].strip() or None
                img["credit"] = m.group("credit")
            elif credit:  # the lead photo's span "Fotoğraf: Jane Doe - AA" -> "Jane Doe - AA"
                m = _PHOTO_CREDIT.match(credit)
                img["credit"] = m.group("credit") if m else credit
        return images
