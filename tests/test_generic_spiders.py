"""Any outlet without a spider: the generic `news` spider (sitemap / feed / start page) and the outlets file."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newscrawl.items import article_schema
from newscrawl.outlets_file import load_outlets, read_outlets_file
from tests.conftest import read_jsonl, run_scrapy, stats_of
from tests.httpsite import SiteHandler, serve

STORIES = {
    "/2026/11/24/ferry-timetable-changes-winter": "Ferry timetable changes for winter",
    "/2026/11/24/library-extends-opening-hours": "Library extends opening hours",
    "/2026/11/23/market-square-repaving-begins": "Market square repaving begins",
}


def story(path: str, title: str, base: str) -> bytes:
    paras = "".join(
        f"<p>{title} was the subject of paragraph {i}, in which council officers explained the plan to residents "
        f"who had gathered in the hall on a wet evening to hear about it.</p>" for i in range(6))
    related = "".join(f"<li><a href='{p}'>{t}</a></li>" for p, t in STORIES.items() if p != path)
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title} | Riverside Post</title>
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<meta property="og:site_name" content="Riverside Post">
<link rel="canonical" href="{base}{path}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle","headline":"{title}",
"datePublished":"2026-11-24T08:00:00+00:00","author":{{"@type":"Person","name":"Maya Lindqvist"}}}}</script>
</head><body><header><nav><a href="/">Home</a><a href="/topics/">Topics</a></nav></header>
<main><article><h1>{title}</h1><p class="standfirst">Residents were told on Monday.</p>
<div class="story-body">{paras}</div></article><aside><h2>Related</h2><ul>{related}</ul></aside></main>
<footer>© Riverside Post</footer></body></html>""".encode()


