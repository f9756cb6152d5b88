"""Tests for article discovery: sitemap/feed/section parsing and the NewsSpider base."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from newscrawl.crawling import DEPTH_META, HINT_META, NewsSpider
from newscrawl.discovery import (
    Link,
    clean_url,
    extract_article_links,
    is_recent,
    looks_like_article,
    normalise_date,
    parse_feed,
    parse_since,
    parse_sitemap,
)

REPO = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures" / "discovery"
SITE = "https://www.millbrook-courier.example"
UTC = timezone.utc


def fixture(name: str) -> bytes:
    return (FIX / name).read_bytes()


# --------------------------------------------------------------------------- sitemaps


NEWS_SITEMAP_LINKS = [
    Link(
        url=f"{SITE}/2026/11/24/river-festival-draws-record-crowd",
        lastmod="2026-11-24T18:05:00+01:00",
        published="2026-11-24T17:30:00+01:00",
        title="River festival draws record crowd",
        language="en",
        keywords=("festival", "river", "Millbrook"),
    ),
    Link(
        url=f"{SITE}/2026/11/25/council-approves-new-cycle-lanes?ref=7",
        published="2026-11-25T00:00:00+00:00",
        title="Council approves new cycle lanes & crossings",
        language="de",
    ),
    Link(url=f"{SITE}/2026/11/20/bakery-wins-regional-bread-award", lastmod="2026-11-20T09:00:00+00:00"),
    # Unparseable dates ("last Tuesday") become None rather than garbage strings.
    Link(url=f"{SITE}/2026/11/23/school-choir-tours-coastal-towns", title="School choir tours coastal towns"),
]


def test_news_sitemap_fields() -> None:
    result = parse_sitemap(fixture("news_sitemap.xml"), f"{SITE}/news-sitemap.xml")
    assert result.errors == []
    assert not result.is_index and not result.truncated
    # image:loc ignored, fragment duplicate collapsed, javascript: and loc-less entries dropped,
    # wrapped <loc> whitespace removed, utm_* stripped while ref=7 kept.
    assert result.links == NEWS_SITEMAP_LINKS


def test_gzip_sniffed_by_magic_not_url() -> None:
    plain = fixture("news_sitemap.xml")
    gz = fixture("news_sitemap.xml.gz")
    assert gz[:2] == b"\x1f\x8b"
    # Compressed body under a .xml URL, and an already-inflated body under a .xml.gz URL.
    assert parse_sitemap(gz, f"{SITE}/news.xml").links == NEWS_SITEMAP_LINKS
    assert parse_sitemap(plain, f"{SITE}/news.xml.gz").links == NEWS_SITEMAP_LINKS
    # Two gzip members concatenated still parse as one document.
    double = gzip.compress(plain[: len(plain) // 2]) + gzip.compress(plain[len(plain) // 2 :])
    assert parse_sitemap(double).links == NEWS_SITEMAP_LINKS


def test_sitemap_index() -> None:
    result = parse_sitemap(fixture("sitemap_index.xml"), f"{SITE}/sitemap_index.xml")
    assert result.is_index and result.errors == []
    assert [(link.url, link.lastmod, link.kind) for link in result.links] == [
        (f"{SITE}/sitemaps/news.xml", "2026-11-25T08:00:00+00:00", "sitemap"),
        (f"{SITE}/sitemaps/archive-2019-03.xml.gz", "2019-03-31T23:59:59+00:00", "sitemap"),
        (f"{SITE}/sitemaps/sections.xml", None, "sitemap"),  # relative loc resolved
    ]


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_attacks_refused(name: str) -> None:
    body = fixture(name)
    started = time.perf_counter()
    result = parse_sitemap(body, f"{SITE}/x.xml")
    links = parse_feed(body, f"{SITE}/x.xml")
    assert time.perf_counter() - started < 1.0
    assert result.links == [] and links == []
    assert any("entities" in e for e in result.errors)
    # Also hidden behind gzip.
    assert parse_sitemap(gzip.compress(body)).links == []


def test_entity_refs_never_expanded_even_past_prescan() -> None:
    # Push the DTD past the 64 KB pre-scan window with a leading comment: the post-parse
    # DTD check must still refuse, and nothing may read /etc/passwd.
    body = b'<?xml version="1.0"?><!--' + b"x" * 70_000 + b"-->" + fixture("xxe.xml").split(b"?>", 1)[1]
    result = parse_sitemap(body)
    assert result.links == []
    assert parse_feed(body) == []
    # A plain DOCTYPE without entity declarations is harmless and still parsed.
    ok = b'<?xml version="1.0"?><!DOCTYPE urlset><urlset><url><loc>https://a.example/x-y-z-w</loc></url></urlset>'
    assert [link.url for link in parse_sitemap(ok).links] == ["https://a.example/x-y-z-w"]


def test_gzip_bomb_is_capped() -> None:
    # 64 MB of whitespace after a valid first entry compresses to ~64 KB.
    head = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/first-entry-kept-here</loc></url>'
    buf = io.BytesIO()  # stream-compress so the test itself never holds 64 MB
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(head)
        block = b" " * (1 << 20)
        for _ in range(64):
            f.write(block)
        f.write(b"<url><loc>https://a.example/never-reached-entry-here</loc></url></urlset>")
    bomb = buf.getvalue()
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        started = time.perf_counter()
        result = parse_sitemap(bomb, max_bytes=1 << 20)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated
    assert [link.url for link in result.links] == ["https://a.example/first-entry-kept-here"]
    assert any("exceeds" in e for e in result.errors)
    assert peak < 16 * (1 << 20), peak
    assert elapsed < 2.0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"\x00\x01\x02\x03binary",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x1f\x8b\x08\x00garbage-not-deflate",
        gzip.compress(b"<urlset><url><loc>https://a.example/x")[:-12],
        b'{"items": 3}',
        b"<rss><channel><item><link>",
        b"<<<>>>",
    ],
)
def test_garbage_never_raises(body: bytes) -> None:
    result = parse_sitemap(body, f"{SITE}/s.xml")
    assert isinstance(result.errors, list)
    assert all(link.url.startswith("https://") for link in result.links)
    assert isinstance(parse_feed(body, f"{SITE}/f.xml"), list)


def test_html_error_page() -> None:
    result = parse_sitemap(fixture("error_page.html"), f"{SITE}/sitemap.xml")
    assert result.links == [] and not result.is_index
    assert result.errors == ["not a sitemap: root element is <html>"]
    assert parse_feed(fixture("error_page.html"), f"{SITE}/rss") == []


def test_text_sitemap() -> None:
    result = parse_sitemap(fixture("sitemap.txt"), f"{SITE}/sitemap.txt")
    assert [link.url for link in result.links] == [
        f"{SITE}/2026/11/25/harbour-crane-restored",
        f"{SITE}/2026/11/25/library-extends-opening-hours",
    ]


def test_max_urls_truncates() -> None:
    entries = "".join(f"<url><loc>https://a.example/story-number-{i}-here</loc></url>" for i in range(30))
    result = parse_sitemap(f"<urlset>{entries}</urlset>".encode(), max_urls=10)
    assert len(result.links) == 10 and result.truncated
    assert result.links[-1].url == "https://a.example/story-number-9-here"


# --------------------------------------------------------------------------- feeds


def test_rss() -> None:
    links = parse_feed(fixture("rss.xml"), f"{SITE}/rss")
    assert links == [
        Link(
            url=f"{SITE}/2026/11/25/ferry-timetable-changes-for-winter",
            published="2026-11-25T07:15:00+00:00",
            title="Ferry timetable changes for winter",
            language="en-GB",
            keywords=("Transport", "Harbour"),
        ),
        Link(  # permalink guid, dc:date, dc:subject
            url=f"{SITE}/2026/11/24/allotment-society-elects-new-chair",
            published="2026-11-24T16:45:00+01:00",
            title="Allotment society elects new chair",
            language="en-GB",
            keywords=("Community",),
        ),
        Link(url=f"{SITE}/2026/11/23/museum-reopens-east-wing", title="Relative link with odd date", language="en-GB"),
    ]


def test_atom() -> None:
    links = parse_feed(fixture("atom.xml"), f"{SITE}/fr/atom.xml")
    assert links == [
        Link(
            url=f"{SITE}/fr/2026/11/25/le-marche-de-noel-ouvre",
            published="2026-11-25T08:00:00+01:00",
            lastmod="2026-11-25T08:30:00+01:00",
            title="Le marché de Noël ouvre ses portes",
            language="fr",
            keywords=("Culture", "Noël"),
        ),
        Link(
            url=f"{SITE}/2026/11/24/bridge-repairs-finish-early",
            lastmod="2026-11-24T12:00:00+00:00",
            title="Bridge repairs finish early",
            language="en",
        ),
    ]


def test_json_feed() -> None:
    links = parse_feed(fixture("feed.json"), f"{SITE}/feed.json")
    assert links == [
        Link(
            url=f"{SITE}/2026/11/25/night-bus-pilot-extended",
            published="2026-11-25T05:00:00+00:00",
            lastmod="2026-11-25T06:00:00+00:00",
            title="Night bus pilot extended",
            language="en",
            keywords=("Transport", "Night life"),
        ),
        Link(
            url=f"{SITE}/2026/11/24/swimming-pool-roof-repaired",
            published="2026-11-24T10:00:00-05:00",
            title="Swimming pool roof repaired",
            language="es",
        ),
    ]


def test_feed_tracking_params_and_duplicates() -> None:
    links = parse_feed(fixture("rss_tracking.xml"), f"{SITE}/rss")
    assert [link.url for link in links] == [
        f"{SITE}/2026/11/25/tram-line-extension-opens",
        f"{SITE}/gallery?id=42&q=old%20mill",  # real params kept with their encoding
    ]
    assert links[0].title == "Tram line extension opens"  # first occurrence wins


def test_max_items() -> None:
    items = "".join(f"<item><link>https://a.example/item-{i}</link></item>" for i in range(20))
    assert len(parse_feed(f"<rss><channel>{items}</channel></rss>".encode(), max_items=5)) == 5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tue, 25 Nov 2026 07:15:00 GMT", "2026-11-25T07:15:00+00:00"),
        ("Tue, 25 Nov 2026 07:15:00 -0500", "2026-11-25T07:15:00-05:00"),
        ("2026-11-25T07:15:00Z", "2026-11-25T07:15:00+00:00"),
        ("2026-11-25T07:15:00z", "2026-11-25T07:15:00+00:00"),
        ("2026-11-25T07:15:00.250+05:30", "2026-11-25T07:15:00.250000+05:30"),
        ("2026-11-25T07:15", "2026-11-25T07:15:00+00:00"),
        ("2026-11-25", "2026-11-25T00:00:00+00:00"),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_date(raw: str | None, expected: str | None) -> None:
    assert normalise_date(raw) == expected


def test_clean_url() -> None:
    assert clean_url("HTTPS://WWW.Example.com/A?utm_source=x&b=1&FBCLID=2#f") == "https://www.example.com/A?b=1"
    assert clean_url("/x", "https://a.example/y/") == "https://a.example/x"
    assert clean_url("mailto:a@b.example") is None
    assert clean_url("http://[broken") is None
    assert clean_url("   ") is None
    assert clean_url(" https://a.example/long-\n      slug here ") == "https://a.example/long-slug%20here"


# --------------------------------------------------------------------------- since window

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T06:00:00+08:00", datetime(2026, 11, 19, 22, 0, tzinfo=UTC)),
        ("2026-11-20T06:00:00", datetime(2026, 11, 20, 6, 0, tzinfo=UTC)),
        ("2026-11-20T06:00:00Z", datetime(2026, 11, 20, 6, 0, tzinfo=UTC)),
        ("48h", NOW - timedelta(hours=48)),
        ("2d", NOW - timedelta(days=2)),
        ("90m", NOW - timedelta(minutes=90)),
        ("1w", NOW - timedelta(weeks=1)),
        (" 2D ", NOW - timedelta(days=2)),
    ],
)
def test_parse_since(value: str | None, expected: datetime | None) -> None:
    got = parse_since(value, now=NOW)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "48", "h", "-2d", "2026-13-01", "48 hours", "1y", "999999w"])
def test_parse_since_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="invalid since value"):
        parse_since(value, now=NOW)


def test_parse_since_defaults_to_utc_now() -> None:
    got = parse_since("1h")
    assert got is not None and abs((datetime.now(UTC) - got) - timedelta(hours=1)) < timedelta(seconds=5)


def test_is_recent() -> None:
    since = NOW - timedelta(days=2)
    assert is_recent(Link("u", published="2026-11-25T00:00:00+00:00"), since)
    assert not is_recent(Link("u", published="2026-11-01T00:00:00+00:00"), since)
    # published wins over a recent lastmod: an old story with a typo fix is still old.
    assert not is_recent(Link("u", published="2026-11-01T00:00:00+00:00", lastmod="2026-11-25T00:00:00Z"), since)
    assert is_recent(Link("u", lastmod="2026-11-24T00:00:00+00:00"), since)
    assert not is_recent(Link("u", lastmod="2026-11-22T00:00:00+00:00"), since)
    assert is_recent(Link("u"), since)  # undated: kept
    assert is_recent(Link("u", published="2020-01-01T00:00:00+00:00"), None)
    boundary = Link("u", published=since.isoformat())
    assert is_recent(boundary, since)


# --------------------------------------------------------------------------- section pages


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/2026/11/25/storm-closes-road", True),
        ("https://a.example/2026/nov/25/storm", True),
        ("https://a.example/2026-11-25/storm", True),
        ("https://a.example/world/storm-closes-coast-road", True),
        ("https://a.example/news/world-67543210", True),
        ("https://a.example/a/1234567.html", True),
        ("https://a.example/live/2026/nov/25/budget-day-as-it-happened", True),
        ("https://a.example/2026/11/25/", False),  # day archive
        ("https://a.example/2026/11/", False),  # month archive
        ("https://a.example/2018/04/harbour-crocodile.html", True),
        ("https://a.example/articles/20250114/k00/00m/030/335000c", True),
        ("https://a.example/world/20241203-ABC1T50218/", True),
        ("https://a.example/artikel/474126.some-title.html", True),
        ("https://a.example/sport/bubi-bomber-wieder-da-83936220.bild.html", True),
        ("https://a.example/nachrichten/kirche-will-missbrauch-aufarbeiten,UAf9GNd", True),
        ("https://a.example/sport/trainer-hat-nicht-mehr-viel-zu-verlieren-1019241/artikel", True),
        ("https://a.example/world/short-slug", False),
        ("https://a.example/news/12345", False),  # 5 digits
        ("https://a.example/tag/harbour-and-coastal-affairs-news", False),
        ("https://a.example/author/jane-quill-senior-reporter", False),
        ("https://a.example/category/local-news-from-the-valley", False),
        ("https://a.example/video/", False),
        ("https://a.example/live", False),
        ("https://a.example/2026/11/25/storm-photo-of-the-day.jpg", False),
        ("https://a.example/files/annual-report-2026-final-version.pdf", False),
        ("https://a.example/", False),
    ],
)
def test_looks_like_article(url: str, expected: bool) -> None:
    assert looks_like_article(url) is expected


CORPUS = REPO.parent / "shared" / "corpus"


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "pages.jsonl").exists(), reason="shared corpus not available")
def test_looks_like_article_recall_on_real_article_urls() -> None:
    # Every corpus page is an article; the fallback heuristic should recognise nearly all.
    urls = [json.loads(line).get("url") for line in (CORPUS / "pages.jsonl").read_text().splitlines() if line.strip()]
    urls = [u for u in urls if isinstance(u, str)]
    assert len(urls) >= 50
    recall = sum(looks_like_article(u) for u in urls) / len(urls)
    assert recall >= 0.95, recall


def test_extract_article_links_heuristic() -> None:
    got = extract_article_links(fixture("section.html"), f"{SITE}/world/", allow=None, deny=re.compile("/sponsored/"))
    assert got == [
        f"{SITE}/2026/11/25/storm-closes-coast-road",  # fragment dropped, duplicate collapsed
        f"{SITE}/world/new-trade-route-opens-across-the-valley",  # relative resolved
        f"{SITE}/news/world-67543210",
        "https://news.millbrook-courier.example/2026/nov/24/mayor-visits-twin-town",  # subdomain
        f"{SITE}/live/2026/nov/25/budget-day-as-it-happened",
    ]


def test_extract_article_links_allow_deny_and_options() -> None:
    html = fixture("section.html").decode()
    allow = re.compile(r"/2026/(?:\d\d|nov)/\d\d/[a-z]")
    got = extract_article_links(html, f"{SITE}/world/", allow=allow, deny=re.compile(r"/(live|sponsored)/"))
    assert got == [
        f"{SITE}/2026/11/25/storm-closes-coast-road",
        "https://news.millbrook-courier.example/2026/nov/24/mayor-visits-twin-town",
    ]  # storm-photos.jpg matches allow but media files are always dropped
    wide = extract_article_links(html, f"{SITE}/world/", allow=allow, deny=None, same_site=False)
    assert "https://other-paper.example/2026/11/25/rival-paper-covers-storm-too" in wide
    assert "https://millbrook-courier.example.evil.example/2026/11/25/phishing-looks-like-a-story" in wide
    assert len(extract_article_links(html, f"{SITE}/world/", allow=None, deny=None, max_links=2)) == 2


def test_extract_article_links_edge_inputs() -> None:
    assert extract_article_links("", SITE, allow=None, deny=None) == []
    assert extract_article_links(b"\x00\x01", SITE, allow=None, deny=None) == []
    xml_decl = '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/x/one-two-three-four">a</a></body></html>'
    assert extract_article_links(xml_decl, SITE + "/", allow=None, deny=None) == [f"{SITE}/x/one-two-three-four"]
    with_base = '<html><head><base href="https://www.millbrook-courier.example/arts/"></head><body><a href="opera-house-gets-new-roof">x</a></body></html>'
    assert extract_article_links(with_base, SITE + "/", allow=None, deny=None) == [
        f"{SITE}/arts/opera-house-gets-new-roof"
    ]


# --------------------------------------------------------------------------- spider (no network)


class DemoSpider(NewsSpider):
    name = "demo"
    sitemap_urls = [f"{SITE}/sitemap_index.xml"]
    feed_urls = [f"{SITE}/rss"]
    section_urls = [f"{SITE}/world/"]
    article_deny = r"/sponsored/"


def make_spider(**kwargs: str) -> DemoSpider:
    crawler = get_crawler(DemoSpider)
    return DemoSpider.from_crawler(crawler, **kwargs)


def stat(spider: NewsSpider, event: str) -> int | None:
    return spider.crawler.stats.get_value("newscrawl/discovery/" + event)


def respond(url: str, body: bytes, cls: type[Response] = Response, **meta: object) -> Response:
    return cls(url, body=body, request=Request(url, meta=dict(meta)))


def test_spider_base_and_args() -> None:
    assert "name" not in vars(NewsSpider)
    with pytest.raises(ValueError, match="must have a name"):
        NewsSpider()
    with pytest.raises(ValueError, match=r"bad -a since: invalid since value 'yesterday'"):
        make_spider(since="yesterday")
    with pytest.raises(ValueError, match=r"bad -a limit='many'"):
        make_spider(limit="many")

    class BadRegex(DemoSpider):
        article_allow = "(unclosed"

    with pytest.raises(ValueError, match="article_allow is not a valid regex"):
        BadRegex()
    spider = make_spider(since="2026-11-24", limit="3")
    assert spider.since == datetime(2026, 11, 24, tzinfo=UTC) and spider.limit == 3


def test_spider_start_order() -> None:
    spider = make_spider()

    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    requests = asyncio.run(collect())
    assert [(r.url, r.callback.__name__, r.dont_filter) for r in requests] == [
        (f"{SITE}/sitemap_index.xml", "parse_sitemap", False),
        (f"{SITE}/rss", "parse_feed", False),
        (f"{SITE}/world/", "parse_section", False),
    ]
    assert requests[0].meta[DEPTH_META] == 0


def test_spider_sitemap_index_children() -> None:
    spider = make_spider(since="2026-11-20")
    index = fixture("sitemap_index.xml")
    out = list(spider.parse_sitemap(respond(f"{SITE}/sitemap_index.xml", index, **{DEPTH_META: 0})))
    # Newest first; the 2019 archive is skipped by its lastmod, the undated one is kept.
    assert [(r.url, r.meta[DEPTH_META]) for r in out] == [
        (f"{SITE}/sitemaps/news.xml", 1),
        (f"{SITE}/sitemaps/sections.xml", 1),
    ]
    assert stat(spider, "skipped_old_sitemaps") == 1
    # An index found at the maximum depth does not recurse further.
    deep = list(spider.parse_sitemap(respond(f"{SITE}/deep.xml", index, **{DEPTH_META: 2})))
    assert deep == [] and stat(spider, "sitemap_depth_exceeded") == 1


def test_spider_sitemap_articles_window_order_dedupe_limit() -> None:
    spider = make_spider(since="2026-11-22", limit="2")
    body = fixture("news_sitemap.xml.gz")
    out = list(spider.parse_sitemap(respond(f"{SITE}/sitemaps/news.xml.gz", body, **{DEPTH_META: 1})))
    # newest first: 11-25 (council), 11-24 (festival); bakery (11-20) is old; the limit of 2
    # stops before the undated choir story.
    assert [r.url for r in out] == [NEWS_SITEMAP_LINKS[1].url, NEWS_SITEMAP_LINKS[0].url]
    assert all(r.callback == spider.parse_article and not r.dont_filter for r in out)
    assert out[1].meta[HINT_META] == {
        "title": "River festival draws record crowd",
        "published": "2026-11-24T17:30:00+01:00",
        "language": "en",
        "lastmod": "2026-11-24T18:05:00+01:00",
        "keywords": ["festival", "river", "Millbrook"],
        "via": "sitemap",
    }
    assert stat(spider, "sitemap_links") == 4
    assert stat(spider, "skipped_old") == 1
    assert stat(spider, "limit_reached") == 1
    assert stat(spider, "article_requests") == 2


def test_spider_truncation_is_not_a_parse_error() -> None:
    crawler = get_crawler(DemoSpider, {"NEWSCRAWL_DISCOVERY_MAX_URLS": 2})
    spider = DemoSpider.from_crawler(crawler)
    out = list(spider.parse_sitemap(respond(f"{SITE}/news.xml", fixture("news_sitemap.xml"))))
    assert len(out) == 2
    assert stat(spider, "sitemap_truncated") == 1 and stat(spider, "parse_errors") is None


def test_spider_allow_deny_apply_to_sitemaps_and_feeds() -> None:
    class Picky(DemoSpider):
        article_allow = r"/2026/11/2[345]/"
        article_deny = r"cycle-lanes"

    spider = Picky.from_crawler(get_crawler(Picky))
    out = list(spider.parse_sitemap(respond(f"{SITE}/news.xml", fixture("news_sitemap.xml"))))
    assert [r.url for r in out] == [NEWS_SITEMAP_LINKS[0].url, NEWS_SITEMAP_LINKS[3].url]
    assert stat(spider, "skipped_pattern") == 2  # bakery (11/20) not allowed, cycle lanes denied
    feed = list(spider.parse_feed(respond(f"{SITE}/rss", fixture("rss_tracking.xml"))))
    assert [r.url for r in feed] == [f"{SITE}/2026/11/25/tram-line-extension-opens"]


def test_spider_feed_section_and_cross_source_dedupe() -> None:
    spider = make_spider()
    feed = list(spider.parse_feed(respond(f"{SITE}/rss", fixture("rss_tracking.xml"))))
    assert [r.meta[HINT_META]["via"] for r in feed] == ["feed", "feed"]
    assert stat(spider, "feed_links") == 2
    html = (
        b'<html><body><a href="/2026/11/25/tram-line-extension-opens?utm_source=home">dup</a>'
        b'<a href="/2026/11/25/new-pier-lights-switched-on">new</a>'
        b'<a href="/sponsored/2026/11/25/partner-content-about-loans">ad</a></body></html>'
    )
    section = list(spider.parse_section(respond(f"{SITE}/world/", html, HtmlResponse)))
    assert [r.url for r in section] == [f"{SITE}/2026/11/25/new-pier-lights-switched-on"]
    assert section[0].meta[HINT_META]["via"] == "section" and section[0].meta[HINT_META]["published"] is None
    assert stat(spider, "section_links") == 2 and stat(spider, "duplicates") == 1


def test_spider_non_text_and_bad_bodies() -> None:
    spider = make_spider()
    assert list(spider.parse_sitemap(respond(f"{SITE}/s.xml", b""))) == []
    assert list(spider.parse_feed(respond(f"{SITE}/rss", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"))) == []
    assert list(spider.parse_section(respond(f"{SITE}/world/", gzip.compress(b"<html></html>")))) == []
    assert stat(spider, "non_text_response") == 3
    assert list(spider.parse_sitemap(respond(f"{SITE}/s.xml", fixture("error_page.html"), HtmlResponse))) == []
    assert list(spider.parse_feed(respond(f"{SITE}/rss", fixture("xxe.xml"), TextResponse))) == []
    assert stat(spider, "parse_errors") == 2
    assert list(spider.parse_article(respond(f"{SITE}/a.pdf", b"%PDF-1.7\x00"))) == []
    assert stat(spider, "article_non_text") == 1


# --------------------------------------------------------------------------- real crawl

SPIDER_SOURCE = """
from newscrawl.crawling import NewsSpider


