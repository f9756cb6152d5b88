"""Validate stage: every exported item satisfies the Article JSON Schema.

A failing item is dropped with a WARNING naming the URL and the reason, and counted under
``newscrawl/validate/dropped/<reason>``: never silently.
"""
from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from jsonschema import Draft202012Validator
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newscrawl.items import article_schema
from newscrawl.processors import word_count

logger = logging.getLogger(__name__)


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.min_words = crawler.settings.getint("NEWSCRAWL_VALIDATE_MIN_WORDS", 20)
        self.validator = Draft202012Validator(article_schema())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ValidatePipeline":
        return cls(crawler)

    def reason(self, adapter: ItemAdapter) -> str | None:
        if not adapter.get("headline"):
            return "no_headline"
        if not adapter.get("body"):
            return "no_body"
        if word_count(adapter["body"]) < self.min_words:
            return "short_body"
        data = {k: v for k, v in adapter.items()}
        error = next(iter(sorted(self.validator.iter_errors(data), key=lambda e: list(e.path))), None)
        if error is not None:
            where = error.path[0] if error.path else (error.validator or "item")
            return f"bad_{where}"
        return None

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        reason = self.reason(adapter)
        if reason is None:
            self.stats.inc_value("newscrawl/validate/passed")
            return item
        self.stats.inc_value(f"newscrawl/validate/dropped/{reason}")
        logger.warning("Dropped invalid article (%s): %s", reason, adapter.get("url"))
        raise DropItem(f"invalid article: {reason}", log_level="DEBUG")
