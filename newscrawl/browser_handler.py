"""scrapy-playwright's download handler, one instance for http AND https (see newscrawl/browser.py).

Scrapy builds one download handler per scheme, and each scrapy-playwright instance starts its own
Playwright driver at engine start (a node process: +120 MB RSS and ~3 s of a 2-core machine, measured
with bench/browser_cost.py) and would launch its own Chromium for its scheme. Sharing one instance per
crawler gives one driver, one browser and one page limit for both schemes.

Kept apart from newscrawl/browser.py because importing it loads Playwright; settings only name it.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    _instances: weakref.WeakKeyDictionary[Any, SharedPlaywrightHandler] = weakref.WeakKeyDictionary()
    _closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPlaywrightHandler:
        if crawler not in cls._instances:
            cls._instances[crawler] = cls(crawler)
        return cls._instances[crawler]

    async def close(self) -> None:
        if self._closed:  # Scrapy closes it once per scheme it serves
            return
        self._closed = True
        await super().close()
