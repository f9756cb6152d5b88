"""Spider loader: the spider modules, plus one spider per entry of the outlets file.

Set as SPIDER_LOADER_CLASS, so ``scrapy list``, ``scrapy crawl NAME``, batch extraction's routing and the
clean stage's per-outlet rules all see outlets-file entries exactly like dedicated spiders. A dedicated
spider module wins over an outlets-file entry of the same name (logged).
"""
from __future__ import annotations

import logging
from typing import Any

from scrapy.settings import BaseSettings
from scrapy.spiderloader import SpiderLoader

from newscrawl.outlets_file import read_outlets_file, spider_class

logger = logging.getLogger(__name__)


class OutletsSpiderLoader(SpiderLoader):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.outlet_errors: list[str] = []
        if not settings.getbool("NEWSCRAWL_OUTLETS_ENABLED", True):
            return
        outlets, errors = read_outlets_file(settings.get("NEWSCRAWL_OUTLETS_FILE", ""))
        self.outlet_errors = errors
        for message in errors:
            logger.error("Outlet entry rejected: %s", message)
        for cfg in outlets:
            if cfg.name in self._spiders:
                logger.warning("Outlets file entry %r ignored: a spider module already defines that name", cfg.name)
                continue
            self._spiders[cfg.name] = spider_class(cfg)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Any:
        return cls(settings)
