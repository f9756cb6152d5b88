"""Every outlet, crawled for real from its sitemap/feed fixture through WARC replay to exported JSONL.

Each ``tests/fixtures/<outlet>/routes.json`` lists the outlet's fixture site and ``expect_items``:
the number of articles a crawl of it must export (non-article and disallowed links included in the
site must not come out).
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from newscrawl.fixturesite import build_archive
from newscrawl.items import article_schema
from tests.conftest import FIXTURES, read_jsonl, run_scrapy, stats_of
from tests.test_outlets import OUTLETS

pytestmark = pytest.mark.crawl


@pytest.mark.parametrize("outlet", OUTLETS)
def test_outlet_crawl_from_discovery_to_jsonl(outlet: str, tmp_path: Path) -> None:
    spec_path = FIXTURES / outlet / "routes.json"
    assert spec_path.is_file(), f"{outlet} has no fixture site (tests/fixtures/{outlet}/routes.json)"
    spec = json.loads(spec_path.read_text("utf-8"))
    site = tmp_path / "site"
    (site / outlet).mkdir(parents=True)
    for f in (FIXTURES / outlet).iterdir():
        (site / outlet / f.name).write_bytes(f.read_bytes())
    archive = tmp_path / "site.warc.gz"
    build_archive(site, archive)
    out = tmp_path / "items.jsonl"
    proc = run_scrapy(["crawl", outlet, "-s", f"NEWSCRAWL_REPLAY={archive}"],
                      env={"NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(tmp_path / "s.sqlite3")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = read_jsonl(out)
    stats = stats_of(proc.stderr)
    assert len(items) == spec["expect_items"], (stats, [i["url"] for i in items])
    assert stats.get("log_count/ERROR", 0) == 0, proc.stderr[-3000:]
    for item in items:
        jsonschema.validate(item, article_schema())
        assert item["source"] == outlet
    assert len({i["canonical_url"] or i["url"] for i in items}) == len(items)
