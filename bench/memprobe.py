"""A benchmark-only extension: log the crawl's resident memory every N responses.

bench/run.py enables it (``-s EXTENSIONS={"bench.memprobe.MemoryProbe": 0}``) for the long crawl and reads
the ``memprobe`` lines back, to see whether memory stays flat as a crawl goes on (issue 8: RSS after 50,000
pages within 1.2x RSS after 5,000).
"""
from __future__ import annotations

import logging
import os
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Current resident set size of this process in MiB (not the peak: that is what flatness is about)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_SIZE / 2**20


class MemoryProbe:
    def __init__(self, crawler: Crawler) -> None:
        self.every = crawler.settings.getint("BENCH_MEMPROBE_EVERY", 5000)
        self.pages = 0
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryProbe:
        return cls(crawler)

    def response_received(self, response: Any = None, **kwargs: Any) -> None:
        self.pages += 1
        if self.pages % self.every == 0:
            logger.info("memprobe pages=%d rss_mb=%.1f", self.pages, rss_mb())
