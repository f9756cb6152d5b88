"""``scrapy schedule``: start each outlet's crawl on scrapyd at an interval derived from its publishing rate.

scrapyd has no recurring jobs. This command is the clock: it computes every outlet's interval
(newscrawl/scheduling.py), and whenever an outlet is due calls scrapyd's ``schedule.json`` with HTTP
basic auth (``SCRAPYD_USERNAME`` / ``SCRAPYD_PASSWORD`` from the environment). It runs as a loop, or
once per call with ``--once`` (from cron every 5 minutes: each call schedules only the outlets due).
``--cron`` prints crontab lines (curl) for running without this command at all.

Examples::

    scrapy schedule --url http://127.0.0.1:6800/ --dry-run      # the plan, no calls
    scrapy schedule --once                                       # cron mode
    scrapy schedule                                              # loop until killed
    scrapy schedule --cron                                       # crontab lines
"""
from __future__ import annotations

import logging
import os
import sys
import time
from argparse import ArgumentParser, Namespace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import get_config

from newscrawl.incremental import SeenIndex, parse_duration, parse_time
from newscrawl.scheduling import Plan, ScrapydClient, ScrapydError, cron_line, load_times, plan_outlet, save_times

logger = logging.getLogger(__name__)


def deploy_target() -> dict[str, str]:
    """The ``[deploy]`` section of scrapy.cfg (url, project), {} when absent."""
    cfg = get_config()
    return dict(cfg.items("deploy", raw=True)) if cfg.has_section("deploy") else {}


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[--url URL] [--project NAME] [--once | --cron | --dry-run] [--outlet NAME ...] [--setting K=V ...]"

    def short_desc(self) -> str:
        return "Schedule every outlet's crawl on scrapyd at an interval derived from its publishing rate"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", help="scrapyd URL (default: $SCRAPYD_URL, else scrapy.cfg [deploy] url)")
        parser.add_argument("--project", help="scrapyd project (default: scrapy.cfg [deploy] project)")
        parser.add_argument("--once", action="store_true", help="schedule the outlets that are due, then exit")
        parser.add_argument("--dry-run", action="store_true", help="print the plan, call nothing")
        parser.add_argument("--cron", action="store_true", help="print crontab lines (curl) and exit")
        parser.add_argument("--outlet", action="append", default=[], help="only this outlet (repeatable)")
        parser.add_argument("--setting", dest="job_settings", action="append", default=[], metavar="K=V",
                            help="a Scrapy setting for every scheduled job (repeatable)")
        parser.add_argument("--state", help="file remembering when each outlet was last scheduled "
                                            "(default: NEWSCRAWL_SCHEDULE_STATE)")

    # ------------------------------------------------------------------ plan
    def plans(self, outlets: list[str]) -> list[Plan]:
        s = self.settings
        loader = get_spider_loader(s)
        names = outlets or sorted(loader.list())
        unknown = [n for n in names if n not in loader.list()]
        if unknown:
            raise UsageError(f"unknown outlet(s): {', '.join(unknown)}")
        state = s.get("NEWSCRAWL_STATE_PATH", ".newscrawl/state.sqlite3")
        index = SeenIndex(state) if state and state != ":memory:" and Path(state).is_file() else None
        now = datetime.now(timezone.utc)
        try:
            return [plan_outlet(loader.load(name),
                                measured=index.publishing_rate(name, now) if index else None,
                                default_rate=s.getfloat("NEWSCRAWL_SCHEDULE_DEFAULT_RATE", 100.0),
                                safety=s.getfloat("NEWSCRAWL_SCHEDULE_SAFETY", 0.25),
                                min_interval=parse_duration(s.get("NEWSCRAWL_SCHEDULE_MIN_INTERVAL", "10m")),
                                max_interval=parse_duration(s.get("NEWSCRAWL_SCHEDULE_MAX_INTERVAL", "6h")))
                    for name in names]
        finally:
            if index is not None:
                index.close()

    # ------------------------------------------------------------------ run
    def run(self, args: list[str], opts: Namespace) -> None:
        target = deploy_target()
        url = opts.url or os.environ.get("SCRAPYD_URL") or target.get("url") or "http://127.0.0.1:6800/"
        project = opts.project or target.get("project") or self.settings.get("BOT_NAME")
        job_settings: dict[str, str] = {}
        for pair in opts.job_settings:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise UsageError(f"--setting expects K=V, got {pair!r}")
            job_settings[key] = value
        plans = self.plans(opts.outlet)
        for p in plans:
            print(f"schedule: {p.outlet}: {p.rate:.0f} articles/day ({p.rate_source}), listed for "
                  f"{_fmt(p.window)}, crawl every {_fmt(p.interval)}", file=sys.stderr)
        if opts.cron:
            print(f"# newscrawl crawls on {url} (generated by `scrapy schedule --cron`)")
            for p in plans:
                print(cron_line(p, url, project))
            return
        if opts.dry_run:
            return
        client = ScrapydClient(url, os.environ.get("SCRAPYD_USERNAME"), os.environ.get("SCRAPYD_PASSWORD"))
        state = Path(opts.state or self.settings.get("NEWSCRAWL_SCHEDULE_STATE", ".newscrawl/schedule.json"))
        while True:
            failed, wait = self.cycle(client, project, plans, job_settings, state)
            if opts.once:
                self.exitcode = 1 if failed else 0
                return
            time.sleep(max(1.0, min(wait, 300.0)))  # wake at least every 5 min: a due outlet may wait

    def cycle(self, client: ScrapydClient, project: str, plans: list[Plan], job_settings: dict[str, str],
              state: Path) -> tuple[int, float]:
        """Schedule every due outlet; -> (failures, seconds until the next one is due)."""
        times = load_times(state)
        now = datetime.now(timezone.utc)
        failed = 0
        try:
            busy = client.busy_spiders(project)
        except ScrapydError as exc:
            print(f"schedule: {exc}", file=sys.stderr)
            return len(plans), 60.0
        next_due = float("inf")
        for p in plans:
            last = parse_time(times.get(p.outlet))
            due_in = 0.0 if last is None else (last + p.interval - now).total_seconds()
            if due_in > 0:
                next_due = min(next_due, due_in)
                continue
            if p.outlet in busy:
                print(f"schedule: {p.outlet}: previous job still pending/running, not scheduled again",
                      file=sys.stderr)
                next_due = min(next_due, 60.0)
                continue
            try:
                job = client.schedule(project, p.outlet, job_settings)
            except ScrapydError as exc:
                failed += 1
                print(f"schedule: {p.outlet}: FAILED: {exc}", file=sys.stderr)
                next_due = min(next_due, 60.0)
                continue
            times[p.outlet] = now.replace(microsecond=0).isoformat()
            save_times(state, times)
            print(f"schedule: {p.outlet}: job {job} (next in {_fmt(p.interval)})", file=sys.stderr)
            next_due = min(next_due, p.interval.total_seconds())
        return failed, next_due if next_due != float("inf") else 60.0


def _fmt(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400 and seconds % 3600 == 0:
        return f"{seconds / 86400:g}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds // 60}m"
