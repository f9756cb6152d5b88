"""Clean stage: mojibake, Unicode, whitespace, boilerplate; dateline, wire credit, counts, hash.

Runs first, so validation and deduplication see the text users will see ("CopyrightÂ©" is repaired
before two copies of a story are compared).
"""
from __future__ import annotations

import logging
import re
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newscrawl import processors as p
from newscrawl.extract.site import SiteRules
from newscrawl.items import FIELD_ORDER, LIST_FIELDS
from newscrawl.outlets import outlet_class

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("headline", "description", "section", "publisher", "dateline", "wire_source")


class CleanPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self._rules: dict[str, tuple[re.Pattern[str], ...]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        return cls(crawler)

    def outlet_boilerplate(self, source: str | None) -> tuple[re.Pattern[str], ...]:
        """The outlet's own boilerplate patterns, looked up by the item's source (data, not branches)."""
        if not source:
            return ()
        if source not in self._rules:
            # the running spider first (it may come from `scrapy runspider`), else the project's outlets
            running = getattr(self.crawler, "spider", None)
            spidercls = type(running) if getattr(running, "name", None) == source else \
                outlet_class(self.crawler.settings, source)
            self._rules[source] = SiteRules.of(spidercls).boilerplate if spidercls else ()
        return self._rules[source]

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        for name in FIELD_ORDER:
            if name in ("id", "error"):
                continue
            if adapter.get(name) is None:
                adapter[name] = [] if name in LIST_FIELDS else None
        adapter["provenance"] = adapter.get("provenance") or {}
        if adapter.get("revision") is None:
            adapter["revision"] = 1
        for name in TEXT_FIELDS:
            if isinstance(adapter.get(name), str):
                adapter[name] = p.clean_text(adapter[name])
        adapter["authors"] = [a for a in (p.clean_text(x) for x in adapter["authors"] if isinstance(x, str)) if a]
        adapter["tags"] = [t for t in (p.clean_text(x) for x in adapter["tags"] if isinstance(x, str)) if t]
        for img in adapter["images"]:
            for k in ("caption", "credit"):
                if isinstance(img.get(k), str):
                    img[k] = p.clean_text(img[k])

        body = adapter.get("body")
        if isinstance(body, str) and body:
            paragraphs = p.clean_paragraphs(p.split_paragraphs(body))
            kept = p.strip_boilerplate(paragraphs, self.outlet_boilerplate(adapter.get("source")))
            if len(kept) < len(paragraphs):
                self.stats.inc_value("newscrawl/clean/boilerplate_paragraphs", len(paragraphs) - len(kept))
            adapter["body"] = p.join_paragraphs(kept) or None
        body = adapter.get("body")

        if body:
            paragraphs = p.split_paragraphs(body)
            opening = paragraphs[0]
            # a standfirst printed as the first paragraph is not the story's opening ("WASHINGTON (Reuters) -")
            if len(paragraphs) > 1 and adapter.get("description") and \
                    p.clean_text(adapter["description"]) == opening:
                opening = paragraphs[1]
            dateline, wire = p.parse_dateline(opening)
            if dateline and not adapter.get("dateline"):
                adapter["dateline"] = dateline
                adapter["provenance"]["dateline"] = "derived"
            if wire and not adapter.get("wire_source"):
                adapter["wire_source"] = wire
                adapter["provenance"]["wire_source"] = "derived"
        if adapter.get("wire_source"):
            # "Source: Reuters/fh" or "REUTERS" -> "Reuters"; an unknown credit is kept as written
            adapter["wire_source"] = p.wire_from_credit(adapter["wire_source"]) or adapter["wire_source"]
        adapter["word_count"] = p.word_count(body)
        adapter["content_hash"] = p.content_hash(body)
        if not adapter.get("headline") and not body:
            # nothing left to clean; validation reports it with its reason
            logger.debug("Item with no headline and no body after cleaning: %s", adapter.get("url"))
        return item


__all__ = ["CleanPipeline", "DropItem"]