class Site(SiteHandler):
    def reply_ok(self, body: bytes, ctype: str, status: int = 200) -> None:
        self.reply(status, body, ctype)

    hits: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path = self.path.split("?")[0]
        if path == "/robots.txt":
            return self.reply_ok(b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path == "/news-sitemap.xml":
            urls = "".join(f"<url><loc>{base}{p}</loc><news:news><news:publication><news:name>Riverside Post"
                           f"</news:name><news:language>en</news:language></news:publication><news:publication_date>"
                           f"2026-11-24T08:00:00Z</news:publication_date><news:title>{t}</news:title></news:news></url>"
                           for p, t in STORIES.items())
            return self.reply_ok(('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                               'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>").encode(),
                              "application/xml")
        if path == "/feed.xml":
            items = "".join(f"<item><title>{t}</title><link>{base}{p}?utm_source=rss&amp;utm_medium=feed</link>"
                            f"<pubDate>Mon, 24 Nov 2026 08:00:00 +0000</pubDate></item>" for p, t in STORIES.items())
            dup = f"<item><title>dup</title><link>{base}{next(iter(STORIES))}?fbclid=abc</link></item>"
            return self.reply_ok(f'<?xml version="1.0"?><rss version="2.0"><channel><title>RP</title>{items}{dup}'
                              f"</channel></rss>".encode(), "application/rss+xml")
        if path == "/":
            links = "".join(f"<li><a href='{p}'>{t}</a></li>" for p, t in list(STORIES.items())[:1])
            return self.reply_ok(f"<html><body><h1>Riverside Post</h1><ul>{links}</ul><a href='/topics/'>Topics</a>"
                              f"<a href='/private/2026/11/24/secret-draft-story-here'>x</a></body></html>".encode(),
                              "text/html")
        if path in STORIES:
            return self.reply_ok(story(path, STORIES[path], base), "text/html; charset=utf-8")
        return self.reply_ok(b"<html><body><h1>Not found</h1></body></html>", "text/html", 404)




@pytest.fixture
def site() -> Iterator[str]:
    Site.hits = {}
    with serve(Site) as base:
        yield base


def crawl(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], Any]:
    out = tmp_path / "items.jsonl"
    proc = run_scrapy(["crawl", *args, "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1", "-s", "DOWNLOAD_DELAY=0",
                       "-s", "AUTOTHROTTLE_ENABLED=False"],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "s.sqlite3"),
                           **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_jsonl(out), proc


@pytest.mark.crawl
@pytest.mark.parametrize("mode", ["sitemap", "feed", "start"])
def test_news_spider_each_discovery_mode(site: str, tmp_path: Path, mode: str) -> None:
    target = {"sitemap": "/news-sitemap.xml", "feed": "/feed.xml", "start": "/"}[mode]
    items, proc = crawl(tmp_path, ["news", "-a", f"{mode}={site}{target}", "-a", "outlet=riverside"])
    assert sorted(i["canonical_url"] for i in items) == sorted(f"{site}{p}" for p in STORIES)
    for item in items:
        jsonschema.validate(item, article_schema())
        assert item["source"] == "riverside" and item["authors"] == ["Maya Lindqvist"]
        assert item["provenance"]["body"] == "generic"
    # each article fetched once: tracking parameters and the duplicate feed link collapse
    assert all(Site.hits[p] == 1 for p in STORIES)
    assert "/private/2026/11/24/secret-draft-story-here" not in Site.hits  # robots.txt
    if mode == "start":
        # the home page links one story; the others are reached through its related links (depth 1)
        assert stats_of(proc.stderr).get("newscrawl/discovery/section_links", 0) >= 1


def test_news_spider_rejects_bad_arguments(tmp_path: Path) -> None:
    proc = run_scrapy(["crawl", "news", "-a", "sitemap=file:///etc/passwd"])
    assert proc.returncode != 0 and "not http(s) URLs" in proc.stderr
    proc = run_scrapy(["crawl", "news"])
    assert proc.returncode != 0 and "give -a sitemap=URL" in proc.stderr


@pytest.mark.crawl
def test_outlets_file_entry_with_custom_selectors_crawls_like_a_spider(site: str, tmp_path: Path) -> None:
    outlets = tmp_path / "outlets.toml"
    outlets.write_text(f"""
[[outlet]]
name = "riverside"
publisher = "Riverside Post"
domains = ["127.0.0.1"]
sitemaps = ["{site}/news-sitemap.xml"]
timezone = "Europe/London"
language = "en"
delay = 0
[outlet.selectors]
headline = "article h1::text"
description = "p.standfirst::text"
body = "div.story-body p"
""", "utf-8")
    env = {"NEWSCRAWL_OUTLETS_FILE": str(outlets)}
    listed = run_scrapy(["list"], env=env)
    assert "riverside" in listed.stdout.split()
    items, _ = crawl(tmp_path, ["riverside"], env=env)
    assert len(items) == len(STORIES)
    for item in items:
        assert item["source"] == "riverside" and item["publisher"] == "Riverside Post"
        assert item["description"] == "Residents were told on Monday."
        assert item["provenance"]["body"] == "site" and item["provenance"]["headline"] == "site"


def test_malformed_outlets_file_rejects_the_entry_not_the_project(tmp_path: Path) -> None:
    outlets = tmp_path / "outlets.toml"
    outlets.write_text("""
[[outlet]]
name = "good_one"
feeds = ["https://good.example/rss"]

[[outlet]]
name = "bad_one"
feeds = ["ftp://bad.example/rss"]

[[outlet]]
name = "bad_regex"
sitemaps = ["https://x.example/s.xml"]
article_allow = "(unclosed"
""", "utf-8")
    proc = run_scrapy(["list"], env={"NEWSCRAWL_OUTLETS_FILE": str(outlets)})
    assert proc.returncode == 0
    names = proc.stdout.split()
    assert "good_one" in names and "bad_one" not in names and "cna" in names
    assert "outlet 'bad_one': field 'feeds'" in proc.stderr
    assert "outlet 'bad_regex': field 'article_allow'" in proc.stderr


@pytest.mark.parametrize(("toml", "message"), [
    ('[[outlet]]\nname = "Bad Name"\nfeeds = ["https://a.example/"]', "field 'name'"),
    ('[[outlet]]\nname = "a_b"\n', "needs at least one of"),
    ('[[outlet]]\nname = "a_b"\nfeeds = ["https://a.example/"]\ntimezone = "Mars/Base"', "field 'timezone'"),
    ('[[outlet]]\nname = "a_b"\nfeeds = ["https://a.example/"]\nconcurrency = 99', "field 'concurrency'"),
    ('[[outlet]]\nname = "a_b"\nfeeds = ["https://a.example/"]\ncolour = "red"', "unknown field(s) colour"),
    ('[[outlet]]\nname = "a_b"\nfeeds = ["https://a.example/"]\n[outlet.selectors]\nbody = "p[["', "selectors.body"),
    ('[[outlet]]\nname = "a_b"\nfeeds = ["https://a.example/"]\n[outlet.selectors]\nsmell = "p"', "selectors.smell"),
    ("this is = = not toml", "not valid TOML"),
])
def test_outlet_entry_errors_name_the_entry_and_field(toml: str, message: str) -> None:
    outlets, errors = load_outlets(toml, "t.toml")
    assert outlets == [] and len(errors) == 1 and message in errors[0]


def test_shipped_outlets_file_is_valid_with_a_dozen_outlets() -> None:
    outlets, errors = read_outlets_file("")
    assert errors == []
    assert len(outlets) >= 12
    assert {"yonhap", "bernama", "xinhua", "kyodo", "pti"} <= {o.name for o in outlets}
