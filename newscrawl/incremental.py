"""Incremental crawling across runs: when an already-exported article is worth fetching again.

Pure decision logic plus a small SQLite table (``seen_check``, in the same file as the state store)
that remembers, per *requested* URL, the listing's lastmod, the publish date, when the article was
first exported and when it was last checked. Keyed by the requested URL, not the canonical one: a
sitemap lists ``/news/2-old-link`` which redirects to ``/news/2`` (the key of the exported record),
and the skip decision is made before any fetch, so only the requested URL is known then.

A URL counts as checked only when the fetch ended in the store's current state: the item was
exported (new or revised) or dropped as a duplicate of what is already exported. A failed fetch, a
challenge page or an item dropped by validation leaves no trace, so the next run tries again.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newscrawl.state import fingerprint

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_check (
    url_fp INTEGER PRIMARY KEY,    -- fingerprint of the requested URL
    url TEXT NOT NULL,
    article_url TEXT,              -- key of the exported record (canonical URL, else final URL)
    source TEXT,                   -- spider name
    lastmod TEXT,                  -- newest sitemap/feed lastmod seen for it
    published TEXT,                -- published_at of the article (or the listing's date)
    first_seen TEXT NOT NULL,      -- first export (UTC ISO 8601)
    checked_at TEXT NOT NULL       -- last fetch that ended in an export or a duplicate drop
);
CREATE INDEX IF NOT EXISTS seen_check_source ON seen_check (source, first_seen);
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.I)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> timedelta:
    """"90s", "15m", "6h", "2d", "1w" or a number of seconds -> timedelta (ValueError otherwise)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (expected e.g. 90s, 15m, 6h, 2d, 1w)")
    return timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2).lower()])


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 -> aware datetime (naive = UTC), None when absent or unparseable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"  # Python 3.10's fromisoformat rejects "Z"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Known:
    """What the store knows about a requested URL."""

    lastmod: str | None = None
    published: str | None = None
    first_seen: str | None = None
    checked_at: str | None = None


def decide(known: Known | None, *, lastmod: str | None, published: str | None, now: datetime,
           interval: timedelta, max_age: timedelta, trust_lastmod: bool = True) -> str:
    """-> "new", "lastmod" or "recheck" (fetch), or "skip".

    - never exported: fetch;
    - the listing's lastmod is newer than the stored one (or the store has none yet): fetch;
    - a recent article (published, else first exported, under ``max_age`` ago) not checked for
      ``interval``: fetch (edits cluster in an article's first hours, often without a lastmod bump);
    - otherwise skip.
    """
    if known is None:
        return "new"
    if trust_lastmod:
        new_lm = parse_time(lastmod)
        if new_lm is not None:
            old_lm = parse_time(known.lastmod)
            if old_lm is None or new_lm > old_lm:
                return "lastmod"
    born = parse_time(published) or parse_time(known.published) or parse_time(known.first_seen)
    if born is not None and now - born < max_age:
        checked = parse_time(known.checked_at)
        if checked is None or now - checked >= interval:
            return "recheck"
    return "skip"


# A dateModified within this much of the fetch is the render time, not an edit: some CMSes stamp
# every page view (dateModified = now), which would make every re-fetch look like a revision.
RENDER_STAMP_SLACK = timedelta(minutes=2)


def is_revision(prev_hash: str | None, prev_modified: str | None, new_hash: str | None,
                new_modified: str | None, fetched_at: str | None = None) -> bool:
    """Whether a re-fetched article differs from its exported version: body or modified_at changed.

    A modified_at change counts only when it moves forward and is not the fetch time itself.
    """
    if prev_hash != new_hash:
        return True
    new_dt = parse_time(new_modified)
    if new_dt is None:
        return False
    old_dt = parse_time(prev_modified)
    if old_dt is not None and new_dt <= old_dt:
        return False
    fetched = parse_time(fetched_at)
    if fetched is not None and abs(fetched - new_dt) <= RENDER_STAMP_SLACK:
        return False
    return True


def _later(a: str | None, b: str | None) -> str | None:
    da, db = parse_time(a), parse_time(b)
    if da is None:
        return b if db is not None else a
    if db is None:
        return a
    return b if db > da else a


class SeenIndex:
    """The ``seen_check`` table, on its own connection to the state file (WAL: readers never block)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # timeout: the dedup pipeline (and, on scrapyd, another outlet's job) write the same file
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def get(self, url: str) -> Known | None:
        row = self.db.execute("SELECT lastmod, published, first_seen, checked_at FROM seen_check WHERE url_fp=?",
                              (fingerprint(url),)).fetchone()
        return Known(*row) if row else None

    def mark(self, urls: list[str], *, article_url: str | None, source: str | None, lastmod: str | None,
             published: str | None, now: datetime) -> None:
        """Record that ``urls`` (requested URL, redirect hops, final URL) now match the store."""
        stamp = now.isoformat()
        with self.db:
            self.db.execute("BEGIN")
            for url in dict.fromkeys(u for u in urls if u):
                old = self.db.execute("SELECT lastmod, published, first_seen FROM seen_check WHERE url_fp=?",
                                      (fingerprint(url),)).fetchone()
                lm = _later(old[0], lastmod) if old else lastmod
                pub = published or (old[1] if old else None)
                first = old[2] if old else stamp
                self.db.execute(
                    "INSERT INTO seen_check (url_fp, url, article_url, source, lastmod, published, first_seen,"
                    " checked_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(url_fp) DO UPDATE SET"
                    " article_url=excluded.article_url, source=excluded.source, lastmod=excluded.lastmod,"
                    " published=excluded.published, checked_at=excluded.checked_at",
                    (fingerprint(url), url, article_url, source, lm, pub, first, stamp))

    def publishing_rate(self, source: str, now: datetime, window: timedelta = timedelta(days=7)) -> float | None:
        """Articles per day this outlet published, measured from what was exported; None if too little data.

        Counts distinct articles dated (published, else first exported) within ``window`` and divides by
        the span actually observed: after one day of crawling a 2-day news sitemap, the store knows
        about 2 days of articles, not 7, so dividing by 7 would understate the rate 3.5 times.
        """
        since = now - window
        rows = self.db.execute(
            "SELECT article_url, coalesce(published, first_seen) FROM seen_check WHERE source=?",
            (source,)).fetchall()
        dates: dict[str, datetime] = {}
        for article, when in rows:
            dt = parse_time(when)
            if article and dt is not None and since <= dt <= now + timedelta(hours=1):
                dates[article] = min(dt, dates.get(article, dt))
        if len(dates) < 3:
            return None
        span_days = max((now - min(dates.values())).total_seconds() / 86400, 1.0)
        return len(dates) / span_days

    def close(self) -> None:
        self.db.close()
