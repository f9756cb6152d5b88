"""Crash consistency: ``kill -9`` a real crawl at several points, resume, and reconcile the exports.

The site (127.0.0.1, slightly slow answers so a crawl lasts a few seconds) serves a news sitemap of
ARTICLES article pages, a few of them behind a redirect. A crawl (``python -m scrapy runspider`` from
the repo root, project settings) is killed with SIGKILL at each kill point, then re-run until it
finishes. The union of all export files must hold every article exactly once, as whole JSON lines.

Kill points: early (first lines exported, many requests in flight), "during export" (the process
kills itself after the exporter wrote a line and before the state recorded it; a torn half line is
then appended, as a kill in the middle of a large write leaves), and mid-crawl.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newscrawl import journal
from newscrawl.dupefilter import CLEAN_MARK, QUEUE_DIR, SEEN_FILE, ResumableDupeFilter
from newscrawl.feedstorage import SafeFileFeedStorage
from tests.conftest import REPO, stats_of
from tests.httpsite import SiteHandler, serve

pytestmark = pytest.mark.reliability

ARTICLES = 160
# Scrapy's RFPDupeFilter buffers requests.seen in 8 KiB (~370 fingerprints): the JOBDIR crawl must enqueue
# more than that before a kill, or plain Scrapy would lose nothing here either.
JOBDIR_ARTICLES = 420
REDIRECT_EVERY = 32
DELAY = 0.012                          # seconds per article answer
VOCAB = [f"{a}{b}" for a in ("har", "bri", "lan", "mor", "tel", "vas", "qui", "dor", "pen", "sul")
         for b in ("bour", "dge", "tern", "ning", "ford", "ment", "lock", "ress", "ville", "ture")]

# ------------------------------------------------------------------------------------------ the site


def article_page(n: int) -> bytes:
    rnd = random.Random(n)  # every story has its own words: no two bodies are (near-)duplicates
    paragraphs = "".join(f"<p>{' '.join(rnd.choice(VOCAB) for _ in range(18)).capitalize()}.</p>" for _ in range(5))
    # the story's number in letters: a headline with "404" in it reads as a soft 404 page
    tag = "".join(chr(97 + int(d)) for d in str(n))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {tag}</title></head><body>
<article><h1>Story {tag} from the harbour desk</h1><p class="byline">By <a href="/a">Rui Vaz</a></p>
<time datetime="2026-11-20T08:00:00">Nov</time><div class="story">{paragraphs}</div></article></body></html>""".encode()


class Site(SiteHandler):
    """``/<size>/news-sitemap.xml`` lists ``/<size>/news/<n>`` for n < size (every REDIRECT_EVERY-th as
    ``/<size>/news/<n>-old``, a 301 to the article): one server, sites of any size."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        m = re.fullmatch(r"/(\d+)/(news-sitemap\.xml|news/(\d+)(-old)?)", self.path)
        size = int(m.group(1)) if m else 0
        if m and m.group(2) == "news-sitemap.xml":
            urls = [f"/{size}/news/{n}" + ("-old" if n % REDIRECT_EVERY == 0 else "") for n in range(size)]
            body = "".join(f"<url><loc>{base}{u}</loc><news:news><news:publication><news:name>Gazette</news:name>"
                           f"<news:language>en</news:language></news:publication><news:publication_date>"
                           f"2026-11-20T08:00:00Z</news:publication_date><news:title>T</news:title></news:news></url>"
                           for u in urls)
            return self.reply(200, ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                                    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                                    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                                    + body + "</urlset>").encode(), "application/xml")
        if m and m.group(3) and int(m.group(3)) < size:
            if m.group(4):
                return self.redirect(base + self.path[:-4])
            time.sleep(DELAY)
            return self.reply(200, article_page(int(m.group(3))), "text/html; charset=utf-8")
        return self.reply(404, b"not found", "text/plain")






@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve(Site) as base:
        yield base


# ------------------------------------------------------------------------------- fault injection


class KillAfterExport:
    """Test-only extension: SIGKILL this process right after the feed exporter wrote line N of the
    run and before the dedup stage recorded it (extensions connect to ``item_scraped`` after the
    FeedExporter and before the item pipelines)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> KillAfterExport:
        ext = cls(crawler.settings.getint("CRASH_KILL_AFTER_EXPORT"))
        from scrapy import signals

        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        self.count += 1
        if self.after and self.count >= self.after:
            os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------------------------- harness


