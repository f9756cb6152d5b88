"""Times in the state file: INTEGER epoch seconds UTC inside, aware datetimes / ISO 8601 strings outside.

An integer costs 4 bytes in an SQLite record where an ISO string costs 25, and compares without parsing.
Conversion happens only at the store's API boundary (newscrawl/state.py, newscrawl/incremental.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)


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


def to_epoch(value: Any) -> int | None:
    """ISO 8601 string or datetime -> epoch seconds UTC, None when absent or unparseable.

    Fractions of a second round *up*: a stored lastmod/modified_at is then never earlier than the value it
    came from, so seeing the same value again never looks like a newer one (a needless re-fetch or revision).
    """
    dt = parse_time(value)
    if dt is None:
        return None
    seconds, rest = divmod(dt - EPOCH, _SECOND)
    return seconds + (1 if rest else 0)


def from_epoch(seconds: int | None) -> datetime | None:
    """Epoch seconds -> aware UTC datetime (None stays None, and so does a value outside years 1-9999)."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)  # twice as fast as EPOCH + timedelta
    except (OverflowError, OSError, ValueError):
        pass
    try:
        return EPOCH + timedelta(seconds=seconds)
    except OverflowError:  # "0001-01-01T00:00:00-05:00" is a valid ISO string whose UTC time is in year 0
        return None


def iso_from_epoch(seconds: int | None) -> str | None:
    """Epoch seconds -> ISO 8601 in UTC with a ``Z`` ("2026-11-25T10:00:00Z"); None stays None."""
    dt = from_epoch(seconds)
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")
