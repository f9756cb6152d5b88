"""Incremental crawling across runs: unchanged articles are neither fetched nor exported again; edits come
out once, as revision 2 with previous_hash.

Real ``scrapy runspider`` runs against a local site on 127.0.0.1 whose pages and sitemap the test edits
between runs.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from newscrawl.incremental import Known, decide, is_revision, parse_duration
from tests.conftest import read_jsonl, run_scrapy, stats_of
from tests.httpsite import SiteHandler, serve

pytestmark = pytest.mark.incremental

NOW = datetime.now(timezone.utc).replace(microsecond=0)
WORDS = ("tide ferry council budget harbour lantern bridge market school garden tram river library "
         "storm winter square festival depot vote repair").split()


def page(n: int, version: int, modified: str | None = None) -> bytes:
    paragraphs = "".join(
        f"<p>{' '.join(WORDS[(n * 3 + i + k) % len(WORDS)] for k in range(15)).capitalize()}, story {n} part {i}"
        f"{' (corrected)' if version > 1 and i == 2 else ''}.</p>" for i in range(5))
    mod = f'<meta property="article:modified_time" content="{modified}">' if modified else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {n}</title>{mod}</head>
<body><article><h1>Harbour story number {n}</h1><p class="byline">By <a href="/a/rui">Rui Lima</a></p>
<time datetime="{(NOW - timedelta(hours=1)).isoformat()}">today</time>
<div class="story">{paragraphs}</div></article></body></html>""".encode()


