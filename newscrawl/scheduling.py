"""How often to crawl each outlet, and scrapyd's HTTP API (stdlib only, so the scheduler needs no extra package).

An outlet's listing holds a bounded window of articles: a Google News sitemap lists the last 2 days
and at most 1,000 URLs, a typical RSS feed the newest 20 to 50 items. Whatever leaves the window
before a crawl sees it is missed for good. The window lasts ``min(max_age, capacity / rate)``; we
poll ``safety`` times that (default 1/4: two failed runs in a row still miss nothing), clamped to
[min_interval, max_interval]. Example: 800 articles/day in a 1,000-URL sitemap -> window 30 h ->
every 7.5 h -> capped at 6 h. A 20-item feed at 150/day -> window 3.2 h -> every 48 min.

Spider attributes (all optional): ``publishing_rate`` (articles/day, a declared estimate),
``listing_capacity`` (URLs the listing holds), ``listing_max_age`` (duration, e.g. "2d"). The rate
measured from the seen-store (:meth:`newscrawl.incremental.SeenIndex.publishing_rate`) is used when
it is higher than the declared one: polling too often is cheap with incremental crawls, missing is not.
"""
from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from newscrawl.incremental import parse_duration

SITEMAP_CAPACITY = 1000            # Google News sitemaps: at most 1,000 <url> entries ...
SITEMAP_MAX_AGE = timedelta(days=2)  # ... published in the last 2 days
FEED_CAPACITY = 20                 # the most common CMS default for RSS item counts
SECTION_CAPACITY = 30              # links on a section front that still point at new stories


@dataclass(frozen=True)
class Plan:
    outlet: str
    rate: float                   # articles per day used
    rate_source: str              # "declared", "measured" or "default"
    window: timedelta             # how long an article stays listed
    interval: timedelta           # how often to crawl


def listing_window(spidercls: type, rate: float) -> timedelta:
    """How long a newly published article stays in the outlet's listing."""
    capacity = getattr(spidercls, "listing_capacity", None)
    max_age = getattr(spidercls, "listing_max_age", None)
    if getattr(spidercls, "sitemap_urls", None):
        capacity = capacity or SITEMAP_CAPACITY
        max_age = max_age or SITEMAP_MAX_AGE
    elif getattr(spidercls, "feed_urls", None):
        capacity = capacity or FEED_CAPACITY
    else:
        capacity = capacity or SECTION_CAPACITY
    window = timedelta(days=float(capacity) / rate) if rate > 0 else timedelta(days=365)
    if max_age:
        window = min(window, parse_duration(max_age))
    return window


def plan_outlet(spidercls: type, *, measured: float | None, default_rate: float, safety: float,
                min_interval: timedelta, max_interval: timedelta) -> Plan:
    """The crawl interval of one outlet (see the module docstring)."""
    declared = getattr(spidercls, "publishing_rate", None)
    candidates = [(float(declared), "declared")] if declared else []
    if measured:
        candidates.append((measured, "measured"))
    rate, source = max(candidates) if candidates else (float(default_rate), "default")
    window = listing_window(spidercls, rate)
    interval = min(max(window * safety, min_interval), max_interval)
    return Plan(outlet=getattr(spidercls, "name", "?"), rate=rate, rate_source=source, window=window,
                interval=interval)


def cron_line(plan: Plan, url: str, project: str) -> str:
    """A crontab line that schedules the outlet at (at most) its interval, with curl."""
    minutes = max(1, int(plan.interval.total_seconds() // 60))
    if minutes < 60:
        step = max(d for d in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30) if d <= minutes)
        when = f"*/{step} * * * *"
    else:
        hours = minutes // 60
        step = max(d for d in (1, 2, 3, 4, 6, 8, 12) if d <= hours) if hours < 24 else 24
        when = {1: "0 * * * *", 24: "0 0 * * *"}.get(step, f"0 */{step} * * *")
    endpoint = urllib.parse.urljoin(url if url.endswith("/") else url + "/", "schedule.json")
    return (f'{when} curl -fsS -u "$SCRAPYD_USERNAME:$SCRAPYD_PASSWORD" {endpoint} '
            f"-d project={project} -d spider={plan.outlet} >/dev/null")


class ScrapydError(Exception):
    """scrapyd refused or could not be reached (message says which)."""


class ScrapydClient:
    """The few scrapyd endpoints the scheduler needs, with HTTP basic auth."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout: float = 30) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.timeout = timeout
        self.headers = {"User-Agent": "newscrawl-scheduler"}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"

    def call(self, endpoint: str, params: list[tuple[str, str]] | None = None, *, post: bool = False) -> dict[str, Any]:
        query = urllib.parse.urlencode(params or [])
        url = urllib.parse.urljoin(self.url, endpoint)
        data = query.encode() if post else None
        if query and not post:
            url += "?" + query
        request = urllib.request.Request(url, data=data, headers=self.headers, method="POST" if post else "GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - operator's URL
                body = response.read()
        except urllib.error.HTTPError as exc:
            hint = " (check SCRAPYD_USERNAME / SCRAPYD_PASSWORD)" if exc.code == 401 else ""
            raise ScrapydError(f"{endpoint}: HTTP {exc.code}{hint}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ScrapydError(f"{endpoint}: cannot reach {self.url}: {exc}") from None
        try:
            payload = json.loads(body)
        except ValueError:
            raise ScrapydError(f"{endpoint}: not JSON: {body[:200]!r}") from None
        if payload.get("status") != "ok":
            raise ScrapydError(f"{endpoint}: {payload.get('message') or payload}")
        return payload

    def busy_spiders(self, project: str) -> set[str]:
        """Spiders with a pending or running job (a second job would crawl the same URLs in parallel)."""
        jobs = self.call("listjobs.json", [("project", project)])
        return {j.get("spider") for key in ("pending", "running") for j in jobs.get(key, [])}

    def schedule(self, project: str, spider: str, settings: dict[str, str] | None = None) -> str:
        params = [("project", project), ("spider", spider)]
        params += [("setting", f"{k}={v}") for k, v in (settings or {}).items()]
        return str(self.call("schedule.json", params, post=True).get("jobid"))


def load_times(path: Path) -> dict[str, str]:
    """outlet -> ISO time it was last scheduled ({} when the file is absent or unreadable)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_times(path: Path, times: dict[str, str]) -> None:
    """Write atomically: cron may start the next --once while this one still writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n", "utf-8")
    tmp.replace(path)
