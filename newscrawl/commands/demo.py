"""``scrapy demo``: an offline demo crawl of the project's fixture site, with a summary table.

Builds a WARC from the fixture site (pages written for newscrawl that mimic each outlet's markup),
then runs a real ``scrapy crawl <outlet>`` per outlet in replay mode (no network), all sharing one
fresh state file so a wire story republished by another outlet is marked as a duplicate, and prints
items per outlet, field coverage and duplicates.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES

from newscrawl.fixturesite import build_archive, load_routes
from newscrawl.items import FIELD_ORDER

SUMMARY_FIELDS = [f for f in FIELD_ORDER if f not in ("id", "error", "url", "source", "fetched_at",
                                                       "provenance", "revision", "previous_hash")]


def coverage_table(items_by_outlet: dict[str, list[dict[str, Any]]]) -> str:
    """Items per outlet, duplicates, and the share of items with each field non-empty."""
    names = list(items_by_outlet)
    width = max([len("field")] + [len(n) for n in names]) + 2
    lines = ["".join(["field".ljust(16)] + [n.rjust(width) for n in names])]
    lines.append("".join(["items".ljust(16)] + [str(len(items_by_outlet[n])).rjust(width) for n in names]))
    dups = [sum(1 for i in items_by_outlet[n] if i.get("duplicate_of")) for n in names]
    lines.append("".join(["duplicates".ljust(16)] + [str(d).rjust(width) for d in dups]))
    for f in SUMMARY_FIELDS:
        if f == "duplicate_of":
            continue
        cells = []
        for n in names:
            items = items_by_outlet[n]
            filled = sum(1 for i in items if i.get(f) not in (None, "", [], {}))
            cells.append((f"{filled / len(items):.0%}" if items else "-").rjust(width))
        lines.append(f.ljust(16) + "".join(cells))
    return "\n".join(lines)


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "[--site DIR] [--out DIR]"

    def short_desc(self) -> str:
        return "Offline demo: crawl the fixture site through WARC replay and summarise the JSONL"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", default="tests/fixtures", help="folder of <outlet>/routes.json fixture sites")
        parser.add_argument("--out", default="out/demo", help="output folder (recreated)")

    def run(self, args: list[str], opts: Namespace) -> None:
        if self.settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]:
            self.settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
        site, out = Path(opts.site), Path(opts.out)
        if not any(site.glob("*/routes.json")):
            raise UsageError(f"no <outlet>/routes.json under {site}")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        outlets, _ = load_routes(site)
        archive = out / "fixtures.warc.gz"
        records = build_archive(site, archive)
        print(f"demo: built {archive} ({records} responses) from {site}")
        items_by_outlet: dict[str, list[dict[str, Any]]] = {}
        for outlet in outlets:
            feed = out / "items" / f"{outlet}.jsonl"
            env = dict(os.environ, NEWSCRAWL_FEED_URI=str(feed), NEWSCRAWL_STATE_PATH=str(out / "state.sqlite3"),
                       NEWSCRAWL_LOG_LEVEL="WARNING")
            cmd = [sys.executable, "-m", "scrapy", "crawl", outlet, "-s", f"NEWSCRAWL_REPLAY={archive}"]
            print(f"demo: {' '.join(cmd[2:])}", flush=True)
            proc = subprocess.run(cmd, env=env, timeout=300)
            if proc.returncode != 0:
                raise SystemExit(f"demo: crawl of {outlet} failed with exit code {proc.returncode}")
            items_by_outlet[outlet] = [json.loads(line) for line in feed.read_text("utf-8").splitlines()] \
                if feed.exists() else []
        print()
        print(coverage_table(items_by_outlet))
        print()
        for outlet, items in items_by_outlet.items():
            for item in items:
                dup = f"  (duplicate of {item['duplicate_of']})" if item.get("duplicate_of") else ""
                print(f"{outlet:>8}: {item['headline']}{dup}")
        print(f"\ndemo: JSONL in {out / 'items'}")