class LocalNewsSpider(NewsSpider):
    name = "localnews"
    # Keep the run independent of whatever project settings exist at the time.
    custom_settings = {
        "ITEM_PIPELINES": {}, "SPIDER_MIDDLEWARES": {}, "DOWNLOADER_MIDDLEWARES": {}, "EXTENSIONS": {},
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False, "RETRY_ENABLED": False, "CLOSESPIDER_TIMEOUT": 30,
    }

    def __init__(self, *args, base, **kwargs):
        super().__init__(*args, **kwargs)
        self.sitemap_urls = [base + "/sitemap_index.xml"]

    def parse_article(self, response):
        yield {"url": response.url, "hint": response.meta["newscrawl_hint"]}
"""


class _Site:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.hits: list[str] = []


def _handler(site: _Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            site.hits.append(self.path)
            ctype, body = site.routes.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in site.routes else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.mark.crawl
def test_real_crawl_sitemap_index_to_articles(tmp_path: Path) -> None:
    site = _Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    now = datetime.now(UTC).replace(microsecond=0)
    articles = {
        "/news/2026/harbour-crane-lifts-again": (now - timedelta(hours=1), "Harbour crane lifts again", "en"),
        "/news/2026/orchard-harvest-beats-forecast": (now - timedelta(hours=5), "Orchard harvest beats forecast", "cy"),
        "/news/2026/old-story-about-the-tide": (now - timedelta(days=10), "Old story about the tide", "en"),
    }
    entries = "".join(
        f"<url><loc>{base}{path}</loc><news:news><news:publication><news:name>Courier</news:name>"
        f"<news:language>{lang}</news:language></news:publication>"
        f"<news:publication_date>{when.isoformat()}</news:publication_date><news:title>{title}</news:title>"
        f"<news:keywords>local, {lang}</news:keywords></news:news></url>"
        for path, (when, title, lang) in articles.items()
    )
    news_xml = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{entries}</urlset>'
    )
    index_xml = (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemaps/news.xml.gz</loc><lastmod>{now.isoformat()}</lastmod></sitemap>"
        f"<sitemap><loc>{base}/sitemaps/archive-2019.xml</loc><lastmod>2019-12-31</lastmod></sitemap>"
        "</sitemapindex>"
    )
    site.routes = {
        "/robots.txt": (
            "text/plain",
            f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n".encode(),
        ),
        "/sitemap_index.xml": ("application/xml", index_xml.encode()),
        # gzip file without Content-Encoding: reaches the callback compressed.
        "/sitemaps/news.xml.gz": ("application/x-gzip", gzip.compress(news_xml.encode())),
    }
    for path, (_, title, _) in articles.items():
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>Invented text.</p></body></html>"
        site.routes[path] = ("text/html; charset=utf-8", page.encode())
    # Run outside the project dir (newscrawl found via PYTHONPATH): scrapy.cfg would pull in
    # project settings, commands and pipelines that other stages own and may be mid-edit.
    spider_file = tmp_path / "localnews.py"
    spider_file.write_text(textwrap.dedent(SPIDER_SOURCE))
    out = tmp_path / "out.jsonl"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "runspider", str(spider_file), "-a", f"base={base}", "-a", "since=48h",
             "-o", str(out), "-s", "ROBOTSTXT_OBEY=True", "-s", "LOG_LEVEL=INFO"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    by_url = {item["url"]: item["hint"] for item in items}
    assert len(items) == 2, proc.stderr[-3000:]
    for path in ("/news/2026/harbour-crane-lifts-again", "/news/2026/orchard-harvest-beats-forecast"):
        when, title, lang = articles[path]
        assert by_url[base + path] == {
            "title": title,
            "published": when.isoformat(),
            "language": lang,
            "lastmod": None,
            "keywords": ["local", lang],
            "via": "sitemap",
        }
    assert "/robots.txt" in site.hits  # ROBOTSTXT_OBEY really consulted robots.txt
    assert "/news/2026/old-story-about-the-tide" not in site.hits  # filtered before fetching
    assert "/sitemaps/archive-2019.xml" not in site.hits  # child sitemap skipped by lastmod
    assert re.search(r"'newscrawl/discovery/skipped_old': 1\b", proc.stderr)
    assert re.search(r"'newscrawl/discovery/sitemap_links': 3\b", proc.stderr)
