"""Job health monitor: at the close of every job, what came out, what fell short, and a verdict.

Enable with::

    EXTENSIONS = {"newscrawl.extensions.monitor.JobMonitor": 500}

It counts, per job: items exported, per-field coverage (share of extracted items with the field
non-empty), drops by reason, errors by type, HTTP errors, duplicates, incremental skips, and pages
that looked like bot challenges (``newscrawl/challenge/*`` stats, when a challenge detector sets them).

The health check fails when

- a field's coverage is below the outlet's baseline by more than chance explains: the 95% Wilson
  upper bound of the observed share is under the baseline. Incremental runs export a handful of
  items, and 2 of 3 items with authors (67%) says little against a 90% baseline, while 0 of 4 does;
- article pages were fetched but not one article came out of them (a redesign that makes every
  page look like an index page leaves no items to measure coverage on);
- most article pages were bot challenges.

Baselines: the spider's ``coverage_baseline = {"authors": 0.9, ...}``, or the setting
``NEWSCRAWL_COVERAGE_BASELINE`` (a dict, or JSON, either ``{field: share}`` for every outlet or
``{outlet: {field: share}}``); the setting wins. A failed check logs an ERROR, sets the stat
``newscrawl/monitor/failed`` and ends the job with finish reason ``health_check_failed``
(NEWSCRAWL_MONITOR_FAIL_REASON). Pages whose extraction fell short (a baseline field missing, or the
item dropped as invalid) are saved, HTML and URL, as fixture candidates (at most
NEWSCRAWL_MONITOR_MAX_SAVED_PAGES). The reports, ``<export>.report.txt`` and ``<export>.report.json``,
and the ``<export>.pages/`` folder go next to the JSONL export (or under NEWSCRAWL_MONITOR_REPORT_DIR).
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from w3lib.url import file_uri_to_path

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/monitor/"
HINT_META = "newscrawl_hint"
COVERAGE_FIELDS = ("headline", "body", "authors", "published_at", "modified_at", "description", "section",
                   "tags", "language", "publisher", "canonical_url", "images", "dateline", "wire_source",
                   "is_paywalled")
Z95 = 1.959964


def filled(value: Any) -> bool:
    """Non-empty: not None, "", [] or {} (False is a value: a page known not to be paywalled)."""
    return value not in (None, "", [], {})


def wilson_upper(k: int, n: int, z: float = Z95) -> float:
    """Upper bound of the Wilson score interval for k successes in n trials (1.0 when n == 0)."""
    if n <= 0:
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + margin) / (1 + z * z / n))


def baseline_for(setting: Any, spider: Any) -> dict[str, float]:
    """The outlet's coverage baseline from the setting (flat or per outlet), else the spider attribute."""
    if isinstance(setting, str) and setting.strip():
        try:
            setting = json.loads(setting)
        except ValueError:
            logger.error("NEWSCRAWL_COVERAGE_BASELINE is not JSON: %r; using the spider's baseline", setting)
            setting = None
    name = getattr(spider, "name", None)
    chosen: Any = None
    if isinstance(setting, dict) and setting:
        per_outlet = all(isinstance(v, dict) for v in setting.values())
        chosen = setting.get(name) if per_outlet else setting
    if not chosen:
        chosen = getattr(spider, "coverage_baseline", None) or {}
    out: dict[str, float] = {}
    for field, share in dict(chosen).items():
        try:
            value = float(share)
        except (TypeError, ValueError):
            logger.error("Coverage baseline for %s is not a number: %r (ignored)", field, share)
            continue
        out[str(field)] = min(max(value, 0.0), 1.0)
    return out


def challenge_count(stats: dict[str, Any]) -> int:
    """Pages flagged as bot challenges, from whatever ``newscrawl/challenge/*`` stats a detector set."""
    values = {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
              if k.startswith("newscrawl/challenge/") and isinstance(v, int) and not isinstance(v, bool)}
    for total in ("pages", "detected", "count", "total"):
        if total in values:
            return values[total]
    return sum(values.values())


def evaluate(*, extracted: int, filled_counts: dict[str, int], baseline: dict[str, float], article_pages: int,
             challenges: int, max_challenge_share: float) -> list[str]:
    """The reasons a job is unhealthy (empty = healthy)."""
    failures = []
    if extracted:
        for field, floor in sorted(baseline.items()):
            k = filled_counts.get(field, 0)
            if floor > 0 and wilson_upper(k, extracted) < floor - 1e-9:  # 4/4 is 0.99999... < 1.0
                failures.append(f"{field} coverage {k}/{extracted} ({k / extracted:.0%}) is below the baseline "
                                f"{floor:.0%}")
    elif article_pages:
        failures.append(f"no article extracted from {article_pages} article page(s)")
    # a challenge page never reaches the spider (the challenge middleware drops it), so it is not in
    # article_pages: the pages fetched are both together
    fetched = article_pages + challenges
    if challenges >= 3 and challenges > max_challenge_share * fetched:
        failures.append(f"{challenges} of {fetched} page(s) fetched looked like bot challenges")
    return failures


