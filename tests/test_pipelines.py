"""Unit tests of each pipeline stage and the JSONL exporter, with a real crawler's settings and stats."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from newscrawl.exporters import ArticleJsonLinesExporter
from newscrawl.items import FIELD_ORDER, Article
from pipelines.clean import CleanPipeline
from pipelines.dedup import DedupPipeline
from pipelines.validate import ValidatePipeline

BODY = ("PARIS (AFP) - The city council voted on Tuesday to turn three more streets near the river into "
        "pedestrian zones from next spring, the mayor's office said.\n\n"
        "Shop owners on the streets were split, with some fearing fewer customers and others expecting more "
        "foot traffic once the cars are gone.\n\n"
        "Advertisement\n\n"
        "The plan will be reviewed after one year, when the council will decide whether to extend it further.")


def crawler(**settings: Any) -> Any:
    c = get_crawler(settings_dict={"SPIDER_MODULES": ["spiders"], **settings})
    c.stats.open_spider()
    return c


def article(**overrides: Any) -> Article:
    item = Article(url="https://news.example/a", canonical_url="https://news.example/a", source="example",
                   headline="Council votes for car-free streets", body=BODY, authors=["Ana Sousa"],
                   published_at="2026-11-24T10:00:00+01:00", fetched_at="2026-11-25T00:00:00+00:00",
                   provenance={"body": "site"})
    item.update(overrides)
    return item


def clean(item: Article, c: Any = None) -> Article:
    return CleanPipeline.from_crawler(c or crawler()).process_item(item)


# ------------------------------------------------------------------------------------------- clean
def test_clean_repairs_mojibake_and_strips_boilerplate() -> None:
    item = clean(article(headline="Donâ€™t panic, says mayor", body=BODY + "\n\nCopyrightÂ© Example News 2026. All rights reserved."))
    assert item["headline"] == "Don’t panic, says mayor"
    assert "Advertisement" not in item["body"]
    assert "Copyright" not in item["body"]
    assert item["body"].startswith("PARIS (AFP) - The city council")  # the body keeps its dateline text


def test_clean_parses_dateline_wire_counts_and_hash() -> None:
    item = clean(article())
    assert item["dateline"] == "PARIS"
    assert item["wire_source"] == "AFP"
    assert item["provenance"]["dateline"] == "derived"
    # \w+ tokens of what remains after "Advertisement" was stripped: 27 + 23 + 18 (counted by hand)
    assert item["word_count"] == 68
    assert item["content_hash"].startswith("sha1:")
    # trivially reformatted body: same hash
    again = clean(article(body=item["body"].replace("  ", " ").upper()))
    assert again["content_hash"] == item["content_hash"]


def test_clean_fills_every_contract_field() -> None:
    item = clean(article())
    for name in FIELD_ORDER:
        if name not in ("id", "error"):
            assert name in item, name
    assert item["tags"] == [] and item["images"] == [] and item["revision"] == 1


def test_clean_applies_outlet_boilerplate_by_source() -> None:
    body = "SINGAPORE: A story paragraph that is long enough to stay in the body of the article.\n\nCNA Sections"
    assert "CNA Sections" not in clean(article(source="cna", body=body))["body"]
    # another outlet's rules are not applied to it
    assert "CNA Sections" in clean(article(source="example", body=body))["body"]


# ------------------------------------------------------------------------------------------ validate
@pytest.mark.parametrize(("overrides", "reason"), [
    ({"headline": None}, "no_headline"),
    ({"body": None}, "no_body"),
    ({"body": "Too short to be an article."}, "short_body"),
    ({"published_at": "yesterday"}, "bad_published_at"),
    ({"url": "ftp://news.example/a"}, "bad_url"),
    ({"authors": "Ana Sousa"}, "bad_authors"),
])
def test_validate_drops_with_reason_and_stat(overrides: dict[str, Any], reason: str) -> None:
    c = crawler()
    item = clean(article(), c)
    item.update(overrides)
    with pytest.raises(DropItem) as exc:
        ValidatePipeline.from_crawler(c).process_item(item)
    assert reason in str(exc.value)
    assert c.stats.get_value(f"newscrawl/validate/dropped/{reason}") == 1


def test_validate_passes_a_clean_item() -> None:
    c = crawler()
    item = clean(article(), c)
    assert ValidatePipeline.from_crawler(c).process_item(item) is item
    assert c.stats.get_value("newscrawl/validate/passed") == 1


# --------------------------------------------------------------------------------------------- dedup
class Run:
    """A dedup stage with the export signal wired, as in a crawl."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.c = crawler(NEWSCRAWL_STATE_PATH=str(tmp_path / "state.sqlite3"), **settings)
        self.p = DedupPipeline.from_crawler(self.c)
        self.p.open_spider()

    def feed(self, item: Article, export: bool = True) -> Article | None:
        try:
            out = self.p.process_item(clean(item, self.c))
        except DropItem:
            return None
        if export:
            self.c.signals.send_catch_log(signals.item_scraped, item=out, response=None, spider=None)
        return out

    def close(self) -> None:
        self.p.close_spider()