class Crawl:
    """One crawl target: a state file, an export directory, optionally a JOBDIR, and its run logs."""

    def __init__(self, site: str, root: Path, jobdir: bool, articles: int = ARTICLES) -> None:
        self.site, self.root, self.articles = f"{site}/{articles}", root, articles
        self.out = root / "out"
        self.jobdir = root / "job" if jobdir else None
        self.logs: list[str] = []

    def lines(self) -> int:
        return sum(p.read_bytes().count(b"\n") for p in self.out.rglob("*.jsonl*"))

    def run(self, *, kill_at_lines: int | None = None, kill_after_export: int = 0,
            extra: tuple[str, ...] = (), timeout: float = 60) -> tuple[int, str]:
        """Run the crawl; SIGKILL it once the exports hold ``kill_at_lines`` lines. -> (returncode, log)."""
        args = [sys.executable, "-m", "scrapy", "runspider", "tests/spiders/localsite.py", "-a", f"base={self.site}",
                "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1",
                "-s", "LOG_LEVEL=INFO", *extra]
        if self.jobdir is not None:
            args += ["-s", f"JOBDIR={self.jobdir}"]
        if kill_after_export:
            args += ["-s", 'EXTENSIONS={"tests.test_crash.KillAfterExport": 500}',
                     "-s", f"CRASH_KILL_AFTER_EXPORT={kill_after_export}"]
        env = dict(os.environ, PYTHONPATH=str(REPO), NEWSCRAWL_STATE_PATH=str(self.root / "state.sqlite3"),
                   NEWSCRAWL_FEED_URI=str(self.out / "%(name)s" / "%(time)s.jsonl"))
        log = self.root / f"run{len(self.logs)}.log"
        with log.open("w") as err:
            proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + timeout
            try:
                while proc.poll() is None and time.monotonic() < deadline:
                    if kill_at_lines is not None and self.lines() >= kill_at_lines:
                        proc.send_signal(signal.SIGKILL)
                        break
                    time.sleep(0.02)
                rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        text = log.read_text("utf-8", "replace")
        self.logs.append(text)
        return rc, text


def exported(out: Path) -> tuple[list[str], list[str]]:
    """(URLs of every exported line, problems: lines that are not whole JSON objects)."""
    urls: list[str] = []
    problems: list[str] = []
    for path in sorted(out.rglob("*.jsonl*")):
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            problems.append(f"{path.name}: unterminated last line")
        for line in data.split(b"\n"):
            if not line:
                continue
            try:
                urls.append(json.loads(line)["url"])
            except (ValueError, KeyError) as exc:
                problems.append(f"{path.name}: {exc}: {line[:60]!r}")
    return urls, problems


def counted_but_missing(crawl: Crawl) -> set[str]:
    """Articles the state counts as exported that no whole export line holds (must stay empty)."""
    db = sqlite3.connect(crawl.root / "state.sqlite3")
    try:
        counted = {row[0] for row in db.execute("SELECT url FROM article")}
    finally:
        db.close()
    lines: set[str] = set()
    for path in crawl.out.rglob("*.jsonl*"):
        for line in journal.read_lines(path):
            article = json.loads(line)
            lines.add(article.get("canonical_url") or article["url"])
    return counted - lines


