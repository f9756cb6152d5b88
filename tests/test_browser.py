"""Real crawls of tests/jssite.py: script-built articles through Chromium, and bot walls as their own outcome.

Tests marked ``browser`` drive Debian's Chromium through scrapy-playwright. They skip only outside CI
when Chromium is absent; in CI (``CI`` set) a missing Chromium is a failure, never a skip.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newscrawl.items import article_schema
from tests.conftest import read_jsonl, run_scrapy, stats_of
from tests.jssite import Site, serve, story

pytestmark = pytest.mark.crawl

CHROMIUM = os.environ.get("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message + ": the browser tests must run in CI")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def site() -> Iterator[str]:
    with serve() as base:
        yield base


def crawl(base: str, tmp_path: Path, run: str, *args: str) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    out = tmp_path / f"{run}.jsonl"
    proc = run_scrapy(["runspider", "tests/spiders/jssite.py", "-a", f"base={base}", "-s", "DOWNLOAD_DELAY=0",
                       "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1", *args],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")},
                      timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_jsonl(out), stats_of(proc.stderr), proc.stderr


def test_plain_http_sees_only_an_empty_shell(site: str, tmp_path: Path) -> None:
    items, stats, log = crawl(site, tmp_path, "plain")
    assert items == []
    assert stats.get("newscrawl/challenge/empty_shell") == 3
    assert stats.get("newscrawl/challenge/detected") == 3
    assert "newscrawl/extract/articles" not in stats
    # no browser for an outlet that did not ask for one: the handlers were never installed
    assert "Starting download handler" not in log and not any(k.startswith("playwright/") for k in stats)
    assert not any(path.startswith("/api/") for path in Site.hits)


@pytest.mark.browser
def test_browser_outlet_extracts_the_script_built_article(chromium: str, site: str, tmp_path: Path) -> None:
    items, stats, log = crawl(site, tmp_path, "browser", "-s", "NEWSCRAWL_BROWSER_OUTLETS=jssite")
    assert sorted(i["url"] for i in items) == [f"{site}/js/{n}" for n in (1, 2, 3)]
    for item in items:
        jsonschema.validate(item, article_schema())
        expected = story(int(item["url"].rsplit("/", 1)[1]))
        assert item["headline"] == expected["headline"]
        assert item["authors"] == [expected["author"]]
        assert item["published_at"] == expected["published"].replace("Z", "+00:00")
        assert item["body"] == "\n\n".join(expected["paragraphs"])
        assert item["provenance"]["body"] == "site"
    # every page was closed again, images were never fetched, and nothing looked like a wall
    assert stats.get("playwright/page_count") == 3
    assert stats.get("playwright/page_count/closed") == 3
    assert stats.get("playwright/request_count/aborted") == 3
    assert not any(path.startswith("/img/") for path in Site.hits)
    assert all(Site.hits.get(f"/api/story/{n}.json") == 1 for n in (1, 2, 3))
    assert stats.get("newscrawl/browser/requests") == 3
    assert not any(k.startswith("newscrawl/challenge/") for k in stats)
    assert "Launching browser" in log and log.count("Starting download handler") == 1  # one driver, both schemes


def test_walls_give_no_item_and_are_not_marked_seen(site: str, tmp_path: Path) -> None:
    items, stats, _ = crawl(site, tmp_path, "walls", "-a", "sitemap=/challenge-sitemap.xml")
    assert items == []
    assert stats.get("newscrawl/challenge/cloudflare") == 1  # the 200 "Just a moment..." interstitial
    assert stats.get("newscrawl/challenge/datadome") == 1    # the 403 block page
    assert stats.get("newscrawl/challenge/detected") == 2
    assert Site.hits["/cf/1"] == 1 and Site.hits["/dd/1"] == 1
    # the outlet lifts its wall: the same URLs come out on the next run (nothing marked them seen)
    Site.walls_up = False
    items, stats, _ = crawl(site, tmp_path, "open", "-a", "sitemap=/challenge-sitemap.xml")
    assert sorted(i["url"] for i in items) == [f"{site}/cf/1", f"{site}/dd/1"]
    assert not any(k.startswith("newscrawl/challenge/") for k in stats)


@pytest.mark.browser
def test_a_wall_is_retried_once_in_the_browser(chromium: str, site: str, tmp_path: Path) -> None:
    items, stats, log = crawl(site, tmp_path, "retry", "-a", "sitemap=/challenge-sitemap.xml",
                              "-s", "NEWSCRAWL_CHALLENGE_BROWSER_RETRY=True")
    # the JS challenge (sets a cookie, reloads) passes in Chromium; the DataDome 403 does not
    assert [i["url"] for i in items] == [f"{site}/cf/1"]
    assert items[0]["body"] == "\n\n".join(story(1)["paragraphs"])
    assert stats.get("newscrawl/challenge/retried_in_browser") == 2
    assert stats.get("newscrawl/challenge/solved_in_browser") == 1
    assert stats.get("newscrawl/challenge/gave_up") == 1
    assert stats.get("newscrawl/challenge/datadome") == 2  # plain answer + browser answer, then no more
    assert Site.hits["/dd/1"] == 2
    assert Site.hits["/cf/1"] == 3  # plain, browser, browser after the reload
    assert stats.get("playwright/page_count") == stats.get("playwright/page_count/closed") == 2
    assert "giving up on" in log
