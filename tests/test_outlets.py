"""Every outlet spider against its fixture pages: one test per (outlet, case, field).

Fixtures live in ``tests/fixtures/<outlet>/``: ``<case>.html`` (a page written for newscrawl that
mimics the outlet's markup) and ``<case>.json`` = {"url": ..., "expected": {field: value}}.
An outlet that Scrapy's loader finds without any fixture case fails here.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from parsel import Selector
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.test import get_crawler

from newscrawl import settings as project_settings
from newscrawl.extract import extract_article
from newscrawl.extract.site import SiteRules
from newscrawl.items import article_schema
from pipelines.clean import CleanPipeline
from tests.conftest import FIXTURES

SETTINGS = Settings()
SETTINGS.setmodule(project_settings)
LOADER = get_spider_loader(SETTINGS)
# Dedicated outlet spiders: modules in spiders/ with a selectors table (the generic `news` spider and
# outlets-file entries have no site layer to test).
OUTLETS = sorted(name for name in LOADER.list()
                 if LOADER.load(name).__module__.startswith("spiders.") and getattr(LOADER.load(name), "selectors", None))


def cases(outlet: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / outlet).glob("*.json") if p.name != "routes.json")


@cache
def extracted(outlet: str, case: str) -> dict[str, Any]:
    """The item an outlet makes of a fixture page: extraction, then the clean stage."""
    spec = json.loads((FIXTURES / outlet / f"{case}.json").read_text("utf-8"))
    html = (FIXTURES / outlet / f"{case}.html").read_text("utf-8")
    spidercls = LOADER.load(outlet)
    result = extract_article(Selector(text=html), spec["url"], SiteRules.of(spidercls), html=html, source=outlet,
                             fetched_at="2026-11-25T00:00:00+00:00")
    assert result.is_article, result.reason
    crawler = get_crawler(settings_dict={"SPIDER_MODULES": ["spiders"]})
    crawler.stats.open_spider()
    item = CleanPipeline.from_crawler(crawler).process_item(result.item)
    return dict(item)


@pytest.mark.parametrize("outlet", OUTLETS)
def test_outlet_has_fixtures(outlet: str) -> None:
    assert cases(outlet), f"outlet {outlet!r} has no fixture case in tests/fixtures/{outlet}/"


FIELD_CASES = [
    pytest.param(outlet, case.stem, field, expected, id=f"{outlet}-{case.stem}-{field}")
    for outlet in OUTLETS for case in cases(outlet)
    for field, expected in json.loads(case.read_text("utf-8"))["expected"].items()
]


@pytest.mark.parametrize(("outlet", "case", "field", "expected"), FIELD_CASES)
def test_outlet_field(outlet: str, case: str, field: str, expected: Any) -> None:
    item = extracted(outlet, case)
    actual = item.get(field)
    if isinstance(expected, dict) and "contains" in expected:
        for snippet in expected["contains"]:
            assert snippet in (actual or ""), f"{field} lacks {snippet!r}"
        for snippet in expected.get("excludes", []):
            assert snippet not in (actual or ""), f"{field} still has {snippet!r}"
        if "paragraphs" in expected:
            assert len((actual or "").split("\n\n")) == expected["paragraphs"]
    else:
        assert actual == expected


@pytest.mark.parametrize("outlet", OUTLETS)
def test_outlet_items_match_schema(outlet: str) -> None:
    for case in cases(outlet):
        item = extracted(outlet, case.stem)
        item.setdefault("duplicate_of", None)
        jsonschema.validate(item, article_schema())