class Site(SiteHandler):
    versions: dict[int, int] = {}
    lastmod: dict[int, str] = {}
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if self.path == "/news-sitemap.xml":
            # /news/4-old is listed, but the article lives at /news/4 (a renamed slug)
            paths = {1: "/news/1", 2: "/news/2", 3: "/news/3", 4: "/news/4-old"}
            body = "".join(
                f"<url><loc>{base}{paths[n]}</loc><lastmod>{self.lastmod[n]}</lastmod><news:news>"
                f"<news:publication><news:name>Gazette</news:name><news:language>en</news:language>"
                f"</news:publication><news:publication_date>{(NOW - timedelta(hours=1)).isoformat()}"
                f"</news:publication_date><news:title>Story {n}</news:title></news:news></url>" for n in paths)
            return self.reply(200, ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/'
                                    'schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                                    + body + "</urlset>").encode(), "application/xml")
        if self.path == "/news/4-old":
            return self.redirect(f"{base}/news/4")
        if self.path in ("/news/1", "/news/2", "/news/3", "/news/4"):
            n = int(self.path.rsplit("/", 1)[1])
            return self.reply(200, page(n, self.versions[n]), "text/html; charset=utf-8")
        return self.reply(404, b"not found", "text/plain")




@pytest.fixture
def site() -> Iterator[str]:
    Site.versions = {n: 1 for n in (1, 2, 3, 4)}
    Site.lastmod = {n: (NOW - timedelta(hours=1)).isoformat() for n in (1, 2, 3, 4)}
    Site.hits = {}
    with serve(Site) as base:
        yield base


def crawl(site: str, tmp_path: Path, run: str, *extra: str) -> tuple[list[dict[str, Any]], dict[str, Any], set[str]]:
    """One scheduled run: -> (exported items, stats, article paths fetched)."""
    Site.hits = {}
    out = tmp_path / f"{run}.jsonl"
    proc = run_scrapy(["runspider", "tests/spiders/localsite.py", "-a", f"base={site}",
                       "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *extra],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = stats_of(proc.stderr)
    assert stats.get("log_count/ERROR", 0) == 0, proc.stderr[-3000:]
    return read_jsonl(out), stats, {p for p in Site.hits if p.startswith("/news/")}


def test_unchanged_site_exports_nothing_and_fetches_no_article_the_second_time(site: str, tmp_path: Path) -> None:
    first, stats, fetched = crawl(site, tmp_path, "1")
    assert sorted(i["url"] for i in first) == [f"{site}/news/{n}" for n in (1, 2, 3, 4)], stats
    assert all(i["revision"] == 1 and i["previous_hash"] is None for i in first)
    assert stats["newscrawl/seen/new"] == 4
    hashes = {i["url"]: i["content_hash"] for i in first}

    second, stats, fetched = crawl(site, tmp_path, "2")
    assert second == []
    assert fetched == set(), fetched  # not even the redirecting /news/4-old
    assert stats["newscrawl/seen/skipped"] == 4
    assert "newscrawl/seen/refetched" not in stats

    # an edit announced by a newer lastmod: fetched, exported once as revision 2
    Site.versions[2] = 2
    Site.lastmod[2] = NOW.isoformat()
    third, stats, fetched = crawl(site, tmp_path, "3")
    assert fetched == {"/news/2"}
    assert len(third) == 1
    assert third[0]["url"] == f"{site}/news/2"
    assert third[0]["revision"] == 2
    assert third[0]["previous_hash"] == hashes[f"{site}/news/2"] != third[0]["content_hash"]
    assert stats["newscrawl/seen/refetched/lastmod"] == 1
    assert stats["newscrawl/seen/revised"] == 1
    assert stats["newscrawl/seen/skipped"] == 3

    # a silent edit (lastmod unchanged) is caught by the re-check of recent articles
    Site.versions[3] = 2
    fourth, stats, fetched = crawl(site, tmp_path, "4", "-s", "NEWSCRAWL_RECHECK_INTERVAL=0")
    assert fetched == {"/news/1", "/news/2", "/news/3", "/news/4-old", "/news/4"}
    assert [(i["url"], i["revision"]) for i in fourth] == [(f"{site}/news/3", 2)]
    assert stats["newscrawl/seen/refetched/recheck"] == 4
    assert stats["newscrawl/seen/unchanged"] == 3
    assert stats["newscrawl/seen/revised"] == 1

    # and those re-checks count: with the default 6 h interval nothing is due again
    fifth, stats, fetched = crawl(site, tmp_path, "5")
    assert fifth == [] and fetched == set()
    assert stats["newscrawl/seen/skipped"] == 4


# ---------------------------------------------------------------------- the rules, without a crawl
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
H6, D2 = parse_duration("6h"), parse_duration("2d")


@pytest.mark.parametrize(("known", "lastmod", "published", "now", "expected"), [
    (None, None, None, T0, "new"),
    (Known(lastmod="2026-03-01T10:00:00+00:00"), "2026-03-01T10:00:00Z", "2026-02-01T00:00:00Z", T0, "skip"),
    (Known(lastmod="2026-03-01T10:00:00+00:00"), "2026-03-01T11:00:00+01:00", None, T0, "skip"),  # same instant
    (Known(lastmod="2026-03-01T10:00:00+00:00"), "2026-03-01T10:00:01+00:00", None, T0, "lastmod"),
    (Known(lastmod=None), "2026-03-01T10:00:00+00:00", "2026-01-01T00:00:00Z", T0, "lastmod"),
    # recent (1 day old), checked 7 h ago -> recheck; checked 1 h ago -> skip
    (Known(checked_at="2026-03-02T05:00:00+00:00"), None, "2026-03-01T12:00:00Z", T0, "recheck"),
    (Known(checked_at="2026-03-02T11:00:00+00:00"), None, "2026-03-01T12:00:00Z", T0, "skip"),
    # 3 days old: never re-checked
    (Known(checked_at="2026-02-20T00:00:00+00:00"), None, "2026-02-27T12:00:00Z", T0, "skip"),
    # no publish date anywhere: the first export stands in for it
    (Known(first_seen="2026-03-02T00:00:00+00:00", checked_at="2026-03-02T00:00:00+00:00"), None, None, T0, "recheck"),
])
def test_decide(known: Known | None, lastmod: str | None, published: str | None, now: datetime,
                expected: str) -> None:
    assert decide(known, lastmod=lastmod, published=published, now=now, interval=H6, max_age=D2) == expected


def test_untrusted_lastmod_is_ignored() -> None:
    known = Known(lastmod="2026-03-01T10:00:00+00:00", published="2026-01-01T00:00:00Z")
    assert decide(known, lastmod=T0.isoformat(), published=None, now=T0, interval=H6, max_age=D2,
                  trust_lastmod=False) == "skip"


@pytest.mark.parametrize(("prev", "new", "fetched", "expected"), [
    (("sha1:a", None), ("sha1:b", None), None, True),                                   # body edited
    (("sha1:a", "2026-03-01T10:00:00+00:00"), ("sha1:a", "2026-03-01T10:00:00+00:00"), None, False),
    (("sha1:a", "2026-03-01T10:00:00+00:00"), ("sha1:a", "2026-03-01T12:30:00+00:00"),
     "2026-03-02T09:00:00+00:00", True),                                                # only modified_at moved
    (("sha1:a", "2026-03-01T10:00:00+00:00"), ("sha1:a", "2026-03-02T09:00:30+00:00"),
     "2026-03-02T09:00:00+00:00", False),                                               # "modified" = render time
    (("sha1:a", "2026-03-01T10:00:00+00:00"), ("sha1:a", "2026-02-28T10:00:00+00:00"), None, False),  # backwards
    (("sha1:a", None), ("sha1:a", None), None, False),
])
def test_is_revision(prev: tuple[str, str | None], new: tuple[str, str | None], fetched: str | None,
                     expected: bool) -> None:
    assert is_revision(prev[0], prev[1], new[0], new[1], fetched) is expected


def test_parse_duration() -> None:
    assert parse_duration("90s").total_seconds() == 90
    assert parse_duration("6h") == timedelta(hours=6)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration(3600) == timedelta(hours=1)
    with pytest.raises(ValueError):
        parse_duration("six hours")
