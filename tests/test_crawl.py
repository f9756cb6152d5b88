"""A real Scrapy crawl, with the project's settings and pipelines, against a local site on 127.0.0.1."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newscrawl.items import article_schema
from tests.conftest import read_jsonl, run_scrapy, stats_of
from tests.httpsite import SiteHandler, serve

pytestmark = pytest.mark.crawl

WORDS = ("harbour council ferry timetable winter storm bridge repair budget vote market square library "
         "lantern festival river tram depot school garden").split()


def article(n: int) -> bytes:
    paragraphs = "".join(
        f"<p>{' '.join(WORDS[(n + i + k) % len(WORDS)] for k in range(14)).capitalize()} in paragraph {i} of story {n}.</p>"
        for i in range(6))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {n} | Local Gazette</title>
<meta property="og:title" content="Story {n} about the harbour"></head><body>
<nav><a href="/">Home</a></nav><article><h1>Story {n} about the harbour</h1>
<p class="byline">By <a href="/authors/ana">Ana Sousa</a></p><time datetime="2026-11-2{n % 5}T09:30:00">Nov</time>
<div class="story">{paragraphs}<p>Read more from the Gazette on our app.</p></div></article></body></html>""".encode()


class Site(SiteHandler):
    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if self.path == "/news-sitemap.xml":
            urls = ["/news/1", "/news/2-old-link", "/news/3", "/news/missing", "/news/flaky", "/private/5"]
            body = "".join(
                f"<url><loc>{base}{u}</loc><news:news><news:publication><news:name>Gazette</news:name>"
                f"<news:language>en</news:language></news:publication>"
                f"<news:publication_date>2026-11-24T10:00:00Z</news:publication_date>"
                f"<news:title>Title {u}</news:title></news:news></url>" for u in urls)
            return self.reply(200, (
                '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + body + "</urlset>").encode(),
                "application/xml")
        if self.path == "/news/2-old-link":
            return self.redirect(f"{base}/news/2")
        if self.path == "/news/flaky" and self.hits[self.path] == 1:
            return self.reply(500, b"temporary failure", "text/plain")
        if self.path in ("/news/1", "/news/2", "/news/3", "/news/flaky", "/private/5"):
            n = {"/news/flaky": 4, "/private/5": 5}.get(self.path) or int(self.path.rsplit("/", 1)[1])
            return self.reply(200, article(n), "text/html; charset=utf-8")
        return self.reply(404, b"<html><body>Not found</body></html>", "text/html")




@pytest.fixture
def site() -> Iterator[str]:
    Site.hits = {}
    with serve(Site) as base:
        yield base


def crawl(site: str, tmp_path: Path, run: str, *extra: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out = tmp_path / f"{run}.jsonl"
    proc = run_scrapy(["runspider", "tests/spiders/localsite.py", "-a", f"base={site}",
                       "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=2", *extra],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_jsonl(out), stats_of(proc.stderr)


def test_sitemap_crawl_exports_every_reachable_article_once(site: str, tmp_path: Path) -> None:
    items, stats = crawl(site, tmp_path, "first")
    urls = sorted(i["url"] for i in items)
    assert urls == sorted(f"{site}/news/{x}" for x in ("1", "2", "3", "flaky"))
    # robots.txt obeyed: the disallowed article was never fetched
    assert "/private/5" not in Site.hits
    assert stats.get("robotstxt/forbidden") == 1
    # the redirect was followed, the 404 dropped, the 500 retried once and then exported
    assert Site.hits["/news/2-old-link"] == 1 and Site.hits["/news/2"] == 1
    assert Site.hits["/news/missing"] == 1
    assert Site.hits["/news/flaky"] == 2
    assert stats.get("retry/count") == 1
    for item in items:
        jsonschema.validate(item, article_schema())
        assert item["source"] == "localsite"
        assert item["authors"] == ["Ana Sousa"]
        assert item["published_at"].endswith("+00:00")  # Europe/Lisbon in November is UTC+0
        assert "Read more from the Gazette" not in item["body"]
        assert item["provenance"]["body"] == "site"


def test_second_run_exports_nothing_already_exported(site: str, tmp_path: Path) -> None:
    first, _ = crawl(site, tmp_path, "first")
    second, stats = crawl(site, tmp_path, "second")
    assert len(first) == 4
    assert second == []
    # skipped before fetching: the exported articles were requested once, in the first run
    assert stats.get("newscrawl/seen/skipped") == 4
    assert Site.hits["/news/1"] == 1 and Site.hits["/news/3"] == 1


def test_second_run_without_incremental_skipping_still_exports_nothing(site: str, tmp_path: Path) -> None:
    crawl(site, tmp_path, "first")
    second, stats = crawl(site, tmp_path, "second", "-s", "NEWSCRAWL_INCREMENTAL_ENABLED=False")
    assert second == []
    assert stats.get("newscrawl/dedup/dropped/seen_url") == 4  # fetched again, dropped by the dedup stage
