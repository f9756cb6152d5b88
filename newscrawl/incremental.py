"""Incremental crawling across runs: when an already-exported article is worth fetching again.

Pure decision logic plus the per-URL ``seen`` rows of the state file (newscrawl/stateschema.py), which
remember, per *requested* URL, the listing's lastmod, the publish date, when the article was first
exported and when it was last checked. Keyed by the requested URL, not the canonical one: a
sitemap lists ``/news/2-old-link`` which redirects to ``/news/2`` (the key of the exported record),
and the skip decision is made before any fetch, so only the requested URL is known then.

A URL counts as checked only when the fetch ended in the store's current state: the item was
exported (new or revised) or dropped as a duplicate of what is already exported. A failed fetch, a
challenge page or an item dropped by validation leaves no trace, so the next run tries again.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newscrawl.epoch import from_epoch, parse_time, to_epoch
from newscrawl.state import fingerprint
from newscrawl.stateschema import SeenRow, SourceIds, later, open_state_db, read_seen, write_seen

__all__ = ["Known", "SeenIndex", "decide", "is_revision", "now_utc", "parse_duration", "parse_time"]

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


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Known:
    """What the store knows about a requested URL (ISO 8601 strings or aware datetimes)."""

    lastmod: str | datetime | None = None
    published: str | datetime | None = None
    first_seen: str | datetime | None = None
    checked_at: str | datetime | None = None


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


#: How long SeenIndex.get reuses one read snapshot (see SeenIndex._read_snapshot).
SNAPSHOT_SECONDS = 0.05


class SeenIndex:
    """The check fields of the ``seen`` rows, on its own connection to the state file (WAL: readers never
    block). A URL exported by a run without the incremental middleware has a row from the state store
    alone; its export then counts as its first check."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = open_state_db(self.path)
        self.sources = SourceIds(self.db)
        self._cursor = self.db.cursor()
        self._snapshot_at = 0.0

    def _read_snapshot(self) -> None:
        """Keep one read transaction for up to SNAPSHOT_SECONDS of lookups.

        In WAL mode, starting and ending a read transaction costs more than the lookup itself (shared-memory
        locks: ~3.5 of ~7 µs here), and a spider callback yields its requests in bursts. The price is that a
        lookup may miss what another connection committed in the last SNAPSHOT_SECONDS: such a URL is
        fetched once more and dedup (on its own, fresh connection) drops it as already exported.
        """
        now = time.monotonic()
        if self.db.in_transaction:
            if now - self._snapshot_at <= SNAPSHOT_SECONDS:
                return
            self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._snapshot_at = now

    def _end_snapshot(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def get(self, url: str) -> Known | None:
        """One integer-keyed lookup per article request; times come back as aware datetimes."""
        self._read_snapshot()
        row = self._cursor.execute("SELECT first_seen, checked_at, fetched_at, published, lastmod FROM seen"
                                   " WHERE url_fp=?", (fingerprint(url),)).fetchone()
        if row is None:
            return None
        first, checked, fetched, published, lastmod = row
        if checked is None:
            checked = fetched if fetched is not None else 0
        return Known(lastmod=None if lastmod is None else from_epoch(first + lastmod),
                     published=None if published is None else from_epoch(first + published),
                     first_seen=from_epoch(first), checked_at=from_epoch(first + checked))

    def mark(self, urls: list[str], *, article_url: str | None, source: str | None, lastmod: str | None,
             published: str | None, now: datetime) -> None:
        """Record that ``urls`` (requested URL, redirect hops, final URL) now match the store."""
        stamp = to_epoch(now)
        assert stamp is not None
        article_fp = fingerprint(article_url) if article_url else None
        lastmod_e, published_e = to_epoch(lastmod), to_epoch(published)
        self._end_snapshot()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            source_id = self.sources.id_for(source)
            for url in dict.fromkeys(u for u in urls if u):
                url_fp = fingerprint(url)
                row = read_seen(self.db, url_fp) or SeenRow(stamp)
                row.lastmod = later(row.lastmod, lastmod_e)
                row.published = published_e if published_e is not None else row.published
                row.checked_at = stamp
                row.source = source_id if source_id is not None else row.source
                row.article_fp = article_fp if article_fp != url_fp else None
                write_seen(self.db, url_fp, row)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self.sources.forget()
            raise

    def publishing_rate(self, source: str, now: datetime, window: timedelta = timedelta(days=7)) -> float | None:
        """Articles per day this outlet published, measured from what was exported; None if too little data.

        Counts distinct articles dated (published, else first exported) within ``window`` and divides by
        the span actually observed: after one day of crawling a 2-day news sitemap, the store knows
        about 2 days of articles, not 7, so dividing by 7 would understate the rate 3.5 times.
        """
        self._end_snapshot()
        source_id = self.sources.lookup(source)
        if source_id is None:
            return None
        since, until = to_epoch(now - window), to_epoch(now + timedelta(hours=1))
        # a scan of the table (no index: it would cost ~20 bytes per URL for a command run a few times a day)
        rows = self.db.execute(
            "SELECT coalesce(article_fp, url_fp), first_seen + coalesce(published, 0) AS born FROM seen"
            " WHERE source=? AND checked_at IS NOT NULL AND born BETWEEN ? AND ?", (source_id, since, until))
        dates: dict[int, int] = {}
        for article, born in rows:
            dates[article] = min(born, dates.get(article, born))
        if len(dates) < 3:
            return None
        span_days = max((to_epoch(now) - min(dates.values())) / 86400, 1.0)  # type: ignore[operator]
        return len(dates) / span_days

    def close(self) -> None:
        self._end_snapshot()
        self.db.close()
