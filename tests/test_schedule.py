"""How often each outlet is crawled: from its listing's window and its publishing rate (declared or measured)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newscrawl.incremental import SeenIndex
from newscrawl.scheduling import Plan, cron_line, load_times, plan_outlet, save_times
from tests.conftest import run_scrapy

pytestmark = pytest.mark.scrapyd

LIMITS = {"default_rate": 100.0, "safety": 0.25, "min_interval": timedelta(minutes=10),
          "max_interval": timedelta(hours=6)}


class WireSitemap:
    name = "wire"
    sitemap_urls = ["https://wire.example/news-sitemap.xml"]
    publishing_rate = 800


class BroadcasterFeed:
    name = "broadcaster"
    feed_urls = ["https://tv.example/rss"]
    publishing_rate = 150


class BusyFeed:
    name = "busy"
    feed_urls = ["https://portal.example/rss"]
    publishing_rate = 1500


class Undeclared:
    name = "quiet"
    sitemap_urls = ["https://quiet.example/sitemap.xml"]
    listing_max_age = "1d"


def test_interval_follows_the_listing_window() -> None:
    wire = plan_outlet(WireSitemap, measured=None, **LIMITS)
    assert wire.window == timedelta(days=1000 / 800)          # 30 h: 1,000 URLs fill before 2 days pass
    assert wire.interval == timedelta(hours=6)                # 7.5 h, capped
    feed = plan_outlet(BroadcasterFeed, measured=None, **LIMITS)
    assert feed.window == timedelta(days=20 / 150)            # 3.2 h in a 20-item feed
    assert feed.interval == timedelta(days=20 / 150) * 0.25   # 48 min
    assert plan_outlet(BusyFeed, measured=None, **LIMITS).interval == timedelta(minutes=10)  # floor
    quiet = plan_outlet(Undeclared, measured=None, **LIMITS)
    assert (quiet.rate, quiet.rate_source, quiet.window) == (100.0, "default", timedelta(days=1))


def test_a_measured_rate_above_the_declared_one_wins() -> None:
    plan = plan_outlet(BroadcasterFeed, measured=600.0, **LIMITS)
    assert (plan.rate, plan.rate_source) == (600.0, "measured")
    assert plan.interval == timedelta(days=20 / 600) * 0.25
    assert plan_outlet(BroadcasterFeed, measured=50.0, **LIMITS).rate_source == "declared"


def test_measured_rate_divides_by_the_span_observed(tmp_path: Path) -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    index = SeenIndex(tmp_path / "state.sqlite3")
    # one day of crawling a 2-day sitemap: 60 articles published over the last 2 days
    for n in range(60):
        published = (now - timedelta(hours=48 * n / 60)).isoformat()
        urls = [f"https://x.example/a/{n}"] + ([f"https://x.example/old/{n}"] if n % 10 == 0 else [])
        index.mark(urls, article_url=urls[0], source="x", lastmod=None,
                   published=published, now=now)
    index.mark(["https://y.example/a"], article_url="https://y.example/a", source="y", lastmod=None,
               published=now.isoformat(), now=now)
    rate = index.publishing_rate("x", now)
    assert rate == pytest.approx(60 / (48 * 59 / 60 / 24), rel=1e-6)  # ~30.5/day, not 60/7 = 8.6
    assert index.publishing_rate("y", now) is None                   # too little data
    index.close()


def test_cron_lines_round_down_to_what_cron_can_express() -> None:
    def plan(minutes: float) -> Plan:
        return Plan("cna", 150, "declared", timedelta(hours=3), timedelta(minutes=minutes))

    assert cron_line(plan(48), "http://127.0.0.1:6800", "newscrawl").startswith("*/30 * * * * curl -fsS -u "
                                                                                  '"$SCRAPYD_USERNAME:$SCRAPYD_PASSWORD"'
                                                                                  " http://127.0.0.1:6800/schedule.json"
                                                                                  " -d project=newscrawl -d spider=cna")
    assert cron_line(plan(72), "http://h/", "p").startswith("0 * * * * ")
    assert cron_line(plan(360), "http://h/", "p").startswith("0 */6 * * * ")
    assert cron_line(plan(5 * 60), "http://h/", "p").startswith("0 */4 * * * ")
    assert cron_line(plan(3000), "http://h/", "p").startswith("0 0 * * * ")


def test_schedule_times_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "schedule.json"
    assert load_times(path) == {}
    save_times(path, {"cna": "2026-03-01T10:00:00+00:00"})
    assert load_times(path) == {"cna": "2026-03-01T10:00:00+00:00"}
    path.write_text("{broken", "utf-8")
    assert load_times(path) == {}


def test_schedule_command_dry_run_and_cron(tmp_path: Path) -> None:
    env = {"NEWSCRAWL_STATE_PATH": str(tmp_path / "none.sqlite3")}
    dry = run_scrapy(["schedule", "--dry-run", "--outlet", "reuters", "--outlet", "cna"], env=env, timeout=60)
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "schedule: reuters:" in dry.stderr and "crawl every" in dry.stderr
    cron = run_scrapy(["schedule", "--cron", "--url", "http://127.0.0.1:6800/", "--outlet", "cna"], env=env,
                      timeout=60)
    assert cron.returncode == 0, cron.stderr[-2000:]
    lines = [line for line in cron.stdout.splitlines() if not line.startswith("#")]
    assert len(lines) == 1 and "-d spider=cna" in lines[0] and "schedule.json" in lines[0]
    bad = run_scrapy(["schedule", "--dry-run", "--outlet", "no-such-outlet"], env=env, timeout=60)
    assert bad.returncode != 0 and "unknown outlet(s): no-such-outlet" in bad.stderr