def test_dedup_same_url_dropped_across_runs_and_revision_on_change(tmp_path: Path) -> None:
    run = Run(tmp_path)
    assert run.feed(article())["revision"] == 1
    assert run.feed(article()) is None  # same URL, same body, same run
    run.close()
    run2 = Run(tmp_path)
    assert run2.feed(article()) is None  # next scheduled run: already exported
    edited = run2.feed(article(body=BODY + "\n\nThe mayor later added that buses would keep their lanes."))
    assert edited["revision"] == 2 and edited["previous_hash"]
    assert run2.c.stats.get_value("newscrawl/dedup/dropped/seen_url") == 1
    run2.close()


def test_dedup_unexported_item_is_not_remembered(tmp_path: Path) -> None:
    run = Run(tmp_path)
    run.feed(article(), export=False)  # crashed before export
    run.close()
    run2 = Run(tmp_path)
    assert run2.feed(article()) is not None


def test_dedup_same_body_other_outlet_marked_same_outlet_dropped(tmp_path: Path) -> None:
    run = Run(tmp_path)
    first = run.feed(article())
    assert first["duplicate_of"] is None
    other = run.feed(article(url="https://other.example/b", canonical_url="https://other.example/b", source="other"))
    assert other["duplicate_of"] == "https://news.example/a"
    amp = run.feed(article(url="https://news.example/amp/a", canonical_url="https://news.example/amp/a"))
    assert amp is None
    assert run.c.stats.get_value("newscrawl/dedup/dropped/same_body") == 1


def test_dedup_near_duplicate_marked_or_dropped(tmp_path: Path) -> None:
    edited = BODY.replace("PARIS (AFP) - ", "PARIS: ") + "\n\nReporting by Jean Martin; editing by Ana Sousa"
    run = Run(tmp_path)
    run.feed(article())
    near = run.feed(article(url="https://other.example/c", canonical_url=None, source="other", body=edited))
    assert near["duplicate_of"] == "https://news.example/a"
    unrelated = run.feed(article(url="https://other.example/d", canonical_url=None, source="other",
                                 body="A wholly different report about a football match that ended in a draw "
                                      "after extra time, with both coaches praising the referee. " * 3))
    assert unrelated["duplicate_of"] is None
    run.close()
    drop = Run(tmp_path / "drop", NEWSCRAWL_DEDUP_NEAR_ACTION="drop")
    drop.feed(article())
    assert drop.feed(article(url="https://other.example/c", canonical_url=None, source="other", body=edited)) is None


def test_dedup_mark_mode_never_drops(tmp_path: Path) -> None:
    run = Run(tmp_path, NEWSCRAWL_DEDUP_MODE="mark")
    assert run.feed(article()) is not None
    assert run.feed(article()) is not None
    assert not (tmp_path / "state.sqlite3").exists()  # batch extraction keeps its state apart


# ------------------------------------------------------------------------------------------ exporter
def export(item: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    ArticleJsonLinesExporter(buf).export_item(item)
    return buf.getvalue()


def test_exporter_one_line_per_item_with_stable_order_and_escaped_separators() -> None:
    item = dict(article(body=BODY + "\n\nA line\u2028separator and\u2029paragraph and\u0085next line."))
    line = export(item)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert len(line.decode("utf-8").splitlines()) == 1  # splitlines() treats U+2028/9 and U+0085 as breaks
    data = json.loads(line)
    assert list(data) == [f for f in FIELD_ORDER if f in data]
    assert "\u2028" in data["body"]


def test_exporter_repairs_lone_surrogates_instead_of_losing_the_item() -> None:
    line = export({"url": "https://news.example/a", "headline": "Broken \ud800 text"})
    assert json.loads(line)["headline"] == "Broken \ufffd text"


@pytest.mark.parametrize("body", ["", "one", "Straße İstanbul ΣΊΣΥΦΟΣ\n\nA second paragraph with enough words to count here.",
                                  "\n\n".join(f"Paragraph {i} of the harbour story has more than eight words in it."
                                              for i in range(12))])
def test_body_signatures_equal_the_separate_signatures(body: str) -> None:
    import hashlib
    import re

    from newscrawl.neardup import SKETCH_MIN_WORDS, SKETCH_SIZE, body_signatures, simhash

    # the sketch by its definition: bottom-k blake2b of the normalised paragraphs of >= SKETCH_MIN_WORDS words
    paragraphs = [re.findall(r"\w+", para.casefold()) for para in body.split("\n\n")]
    expected = sorted({int.from_bytes(hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest(), "little",
                                      signed=True) for words in paragraphs if len(words) >= SKETCH_MIN_WORDS})
    assert body_signatures(body) == (simhash(body), expected[:SKETCH_SIZE])


def test_validate_accepts_nested_items_as_plain_dicts() -> None:
    # the fast path validates a shallow copy; a custom spider's nested Item objects still pass as dicts
    import scrapy

    class Image(scrapy.Item):
        url = scrapy.Field()
        caption = scrapy.Field()
        credit = scrapy.Field()

    c = crawler()
    item = clean(article(), c)
    item["images"] = [Image(url="https://news.example/img/harbour.jpg", caption="The harbour", credit=None)]
    assert ValidatePipeline.from_crawler(c).process_item(item) is item
    assert c.stats.get_value("newscrawl/validate/passed") == 1