def _group(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix) and isinstance(v, int)}


_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(url: str, n: int) -> str:
    parts = urlsplit(url)
    tail = _SLUG.sub("-", (parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc).lower()).strip("-")
    return f"{n:03d}-{tail[:60] or 'page'}"


class JobMonitor:
    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.baseline_setting = s.get("NEWSCRAWL_COVERAGE_BASELINE")
        self.report_dir = s.get("NEWSCRAWL_MONITOR_REPORT_DIR") or ""
        self.max_saved = s.getint("NEWSCRAWL_MONITOR_MAX_SAVED_PAGES", 20)
        self.max_challenge_share = s.getfloat("NEWSCRAWL_MONITOR_MAX_CHALLENGE_SHARE", 0.5)
        self.fail_reason = s.get("NEWSCRAWL_MONITOR_FAIL_REASON", "health_check_failed")
        self.baseline: dict[str, float] = {}
        self.exported = 0
        self.extracted = 0
        self.filled: dict[str, int] = dict.fromkeys(COVERAGE_FIELDS, 0)
        self.article_pages = 0
        self.saved: list[dict[str, Any]] = []
        self.started = datetime.now(timezone.utc).replace(microsecond=0)
        self._base: Path | None = None
        for handler, signal in ((self.spider_opened, signals.spider_opened), (self.item_scraped, signals.item_scraped),
                                (self.item_dropped, signals.item_dropped), (self.response_received,
                                                                           signals.response_received),
                                (self.spider_idle, signals.spider_idle), (self.spider_closed, signals.spider_closed)):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("NEWSCRAWL_MONITOR_ENABLED", True):
            raise NotConfigured
        if crawler.settings.get("NEWSCRAWL_DEDUP_MODE", "crawl") == "mark":
            raise NotConfigured  # batch extraction (`scrapy extract`) reports on its own
        return cls(crawler)

    # ------------------------------------------------------------------ counting
    def spider_opened(self, spider: Any = None) -> None:
        self.baseline = baseline_for(self.baseline_setting, spider or self.crawler.spider)

    def response_received(self, response: Any, request: Any = None, spider: Any = None) -> None:
        if request is not None and HINT_META in request.meta:
            self.article_pages += 1

    def _count(self, item: Any) -> list[str]:
        """Count one extracted item; -> the baseline fields it lacks."""
        a = ItemAdapter(item)
        self.extracted += 1
        for field in COVERAGE_FIELDS:
            if filled(a.get(field)):
                self.filled[field] += 1
        return [f for f, floor in self.baseline.items() if floor >= 0.5 and not filled(a.get(f))]

    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        self.exported += 1
        missing = self._count(item)
        if missing:
            self._save(item, response, f"missing {', '.join(missing)}", missing)

    def item_dropped(self, item: Any, response: Any = None, exception: BaseException | None = None,
                     spider: Any = None) -> None:
        missing = self._count(item)
        reason = str(exception or "dropped")
        if not reason.startswith("duplicate"):
            self._save(item, response, reason, missing)

    # ------------------------------------------------------------------ fixture candidates
    def _paths(self) -> Path:
        """Base path of this job's reports: the local JSONL export without its suffix."""
        if self._base is not None:
            return self._base
        spider = self.crawler.spider
        name = getattr(spider, "name", "spider")
        stamp = self.started.isoformat().replace(":", "-")
        base: Path | None = None
        if self.report_dir:
            base = Path(self.report_dir) / name / stamp
        else:
            feeds = next((ext for ext in getattr(self.crawler.extensions, "middlewares", ())
                          if hasattr(ext, "slots") and hasattr(ext, "feeds")), None)
            for slot in getattr(feeds, "slots", ()):
                uri = str(slot.uri)
                scheme = urlsplit(uri).scheme
                if scheme == "file":
                    base = Path(file_uri_to_path(uri))
                elif len(scheme) <= 1:  # a plain path (or a Windows drive letter)
                    base = Path(uri)
                if base is not None:
                    base = base.with_suffix("") if base.suffix else base
                    break
        self._base = base or Path("out") / "reports" / name / stamp
        return self._base

    def _save(self, item: Any, response: Any, reason: str, missing: list[str]) -> None:
        self.stats.inc_value(STAT + "short_pages")
        body = getattr(response, "body", None)
        if response is None or not body or len(self.saved) >= self.max_saved:
            return
        url = str(response.url)
        folder = self._paths().with_name(self._paths().name + ".pages")
        stem = _slug(url, len(self.saved) + 1)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stem}.html").write_bytes(body)
            # the fixture format of tests/fixtures/<outlet>/<case>.json, "expected" left to fill in
            (folder / f"{stem}.json").write_text(json.dumps(
                {"url": url, "reason": reason, "missing": missing, "expected": {}}, indent=1) + "\n", "utf-8")
        except OSError as exc:
            logger.warning("Could not save short page %s: %r", url, exc)
            return
        self.saved.append({"url": url, "file": str(folder / f"{stem}.html"), "reason": reason, "missing": missing})

    # ------------------------------------------------------------------ verdict
    def failures(self) -> list[str]:
        return evaluate(extracted=self.extracted, filled_counts=self.filled, baseline=self.baseline,
                        article_pages=self.article_pages, challenges=challenge_count(self.stats.get_stats()),
                        max_challenge_share=self.max_challenge_share)

    def spider_idle(self, spider: Any = None) -> None:
        # Every item is through the pipelines when the spider is idle: judge now, so a failure can
        # still become the finish reason (scrapyd's job list and the stats show it).
        if self.failures():
            raise CloseSpider(self.fail_reason)

    def report(self, reason: str | None) -> dict[str, Any]:
        stats = self.stats.get_stats()
        failures = self.failures()
        import newscrawl

        spider = self.crawler.spider
        return {
            "spider": getattr(spider, "name", None),
            "job": getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB"),
            "started_at": self.started.isoformat(),
            "finished_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "finish_reason": reason,
            "healthy": not failures,
            "failures": failures,
            "items": self.exported,
            "extracted": self.extracted,
            "article_pages": self.article_pages,
            "coverage": {f: round(self.filled[f] / self.extracted, 4) if self.extracted else None
                         for f in COVERAGE_FIELDS},
            "baseline": self.baseline,
            "drops": {**_group(stats, "newscrawl/validate/dropped/"),
                      **{f"duplicate/{k}": v for k, v in _group(stats, "newscrawl/dedup/dropped/").items()}},
            "duplicates": {"dropped": sum(_group(stats, "newscrawl/dedup/dropped/").values()),
                           "marked": _group(stats, "newscrawl/dedup/marked/")},
            "not_article": _group(stats, "newscrawl/extract/not_article/"),
            "errors": {**_group(stats, "spider_exceptions/"),
                       **_group(stats, "downloader/exception_type_count/"),
                       **({"log_ERROR": stats["log_count/ERROR"]} if stats.get("log_count/ERROR") else {})},
            "http_errors": {k: v for k, v in _group(stats, "downloader/response_status_count/").items()
                            if k[:1] in "45"},
            "seen": _group(stats, "newscrawl/seen/"),
            "challenges": _group(stats, "newscrawl/challenge/"),
            "saved_pages": self.saved,
            "code": str(Path(newscrawl.__file__).parent),
        }

    def spider_closed(self, spider: Any = None, reason: str | None = None) -> None:
        data = self.report(reason)
        if data["failures"]:
            self.stats.set_value(STAT + "failed", 1)
            for failure in data["failures"]:
                logger.error("HEALTH CHECK FAILED for %s: %s", data["spider"], failure)
            if self.saved:
                logger.error("%d page(s) that fell short saved as fixture candidates in %s", len(self.saved),
                             Path(self.saved[0]["file"]).parent)
        else:
            self.stats.set_value(STAT + "failed", 0)
        base = self._paths()
        try:
            base.parent.mkdir(parents=True, exist_ok=True)
            json_path = base.with_name(base.name + ".report.json")
            json_path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
            base.with_name(base.name + ".report.txt").write_text(render_text(data), "utf-8")
        except OSError as exc:
            logger.error("Could not write the job report next to %s: %r", base, exc)
            return
        logger.info("Job report: %s (%s)", json_path, "healthy" if data["healthy"] else "FAILED")