def crash_and_resume(site: str, root: Path, *, jobdir: bool, articles: int = ARTICLES) -> Crawl:
    crawl = Crawl(site, root, jobdir, articles)
    # kill point 1: early, requests in flight and queued
    rc, _ = crawl.run(kill_at_lines=25)
    assert rc == -signal.SIGKILL, f"the run ended (rc={rc}) before 25 lines"
    assert counted_but_missing(crawl) == set()
    # kill point 2: during export (line written, state not recorded), then a torn half line appended
    before = crawl.lines()
    rc, _ = crawl.run(kill_after_export=30)
    assert rc == -signal.SIGKILL, f"the resumed run ended (rc={rc}) with {crawl.lines() - before} new lines"
    assert crawl.lines() >= before + 30
    assert counted_but_missing(crawl) == set()
    newest = max(crawl.out.rglob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    with newest.open("ab") as f:
        f.write(b'{"url":"' + site.encode() + b'/news/torn","headline":"half a rec')
    if crawl.jobdir is not None:  # and a torn fingerprint record
        with (crawl.jobdir / SEEN_FILE).open("ab") as f:
            f.write(b"9f3a")
    # kill point 3: mid-crawl
    before = crawl.lines()
    rc, _ = crawl.run(kill_at_lines=before + 60)
    assert rc == -signal.SIGKILL, f"the resumed run ended (rc={rc}) with {crawl.lines() - before} new lines"
    assert counted_but_missing(crawl) == set()
    # resume until the crawl finishes (bounded)
    for _ in range(3):
        rc, log = crawl.run()
        if rc == 0:
            break
    assert rc == 0, crawl.logs[-1][-3000:]
    return crawl


def check_every_article_once(crawl: Crawl) -> dict[str, Any]:
    urls, problems = exported(crawl.out)
    assert problems == []
    expected = {f"{crawl.site}/news/{n}" for n in range(crawl.articles)}
    missing = expected - set(urls)
    twice = sorted({u for u in urls if urls.count(u) > 1})
    assert not missing, f"{len(missing)} articles lost"
    assert not twice, f"{len(twice)} articles exported twice"
    assert len(urls) == crawl.articles
    return stats_of(crawl.logs[-1])


# ----------------------------------------------------------------------------------------- tests


def test_kill9_at_three_points_then_resume_exports_every_article_once(site: str, tmp_path: Path) -> None:
    crawl = crash_and_resume(site, tmp_path, jobdir=False)
    stats = check_every_article_once(crawl)
    # the run after the "during export" kill recorded the written-but-unrecorded line
    # and cut the torn half line off the killed run's file
    resumed = crawl.logs[2]
    reconciled = re.search(r"Reconciled .*: (\d+) exported articles were missing", resumed)
    assert reconciled and int(reconciled.group(1)) >= 1
    assert "Repaired torn tail" in resumed
    # the resumed run re-discovered the exported articles and skipped them (incremental) or dropped them (dedup)
    assert stats.get("newscrawl/seen/skipped", 0) + stats.get("newscrawl/dedup/dropped/seen_url", 0) >= 100
    assert stats.get("finish_reason") == "finished"


def test_kill9_with_jobdir_then_resume_exports_every_article_once(site: str, tmp_path: Path) -> None:
    crawl = crash_and_resume(site, tmp_path, jobdir=True, articles=JOBDIR_ARTICLES)
    stats = check_every_article_once(crawl)
    resumed = crawl.logs[2]
    assert "Repaired torn tail of" in resumed and SEEN_FILE in resumed
    assert "Discarded the request queue" in resumed
    # finished articles were not fetched again: the final run filtered them before download
    assert stats.get("newscrawl/jobdir/seen_loaded", 0) >= 100
    assert stats.get("dupefilter/filtered", 0) + stats.get("newscrawl/seen/skipped", 0) >= 100
    assert (crawl.jobdir / CLEAN_MARK).exists()


def test_overwrite_run_that_exports_nothing_keeps_the_earlier_export(site: str, tmp_path: Path) -> None:
    crawl = Crawl(site, tmp_path, jobdir=False)
    target = tmp_path / "latest.jsonl"
    earlier = b'{"url": "https://example.org/earlier", "headline": "An earlier export"}\n'
    target.write_bytes(earlier)
    # -O = overwrite with store_empty (Scrapy's default); limit=0 = discover only, scrape nothing.
    # Plain Scrapy 2.19 replaces the earlier file with an empty one here.
    rc, log = crawl.run(extra=("-a", "limit=0", "-O", str(target)))
    assert rc == 0, log[-2000:]
    assert target.read_bytes() == earlier
    assert stats_of(log).get("newscrawl/export/empty_kept_previous") == 1
    assert not (tmp_path / "latest.jsonl.part").exists()


# ------------------------------------------------------------------------------------ unit tests


def test_repair_tail_cuts_only_an_unterminated_last_line(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')
    assert journal.repair_tail(p) == 5
    assert p.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert journal.repair_tail(p) == 0
    p.write_bytes(b"x" * 200_000)  # no newline at all, longer than one read block
    assert journal.repair_tail(p) == 200_000 and p.read_bytes() == b""
    p.write_bytes(b'{"a":1}\n' + b"y" * 150_000)
    assert journal.repair_tail(p) == 150_000 and p.read_bytes() == b'{"a":1}\n'
    p.write_bytes(b'{"a":1}\n{"b":')
    assert list(journal.read_lines(p)) == [b'{"a":1}']


class _Spider:
    name = "localsite"


def test_journal_reconciles_lines_a_killed_run_wrote_but_never_recorded(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from pipelines.dedup import DedupPipeline

    state = tmp_path / "state.sqlite3"
    out = tmp_path / "x.jsonl"
    line = {"url": "https://example.org/a", "canonical_url": "https://example.org/a", "source": "localsite",
            "body": "one two three four five six", "content_hash": "sha1:abc", "revision": 1}
    out.write_bytes(json.dumps(line).encode() + b"\n" + b'{"url": "https://example.org/b", "bo')
    db = journal.connect(state)
    journal.register(db, out, "localsite", 0)
    journal.register(db, tmp_path / "other.jsonl", "otherspider", 0)
    db.close()

    crawler = get_crawler(settings_dict={"NEWSCRAWL_STATE_PATH": str(state)})
    crawler.stats.open_spider()
    dedup = DedupPipeline.from_crawler(crawler)
    dedup.open_spider(_Spider())
    assert dedup.store is not None and dedup.store.get("https://example.org/a") is not None
    assert dedup.store.get("https://example.org/b") is None   # the torn line was never exported
    assert out.read_bytes().endswith(b"}\n")
    assert crawler.stats.get_value("newscrawl/export/reconciled") == 1
    assert crawler.stats.get_value("newscrawl/export/torn_tail_repaired") == 1
    # handled rows are gone; another spider's open export is not touched
    assert journal.open_exports(dedup.store.db, "localsite") == []
    assert len(journal.open_exports(dedup.store.db, "otherspider")) == 1
    dedup.close_spider()


def test_overwrite_storage_never_destroys_the_earlier_export(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")})
    crawler.stats.open_spider()
    target = tmp_path / "feed.jsonl"
    target.write_bytes(b'{"old":1}\n')
    options = {"format": "jsonl", "overwrite": True}

    def storage() -> SafeFileFeedStorage:
        return SafeFileFeedStorage.from_crawler(crawler, str(target), feed_options=options)

    s = storage()
    s.store(s.open(_Spider()))                       # a run with nothing to export
    assert target.read_bytes() == b'{"old":1}\n'
    s = storage()
    f = s.open(_Spider())
    f.write(b'{"new":1}\n{"new":')                   # killed mid-run: the earlier export is untouched
    f.flush()
    assert target.read_bytes() == b'{"old":1}\n'
    s = storage()
    f = s.open(_Spider())                            # the next run adopts the .part, repaired
    f.write(b'{"new":2}\n')
    s.store(f)
    assert target.read_bytes() == b'{"new":1}\n{"new":2}\n'
    assert not (tmp_path / "feed.jsonl.part").exists()
    assert crawler.stats.get_value("newscrawl/export/empty_kept_previous") == 1
    assert crawler.stats.get_value("newscrawl/export/part_adopted") == 1


def test_seen_file_with_torn_record_is_repaired_and_read_back_aligned(tmp_path: Path) -> None:
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"JOBDIR": str(tmp_path)})
    # Scrapy's length-prefixed requests.seen with a torn record: ignored, never misread
    (tmp_path / "requests.seen").write_bytes(b"\x00\x14" + bytes(20) + b"\x00\x14\x01\x02")
    df = ResumableDupeFilter.from_crawler(crawler)
    assert df._fingerprints == set()
    df.open()
    responses = []
    for n in range(3):
        req = Request(f"https://example.org/{n}")
        assert not df.request_seen(req)
        responses.append(type("R", (), {"request": req})())
        df._done(response=responses[-1])
    df.close("shutdown")
    with (tmp_path / SEEN_FILE).open("ab") as f:
        f.write(b"0badc0ffee")                                    # torn record
    (tmp_path / QUEUE_DIR).mkdir()
    df = ResumableDupeFilter.from_crawler(crawler)               # clean mark present: queue kept
    assert (tmp_path / QUEUE_DIR).exists()
    assert crawler.stats.get_value("newscrawl/jobdir/torn_tail_repaired") == 1
    assert all(df.request_seen(Request(f"https://example.org/{n}")) for n in range(3))
    df.open()
    later = Request("https://example.org/later")
    assert not df.request_seen(later)
    df._done(response=type("R", (), {"request": later})())
    # killed now (no close): the next open reads four aligned records and discards the queue
    df2 = ResumableDupeFilter.from_crawler(crawler)
    assert df2.request_seen(later) and not df2.request_seen(Request("https://example.org/new"))
    assert not (tmp_path / QUEUE_DIR).exists()
    assert (tmp_path / SEEN_FILE).read_bytes().count(b"\n") == 4
