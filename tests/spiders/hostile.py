"""A spider for tests/test_hostile.py: visits each endpoint of the adversarial server and records what
happened in stats ``hostile/<probe>/...``.

``scrapy runspider tests/spiders/hostile.py -a plan=PLAN.json``; PLAN.json is a list of
``{"url": ..., "kind": "article" | "probe" | "links" | "follow", "probe": name, "expect": text}``
(``expect``, optional: a phrase the decoded page text must contain, recorded as ``text_ok``):

- article: NewsSpider.parse_article (extraction, then the item pipelines when the project's settings apply);
- probe: record status, body size and response class;
- links: follow every ``<a data-probe=NAME href=...>`` as a probe named NAME (any scheme, any host);
- follow: a naive paginating spider: follow ``<a class="next">`` for ever, counting pages.

Runs both with the project's settings (newscrawl) and without them (plain Scrapy) for a before/after.
"""
from __future__ import annotations

import json
import resource
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from newscrawl.crawling import NewsSpider


class HostileSpider(NewsSpider):
    name = "hostile"
    publisher = "Hostile Gazette"
    language = "pt"
    selectors = {
        "headline": "article h1 ::text",
        "published_at": "article time::attr(datetime)",
        "body": "article .story p",
    }

    def __init__(self, plan: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with open(plan, encoding="utf-8") as fh:
            self.plan: list[dict[str, str]] = json.load(fh)

    def _stat(self, probe: str, key: str, value: Any) -> None:
        self.crawler.stats.set_value(f"hostile/{probe}/{key}", value)

    async def start(self) -> AsyncIterator[Any]:
        callbacks = {"article": self.parse_article, "probe": self.probe, "links": self.links, "follow": self.follow}
        for entry in self.plan:
            yield Request(entry["url"], callback=callbacks[entry["kind"]], errback=self.failed,
                          meta={"probe": entry["probe"], "expect": entry.get("expect")})

    def parse_article(self, response: Response) -> Iterator[Any]:
        self.probe(response)
        yield from super().parse_article(response)

    def probe(self, response: Response) -> None:
        name = response.meta.get("probe", "?")
        self._stat(name, "status", response.status)
        self._stat(name, "bytes", len(response.body))
        self._stat(name, "class", type(response).__name__)
        if isinstance(response, TextResponse):
            self._stat(name, "encoding", response.encoding)
            expect = response.meta.get("expect")
            if expect:  # does the decoded text hold the phrase exactly as written?
                self._stat(name, "text_ok", expect in response.text)

    def links(self, response: Response) -> Iterator[Request]:
        self.probe(response)
        for a in response.css("a[data-probe]"):
            yield Request(a.attrib["href"], callback=self.probe, errback=self.failed,
                          meta={"probe": a.attrib["data-probe"]})

    def follow(self, response: Response) -> Iterator[Request]:
        name = response.meta.get("probe", "?")
        self.crawler.stats.inc_value(f"hostile/{name}/pages")
        for href in response.css("a.next::attr(href)").getall():
            yield response.follow(href, callback=self.follow, errback=self.failed, meta={"probe": name})

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        name = request.meta.get("probe", "?") if request is not None else "?"
        self._stat(name, "error", type(failure.value).__name__)
        self._stat(name, "error_msg", str(failure.value)[:200])

    def closed(self, reason: str) -> None:
        self.crawler.stats.set_value("hostile/maxrss_kib", peak_rss_kib())


def peak_rss_kib() -> int:
    """Peak resident memory of this process in KiB, for the decompression-bomb row.

    VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child forked from a test process holding
    large buffers would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
