"""Job health monitor: a coverage drop below the outlet's baseline fails the job loudly, saves the pages that
fell short and writes both reports next to the export."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newscrawl.extensions.monitor import baseline_for, challenge_count, evaluate, wilson_upper
from tests.conftest import read_jsonl, run_scrapy, stats_of

pytestmark = pytest.mark.monitoring

TEXT = ("The harbour council met on a windy evening to vote on the ferry timetable, the bridge repair budget "
        "and the lantern festival, and the market traders asked for a new tram stop by the square.")


def story(n: int) -> str:
    words = TEXT.split()
    return " ".join(words[(n * 5) % len(words):] + words[:(n * 5) % len(words)])


class Site(BaseHTTPRequestHandler):
    bylines = True

    def do_GET(self) -> None:  # noqa: N802
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            return self.reply(b"User-agent: *\nAllow: /\n", "text/plain")
        if self.path == "/news-sitemap.xml":
            body = "".join(f"<url><loc>{base}/news/{n}</loc></url>" for n in range(1, 5))
            return self.reply(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                              f"{body}</urlset>".encode(), "application/xml")
        n = self.path.rsplit("/", 1)[-1]
        # the redesign: bylines moved into a <span class="credit"> the outlet's selector does not know
        byline = '<p class="byline">By <a href="/a/ines">Ines Vaz</a></p>' if self.bylines else \
            '<span class="credit">Ines Vaz</span>'
        html = (f'<!DOCTYPE html><html lang="en"><head><title>Story {n}</title></head><body><article>'
                f"<h1>Council story {n}</h1>{byline}<time datetime=\"2026-03-01T10:00:00\">1 March</time>"
                f'<div class="story"><p>{story(int(n))}</p><p>{story(int(n) + 7)}</p></div></article></body></html>')
        return self.reply(html.encode(), "text/html; charset=utf-8")

    def reply(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


BASELINE = json.dumps({"localsite": {"headline": 1.0, "body": 1.0, "authors": 0.9}})


def crawl(site: str, tmp_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any], str, dict[str, Any], Path]:
    out = tmp_path / "export" / "localsite.jsonl"
    proc = run_scrapy(["runspider", "tests/spiders/localsite.py", "-a", f"base={site}", "-s", "DOWNLOAD_DELAY=0",
                       "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"NEWSCRAWL_COVERAGE_BASELINE={BASELINE}",
                       ],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report_path = out.with_name("localsite.report.json")
    assert report_path.is_file(), proc.stderr[-3000:]
    assert out.with_name("localsite.report.txt").is_file()
    return read_jsonl(out), stats_of(proc.stderr), proc.stderr, json.loads(report_path.read_text("utf-8")), out


def test_healthy_job_passes_and_reports(site: str, tmp_path: Path) -> None:
    Site.bylines = True
    items, stats, log, report, _ = crawl(site, tmp_path)
    assert len(items) == 4, log[-5000:]
    assert stats["finish_reason"] == "finished"
    assert stats["newscrawl/monitor/failed"] == 0
    assert report["healthy"] is True and report["failures"] == []
    assert report["items"] == 4
    assert report["coverage"]["authors"] == 1.0 and report["coverage"]["headline"] == 1.0
    assert report["coverage"]["dateline"] == 0.0
    assert report["baseline"] == {"headline": 1.0, "body": 1.0, "authors": 0.9}
    assert report["saved_pages"] == []
    assert "HEALTH CHECK FAILED" not in log


def test_coverage_drop_trips_the_monitor(site: str, tmp_path: Path) -> None:
    Site.bylines = False
    items, stats, log, report, out = crawl(site, tmp_path)
    # the items still come out (a missing byline is no reason to lose the article) ...
    assert len(items) == 4 and all(i["authors"] == [] for i in items), log[-5000:]
    # ... but the job fails its health check, loudly
    assert stats["finish_reason"] == "health_check_failed"
    assert stats["newscrawl/monitor/failed"] == 1
    assert "HEALTH CHECK FAILED for localsite: authors coverage 0/4 (0%) is below the baseline 90%" in log
    assert report["healthy"] is False
    assert report["finish_reason"] == "health_check_failed"
    assert report["coverage"]["authors"] == 0.0
    # the pages that fell short are saved as fixture candidates: HTML + URL (fixture JSON format)
    assert len(report["saved_pages"]) == 4
    for saved in report["saved_pages"]:
        html = Path(saved["file"])
        assert html.parent == out.with_name("localsite.pages")
        assert b'<span class="credit">Ines Vaz</span>' in html.read_bytes()
        meta = json.loads(html.with_suffix(".json").read_text("utf-8"))
        assert meta["url"] == saved["url"] and meta["url"].startswith(site)
        assert meta["missing"] == ["authors"] and meta["expected"] == {}
    text = out.with_name("localsite.report.txt").read_text("utf-8")
    assert "health: FAILED" in text and "authors" in text


# ---------------------------------------------------------------------- the verdict, without a crawl
def test_small_samples_need_a_clear_shortfall() -> None:
    # 2 of 3 with authors says little against a 90% baseline; 0 of 4 and 12 of 20 do
    assert evaluate(extracted=3, filled_counts={"authors": 2}, baseline={"authors": 0.9}, article_pages=3,
                    challenges=0, max_challenge_share=0.5) == []
    assert evaluate(extracted=4, filled_counts={"authors": 0}, baseline={"authors": 0.9}, article_pages=4,
                    challenges=0, max_challenge_share=0.5)
    assert evaluate(extracted=20, filled_counts={"authors": 12}, baseline={"authors": 0.9}, article_pages=20,
                    challenges=0, max_challenge_share=0.5)
    assert 0.4 < wilson_upper(0, 4) < 0.5 and wilson_upper(5, 5) == 1.0


def test_no_article_from_article_pages_and_challenges_fail() -> None:
    assert evaluate(extracted=0, filled_counts={}, baseline={}, article_pages=12, challenges=0,
                    max_challenge_share=0.5) == ["no article extracted from 12 article page(s)"]
    # an incremental run that fetched nothing is healthy
    assert evaluate(extracted=0, filled_counts={}, baseline={"authors": 0.9}, article_pages=0, challenges=0,
                    max_challenge_share=0.5) == []
    # challenge pages never reach the spider: 2 article pages parsed + 8 walls = 10 fetched
    failures = evaluate(extracted=2, filled_counts={}, baseline={}, article_pages=2, challenges=8,
                        max_challenge_share=0.5)
    assert failures == ["8 of 10 page(s) fetched looked like bot challenges"]
    assert evaluate(extracted=8, filled_counts={}, baseline={}, article_pages=8, challenges=3,
                    max_challenge_share=0.5) == []
    assert challenge_count({"newscrawl/challenge/detected": 8, "newscrawl/challenge/cloudflare": 8}) == 8
    assert challenge_count({"newscrawl/challenge/cloudflare": 2, "newscrawl/challenge/datadome": 1}) == 3


def test_baseline_sources() -> None:
    class Outlet:
        name = "gazette"
        coverage_baseline = {"authors": 0.8}

    assert baseline_for(None, Outlet) == {"authors": 0.8}
    assert baseline_for('{"gazette": {"authors": 0.5}}', Outlet) == {"authors": 0.5}
    assert baseline_for({"other": {"authors": 0.5}}, Outlet) == {"authors": 0.8}
    assert baseline_for({"headline": 1, "body": "x"}, Outlet) == {"headline": 1.0}  # "x" logged and ignored
    assert baseline_for("not json", Outlet) == {"authors": 0.8}