def render_text(data: dict[str, Any]) -> str:
    """The human-readable job report."""
    lines = [f"newscrawl job report: {data['spider']}  job {data['job'] or '-'}",
             f"{data['started_at']} -> {data['finished_at']}  finish reason: {data['finish_reason']}",
             f"health: {'OK' if data['healthy'] else 'FAILED'}"]
    lines += [f"  ! {f}" for f in data["failures"]]
    lines += ["", f"items exported: {data['items']}   extracted: {data['extracted']}   "
                  f"article pages fetched: {data['article_pages']}"]
    if data["seen"]:
        lines.append("incremental: " + ", ".join(f"{k} {v}" for k, v in data["seen"].items()))
    lines += ["", f"  {'field':<16}{'coverage':>9}{'baseline':>10}   (share of extracted items with the field)"]
    for field, share in data["coverage"].items():
        floor = data["baseline"].get(field)
        flag = "  <- below" if any(f.startswith(f"{field} coverage") for f in data["failures"]) else ""
        lines.append(f"  {field:<16}{'-' if share is None else format(share, '.0%'):>9}"
                     f"{'' if floor is None else format(floor, '.0%'):>10}{flag}")
    for title, key in (("drops", "drops"), ("duplicates marked", None), ("not articles", "not_article"),
                       ("errors", "errors"), ("HTTP errors", "http_errors"), ("bot challenges", "challenges")):
        values = data["duplicates"]["marked"] if key is None else data[key]
        if values:
            lines.append("")
            lines.append(f"{title}:")
            lines += [f"  {k:<32}{v:>6}" for k, v in values.items()]
    if data["saved_pages"]:
        lines += ["", "pages that fell short (fixture candidates):"]
        lines += [f"  {p['url']}  ({p['reason']})\n    {p['file']}" for p in data["saved_pages"]]
    return "\n".join(lines) + "\n"
