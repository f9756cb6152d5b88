"""Refuse Scrapy's remote-access extensions, whatever settings a job was started with.

Scrapy's telnet console and Scrapy 2.19's RemoteControl both open a localhost port that runs Python
inside the crawl. newscrawl's settings turn them off, but scrapyd's ``schedule.json`` passes any
``setting=NAME=VALUE`` to ``scrapy crawl -s``, which outranks the project settings:
``curl .../schedule.json -d setting=TELNETCONSOLE_ENABLED=1`` would open the console on a production
crawler. Enable with::

    EXTENSIONS = {"newscrawl.extensions.security.RemoteAccessGuard": -1000}

Built first (lowest order), the guard turns such a setting back off, above every priority, before
the telnet/remote-control extensions read it, and logs an ERROR saying who asked. Should one of them
be built anyway (someone reordered EXTENSIONS), the guard unhooks its listener before the engine
starts. This is a guard against mistakes and naive misuse, not a sandbox: whoever can call
scrapyd's API can upload code (addversion.json) or replace EXTENSIONS (see docs/scrapyd.md).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: setting -> (what it opens, the extension class path, its listener method)
REFUSED = {
    "TELNETCONSOLE_ENABLED": ("telnet console", "scrapy.extensions.telnet.TelnetConsole", "start_listening"),
    "REMOTE_CONTROL_ENABLED": ("remote control", "scrapy.extensions.remote_control.RemoteControl", "start"),
}
#: above "cmdline" (40), the highest built-in priority
GUARD_PRIORITY = max(SETTINGS_PRIORITIES.values()) + 100
STAT = "newscrawl/security/refused/"


class RemoteAccessGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        for name, (what, _, _) in REFUSED.items():
            if not settings.getbool(name):
                continue
            priority = settings.getpriority(name)
            source, value = _priority_name(priority), settings.get(name)
            if settings.frozen:  # cannot happen with Scrapy 2.19's build order; say so if it ever does
                logger.error("Refusing %s=%s (from %s) failed: settings already frozen", name, value, source)
                continue
            settings.set(name, False, priority=GUARD_PRIORITY)
            if priority == SETTINGS_PRIORITIES["default"]:
                # Scrapy's own default (REMOTE_CONTROL_ENABLED is on out of the box): nobody asked for it
                logger.info("Disabled Scrapy's default-on %s (%s)", what, name)
                continue
            logger.error("Refused %s=%s (set from %s): the %s runs Python sent over the network and is "
                         "never enabled in newscrawl; it stays off", name, value, source, what)
            crawler.stats.inc_value(STAT + name.lower())
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def spider_opened(self, spider: Any = None) -> None:
        """Second line: unhook a remote-access extension that was built before the guard."""
        manager = getattr(self.crawler, "extensions", None)
        for ext in getattr(manager, "middlewares", ()):
            path = f"{type(ext).__module__}.{type(ext).__qualname__}"
            for name, (what, cls_path, method) in REFUSED.items():
                if path == cls_path:
                    self.crawler.signals.disconnect(getattr(ext, method), signal=signals.engine_started)
                    self.crawler.stats.inc_value(STAT + name.lower())
                    logger.error("Refused the %s (%s was built before the guard): it will not listen", what, path)


def _priority_name(priority: int | None) -> str:
    for label, value in SETTINGS_PRIORITIES.items():
        if value == priority:
            return {"cmdline": "the command line / scrapyd setting=", "spider": "spider custom_settings"}.get(
                label, f"{label} settings")
    return f"priority {priority}"
