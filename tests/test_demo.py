"""The README's main job: `scrapy demo` crawls the fixture outlets offline and summarises them."""
from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from newscrawl.items import article_schema
from tests.conftest import read_jsonl, run_scrapy

pytestmark = pytest.mark.crawl


def test_demo_crawls_every_fixture_outlet_offline_and_marks_the_syndicated_copy(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = run_scrapy(["demo", "--out", str(out)], timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = {p.stem: read_jsonl(p) for p in (out / "items").glob("*.jsonl")}
    assert {"cna", "reuters"} <= set(items)
    for outlet, rows in items.items():
        assert rows, f"{outlet} exported nothing"
        for row in rows:
            jsonschema.validate(row, article_schema())
    cna_copy = next(i for i in items["cna"] if "regrouping" in i["url"])
    assert cna_copy["duplicate_of"].startswith("https://www.reuters.com/world/europe/russian-forces-regrouping")
    assert "duplicates" in proc.stdout and "(duplicate of https://www.reuters.com/" in proc.stdout
    # the boilerplate-heavy CNA page comes out clean
    assert "Advertisement" not in cna_copy["body"] and "Follow our news" not in cna_copy["body"]
    assert "Â" not in cna_copy["body"]
