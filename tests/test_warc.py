"""WARC writing/reading, offline replay and recording with real Scrapy crawls."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newscrawl.middlewares.record import RecordMiddleware, expand_record_path
from newscrawl.middlewares.replay import ReplayMiddleware
from newscrawl.warc import WarcArchive, WarcEntry, WarcRecorder, write_warc

REPO = Path(__file__).resolve().parents[1]
REPLAY_MW = "newscrawl.middlewares.replay.ReplayMiddleware"
RECORD_MW = "newscrawl.middlewares.record.RecordMiddleware"


def _html(title: str, links: Sequence[str] = (), h1: bool = True) -> bytes:
    anchors = "".join(f'<a href="{u}">{u}</a>' for u in links)
    head = f"<h1>{title}</h1>" if h1 else ""
    return f"<html><head><title>{title}</title></head><body>{head}{anchors}</body></html>".encode()


HTML = [("Content-Type", "text/html; charset=utf-8")]


# --------------------------------------------------------------------------- round trip


def test_round_trip_statuses_headers_gzip(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz"
    zipped = gzip.compress(_html("Zipped Heron"))
    when = datetime(2024, 3, 1, 12, 30, 5, 123456, tzinfo=timezone.utc)
    entries = [
        WarcEntry("https://paper.test/z", 200, HTML + [("Content-Encoding", "gzip")], zipped, when),
        WarcEntry("https://paper.test/old", 301, [("Location", "/new")]),
        WarcEntry("https://paper.test/nf", 404, {"Content-Type": "text/plain"}, b"no such page"),
        WarcEntry("https://paper.test/boom", 500, [], b"oops"),
        WarcEntry("https://paper.test/c", 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], b"x"),
        WarcEntry("https://paper.test/odd", 599, [("Transfer-Encoding", "chunked")], b"plain"),
    ]
    assert write_warc(path, entries) == 6
    with gzip.open(path) as fh:  # valid gzip; every record is its own member
        assert fh.read().count(b"WARC/1.1\r\n") == 6

    with WarcArchive(path) as archive:
        assert len(archive) == 6
        z = archive.get("https://paper.test/z")
        assert z is not None and z.status == 200
        assert z.body == zipped  # wire bytes kept, decoding is Scrapy's job
        assert ("Content-Encoding", "gzip") in z.headers
        assert z.fetched_at == when
        old = archive.get("https://paper.test/old")
        assert old is not None and (old.status, old.headers) == (301, [("Location", "/new")])
        nf = archive.get("https://paper.test/nf")
        assert nf is not None and (nf.status, nf.body) == (404, b"no such page")
        assert archive.get("https://paper.test/boom").status == 500
        cookies = [v for k, v in archive.get("https://paper.test/c").headers if k == "Set-Cookie"]
        assert cookies == ["a=1", "b=2"]
        odd = archive.get("https://paper.test/odd")
        # Transfer-Encoding is dropped at write time: the body is already de-chunked.
        assert odd is not None and (odd.status, odd.headers, odd.body) == (599, [], b"plain")


def test_url_variants_and_last_record_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "1.warc.gz", tmp_path / "2.warc"
    write_warc(first, [
        WarcEntry("https://paper.test/story/", 200, HTML, b"v1"),
        WarcEntry("https://paper.test/story/", 200, HTML, b"v2"),
        WarcEntry("http://paper.test/", 301, [("Location", "https://paper.test/")]),
        WarcEntry("https://paper.test/q?b=2&a=1", 200, HTML, b"query"),
    ])
    write_warc(second, [WarcEntry("https://paper.test/other", 200, HTML, b"o1")], gzip=False)
    write_warc(tmp_path / "3.warc.gz", [WarcEntry("https://paper.test/other", 200, HTML, b"o2")])
    (tmp_path / "notes.txt").write_text("ignored, not a WARC")

    with WarcArchive(tmp_path) as archive:  # directory: files in name order
        assert [p.name for p in archive.files] == ["1.warc.gz", "2.warc", "3.warc.gz"]
        assert sorted(archive.urls()) == [
            "http://paper.test/", "https://paper.test/other",
            "https://paper.test/q?b=2&a=1", "https://paper.test/story/",
        ]
        for variant in ("https://paper.test/story/", "https://paper.test/story",
                        "http://paper.test/story", "https://paper.test/story/#comments"):
            assert variant in archive
            assert archive.get(variant).body == b"v2", variant
        assert archive.get("https://paper.test/other").body == b"o2"  # later file wins
        assert archive.get("https://paper.test/q?a=1&b=2").body == b"query"
        assert archive.get("http://paper.test").status == 301
        # The http->https redirect must not answer for https (endless loop).
        assert "https://paper.test/" not in archive
        assert archive.get("https://paper.test/missing") is None

    with WarcArchive(f"{second},{first}") as archive:  # comma list keeps given order
        assert archive.get("https://paper.test/other").body == b"o1"


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WarcArchive(tmp_path / "nope.warc.gz")
    good = tmp_path / "good.warc.gz"
    write_warc(good, [WarcEntry(f"https://paper.test/{i}", 200, HTML, b"x" * 50) for i in range(3)])
    data = good.read_bytes()
    for cut in (20, 100, 200):  # a crawl killed at various points of the last record
        path = tmp_path / f"cut{cut}.warc.gz"
        path.write_bytes(data[: len(data) - cut])
        archive = WarcArchive(path)
        assert sorted(archive.urls()) == ["https://paper.test/0", "https://paper.test/1"], cut
        assert archive.get("https://paper.test/1").body == b"x" * 50
        assert len(archive.problems) == 1 and str(path) in archive.problems[0]
    assert WarcArchive(good).problems == []
    plain = tmp_path / "plain.warc"
    write_warc(plain, [WarcEntry("https://paper.test/p", 200, HTML, b"p")], gzip=False)
    assert WarcArchive(plain).problems == []
    junk = tmp_path / "junk.warc"
    junk.write_bytes(b"this is not a warc file\n")
    archive = WarcArchive(junk)
    assert len(archive) == 0 and "not a WARC file" in archive.problems[0]


def test_recorder_appends_whole_records(tmp_path: Path) -> None:
    path = tmp_path / "rec.warc.gz"
    rec = WarcRecorder(path)
    rec.write(WarcEntry("https://paper.test/a", 200, HTML, b"first"))
    size_after_one = path.stat().st_size  # flushed without close
    assert size_after_one > 0 and WarcArchive(path).get("https://paper.test/a").body == b"first"
    rec.close()
    rec = WarcRecorder(path)
    rec.write(WarcEntry("https://paper.test/a", 200, HTML, b"second"))
    rec.close()
    assert WarcArchive(path).get("https://paper.test/a").body == b"second"


def test_middlewares_not_configured_and_path_template() -> None:
    with pytest.raises(NotConfigured):
        ReplayMiddleware.from_crawler(get_crawler(settings_dict={}))
    with pytest.raises(NotConfigured):
        RecordMiddleware.from_crawler(get_crawler(settings_dict={}))
    when = datetime(2024, 5, 1, 10, 20, 30, 999, tzinfo=timezone.utc)
    assert expand_record_path("out/%(name)s-%(time)s.warc.gz", "daily", when) == (
        "out/daily-2024-05-01T10-20-30+00-00.warc.gz"
    )


# --------------------------------------------------------------------------- real crawls

SPIDER = '''
import json
import scrapy


class WarcTestSpider(scrapy.Spider):
    name = "warctest"

    async def start(self):
        yield scrapy.Request(self.start_url)

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)
        title = response.css("h1::text").get()
        if title:
            yield {"url": response.url, "title": title, "flags": response.flags}

    def closed(self, reason):
        stats = {k: (v if isinstance(v, (int, str)) else str(v))
                 for k, v in self.crawler.stats.get_stats().items()}
        with open(self.stats_path, "w") as fh:
            json.dump(stats, fh)
'''


def _crawl(tmp_path: Path, tag: str, start_url: str, **settings: object) -> tuple[list, dict, str]:
    """Run the test spider in a fresh interpreter; return (items, stats, log)."""
    spider = tmp_path / "warc_spider.py"
    spider.write_text(SPIDER)
    items, stats = tmp_path / f"{tag}.jsonl", tmp_path / f"{tag}-stats.json"
    base = {
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": "False",
        "REMOTE_CONTROL_ENABLED": "False",  # Scrapy 2.19 binds a localhost port otherwise
        "ROBOTSTXT_OBEY": "True",
        "CLOSESPIDER_TIMEOUT": "20",  # bound the crawl even if something hangs
        "DOWNLOAD_TIMEOUT": "5",
        "RETRY_ENABLED": "False",
    }
    base.update({k: (json.dumps(v) if isinstance(v, dict) else str(v)) for k, v in settings.items()})
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-O", f"{items}:jsonlines",
           "-a", f"start_url={start_url}", "-a", f"stats_path={stats}"]
    for key, value in base.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    # cwd=tmp_path: no scrapy.cfg there, so project settings do not leak in.
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in items.read_text().splitlines() if line.strip()]
    return sorted(rows, key=lambda r: r["url"]), json.loads(stats.read_text()), proc.stderr


def test_replay_crawl_never_touches_network(tmp_path: Path) -> None:
    # .invalid never resolves: any real fetch would fail with a DNS error.
    site = "https://gazette.invalid"
    warc = tmp_path / "site.warc.gz"
    index = _html("Front page", ["/one", "/two#comments", "/moved", "/gone", "/missing"], h1=False)
    write_warc(warc, [
        WarcEntry(f"{site}/", 200, HTML, index),
        WarcEntry(f"{site}/one", 200, HTML + [("Content-Encoding", "gzip")],
                  gzip.compress(_html("Lanterns return to the harbour"))),
        WarcEntry(f"{site}/two", 200, HTML, _html("Stale draft")),
        WarcEntry(f"{site}/two", 200, HTML, _html("Council votes on ferry")),  # wins
        WarcEntry(f"{site}/moved", 301, [("Location", f"{site}/three")]),
        WarcEntry(f"{site}/three", 200, HTML, _html("Bakery reopens")),
        WarcEntry(f"{site}/gone", 404, HTML, _html("Not found")),
    ])
    items, stats, log = _crawl(tmp_path, "replay", f"{site}/", NEWSCRAWL_REPLAY=str(warc),
                               DOWNLOADER_MIDDLEWARES={REPLAY_MW: 950})

    assert [(i["url"], i["title"]) for i in items] == [
        (f"{site}/one", "Lanterns return to the harbour"),
        (f"{site}/three", "Bakery reopens"),
        (f"{site}/two#comments", "Council votes on ferry"),
    ]
    assert all(i["flags"] == ["replay"] for i in items)
    assert stats["newscrawl/replay/hit"] == 6  # index, one, two, moved, three, gone
    assert stats["newscrawl/replay/miss"] == 2  # robots.txt and /missing
    assert stats["newscrawl/replay/urls"] == 6
    assert stats["downloader/response_status_count/301"] == 1
    assert stats["httpcompression/response_count"] == 1  # gzip body decoded by Scrapy
    assert stats["httperror/response_ignored_status_count/404"] == 2  # /gone, /missing
    assert stats["item_scraped_count"] == 3
    assert "downloader/exception_count" not in stats
    assert f"Replay miss: {site}/missing is not in the archive" in log
    assert f"Replay miss: {site}/robots.txt" in log
    assert "ScrapyDeprecationWarning" not in log


class _Site(BaseHTTPRequestHandler):
    pages = {
        "/": (HTML, _html("Home", ["/a", "/b"], h1=False)),
        "/a": (HTML, _html("Orchard fair draws crowds")),
        "/b": (HTML + [("Content-Encoding", "gzip")], gzip.compress(_html("Tram line extended"))),
    }

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        headers, body = self.pages.get(self.path, ([], b""))
        self.send_response(200 if self.path in self.pages else 404)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serve_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_record_then_replay_offline(tmp_path: Path) -> None:
    template = str(tmp_path / "rec" / "%(name)s-%(time)s.warc.gz")
    with _serve_site() as live_site:
        live_items, live_stats, live_log = _crawl(
            tmp_path, "live", f"{live_site}/", NEWSCRAWL_RECORD=template,
            DOWNLOADER_MIDDLEWARES={RECORD_MW: 960},
        )
    port = int(live_site.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):  # the site is really gone now
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert [i["title"] for i in live_items] == ["Orchard fair draws crowds", "Tram line extended"]
    assert all(i["flags"] == [] for i in live_items)
    assert live_stats["newscrawl/record/records"] == 4  # robots.txt (404), /, /a, /b
    assert "ScrapyDeprecationWarning" not in live_log
    (warc,) = (tmp_path / "rec").glob("warctest-*.warc.gz")

    with WarcArchive(warc) as archive:
        assert archive.get(f"{live_site}/robots.txt").status == 404
        b = archive.get(f"{live_site}/b")
        assert b.body[:2] == b"\x1f\x8b"  # recorded before HttpCompressionMiddleware
        assert ("Content-Encoding", "gzip") in b.headers

    items, stats, _ = _crawl(tmp_path, "offline", f"{live_site}/", NEWSCRAWL_REPLAY=str(warc),
                             DOWNLOADER_MIDDLEWARES={REPLAY_MW: 950, RECORD_MW: 960},
                             NEWSCRAWL_RECORD=str(tmp_path / "again.warc.gz"))
    assert [(i["url"], i["title"]) for i in items] == [(i["url"], i["title"]) for i in live_items]
    assert stats["newscrawl/replay/hit"] == 4 and "newscrawl/replay/miss" not in stats
    assert "newscrawl/record/records" not in stats  # replayed responses are not re-recorded
    assert "downloader/exception_count" not in stats
