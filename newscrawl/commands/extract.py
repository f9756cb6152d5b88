"""``scrapy extract MANIFEST -o OUT.jsonl``: batch extraction of saved pages.

MANIFEST is JSONL of {"id", "url", "path"} (path to .html or .html.gz, relative to the manifest's
folder; url may be null). Each page runs through the same downloader stack, extraction layers and
item pipelines as a crawl, routed by domain to its outlet's rules, else the generic ones. OUT has one
line per manifest line, in the same order, with "id" echoed; where extraction failed or validation
dropped the item, the line carries an "error" (and whatever fields were extracted).
"""
from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser, Namespace
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spiderloader import get_spider_loader

from newscrawl.exporters import dumps_line, ordered
from newscrawl.extract import extract_article
from newscrawl.extract.site import SiteRules
from newscrawl.outlets import OutletRouter, host_of

PLACEHOLDER_HOST = "https://page.invalid/"


def read_manifest(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise UsageError(f"{path}:{n}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or not row.get("path"):
                raise UsageError(f"{path}:{n}: a manifest line needs at least 'id' and 'path'")
            row.setdefault("id", str(n))
            rows.append(row)
    return rows


class ExtractSpider(scrapy.Spider):
    """Feeds manifest pages through the crawl machinery (not an outlet: lives outside SPIDER_MODULES)."""

    name = "extract"
    custom_settings = {"ROBOTSTXT_OBEY": False}

    def __init__(self, rows: list[dict[str, Any]], base: Path, generic: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows = rows
        self.base = base
        self.generic = generic
        self.router: OutletRouter | None = None

    async def start(self) -> AsyncIterator[Any]:
        self.router = None if self.generic else OutletRouter(get_spider_loader(self.crawler.settings))
        for row in self.rows:
            url = row.get("url") or f"{PLACEHOLDER_HOST}{row['id']}"
            yield scrapy.Request(url, callback=self.parse_page, errback=self.failed, dont_filter=True,
                                 meta={"newscrawl_file": str(self.base / row["path"]), "id": row["id"],
                                       "has_url": bool(row.get("url")), "dont_redirect": True,
                                       "handle_httpstatus_all": True})

    def parse_page(self, response: Any) -> Any:
        from newscrawl.items import Article

        page_id = response.meta["id"]
        try:
            spidercls = self.router.route(response.url) if self.router else None
            rules = SiteRules.of(spidercls) if spidercls else SiteRules()
            source = getattr(spidercls, "name", None) or host_of(response.url) or "unknown"
            result = extract_article(response.selector, response.url, rules, html=response.text, source=source,
                                     loader_class=getattr(spidercls, "loader_class", None) or _default_loader())
        except Exception as exc:  # noqa: BLE001 - one broken page must not stop the batch
            self.logger.warning("Extraction failed for %s: %r", page_id, exc)
            self.crawler.stats.inc_value("newscrawl/extract/errors/exception")
            yield Article(id=page_id, error=f"extraction failed: {exc!r}")
            return
        item = result.item
        item["id"] = page_id
        if not result.is_article:
            item["error"] = f"not an article ({result.kind}: {result.reason})"
            self.crawler.stats.inc_value(f"newscrawl/extract/not_article/{result.kind}")
        yield item

    def failed(self, failure: Any) -> Any:
        from newscrawl.items import Article

        request = failure.request
        self.logger.warning("Could not read %s: %s", request.meta.get("newscrawl_file"), failure.value)
        yield Article(id=request.meta["id"], error=f"read failed: {failure.value!r}")


def _default_loader() -> type:
    from newscrawl.loaders import ArticleLoader

    return ArticleLoader


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "MANIFEST -o OUT.jsonl"

    def short_desc(self) -> str:
        return "Extract Article items from saved pages listed in a JSONL manifest"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", required=True, help="output JSONL (one line per manifest line)")
        parser.add_argument("--generic", action="store_true",
                            help="skip outlet routing: JSON-LD/meta/generic layers only (to compare with outlets)")

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one MANIFEST")
        manifest = Path(args[0])
        if not manifest.is_file():
            raise UsageError(f"manifest not found: {manifest}")
        rows = read_manifest(manifest)
        if self.settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]:
            self.settings.set("LOG_LEVEL", "WARNING", priority="cmdline")  # progress lines, not engine chatter
        self.settings.setdict({
            "FEEDS": {},
            "ROBOTSTXT_OBEY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "CONCURRENT_REQUESTS": 16,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
            "NEWSCRAWL_DEDUP_MODE": "mark",
            "NEWSCRAWL_REPLAY": "",
            "NEWSCRAWL_RECORD": "",
            "NEWSCRAWL_VALIDATE_MIN_WORDS": 0,
            "RETRY_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
            "DOWNLOADER_MIDDLEWARES": {**self.settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                       "newscrawl.middlewares.localfile.LocalFileMiddleware": 1},
        }, priority="cmdline")
        results: dict[str, dict[str, Any]] = {}
        started = time.monotonic()
        total = len(rows)

        def progress() -> None:
            done = len(results)
            if done % 50 == 0 or done == total:
                print(f"extract: {done}/{total} pages, {time.monotonic() - started:.1f}s", file=sys.stderr)

        def output(item: Any) -> dict[str, Any]:
            data = ordered(item)
            for key in ("url", "canonical_url"):  # a page saved without its URL keeps none
                if isinstance(data.get(key), str) and data[key].startswith(PLACEHOLDER_HOST):
                    data[key] = None
            return data

        def on_scraped(item: Any, **_: Any) -> None:
            results[ItemAdapter(item)["id"]] = output(item)
            progress()

        def on_dropped(item: Any, exception: Any = None, **_: Any) -> None:
            data = output(item)
            data["error"] = data.get("error") or f"dropped: {exception}"
            results[ItemAdapter(item)["id"]] = data
            progress()

        crawler = self.crawler_process.create_crawler(ExtractSpider)
        crawler.signals.connect(on_scraped, signal=signals.item_scraped)
        crawler.signals.connect(on_dropped, signal=signals.item_dropped)
        crawler.signals.connect(on_dropped, signal=signals.item_error)
        self.crawler_process.crawl(crawler, rows=rows, base=manifest.parent, generic=opts.generic)
        self.crawler_process.start()

        out = Path(opts.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        errors = 0
        with tmp.open("wb") as fh:
            for row in rows:
                data = results.get(row["id"]) or {"id": row["id"], "error": "no result"}
                errors += bool(data.get("error"))
                fh.write(dumps_line(data)[0])
        tmp.replace(out)  # a reader never sees a half-written output
        print(f"extract: wrote {len(rows)} lines to {out} ({errors} with an error) in "
              f"{time.monotonic() - started:.1f}s", file=sys.stderr)
