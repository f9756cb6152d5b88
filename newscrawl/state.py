"""Persistent crawl state in embedded SQLite: what was exported, and a near-duplicate index.

Keys are 64-bit integer fingerprints (first 8 bytes of SHA-1), not URL strings: an entry then costs
tens of bytes, and lookups hit an integer primary key. Only exported articles are recorded (see
pipelines/dedup.py): a failed fetch or a challenge page never counts as "seen".
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newscrawl.neardup import bands, hamming, sketch_match, to_signed, to_unsigned

SCHEMA = """
CREATE TABLE IF NOT EXISTS article (
    url_fp INTEGER PRIMARY KEY,      -- fingerprint of the canonical URL
    url TEXT NOT NULL,
    hash_fp INTEGER,                 -- fingerprint of content_hash
    simhash INTEGER,
    revision INTEGER NOT NULL DEFAULT 1,
    content_hash TEXT,
    modified_at TEXT,
    lastmod TEXT,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS body (hash_fp INTEGER PRIMARY KEY, url TEXT NOT NULL, source TEXT);
-- Near-duplicate index, clustered by key (WITHOUT ROWID): a query reads only the index pages of its keys,
-- and the band rows carry the SimHash so candidates are checked without touching the article table.
CREATE TABLE IF NOT EXISTS near_band (key INTEGER NOT NULL, url_fp INTEGER NOT NULL, simhash INTEGER NOT NULL,
                                      PRIMARY KEY (key, url_fp)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS near_para (key INTEGER NOT NULL, url_fp INTEGER NOT NULL,
                                      PRIMARY KEY (key, url_fp)) WITHOUT ROWID;
"""


def fingerprint(text: str) -> int:
    """Signed 64-bit fingerprint of a string (SQLite's integer range)."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class SeenArticle:
    url: str
    revision: int
    content_hash: str | None
    modified_at: str | None
    lastmod: str | None
    fetched_at: str | None


class StateStore:
    """SQLite-backed seen-store and near-duplicate index. Not thread-safe (Scrapy is single-threaded)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        # WAL + NORMAL: a crash loses at most the last transactions, never corrupts the file.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    # ---------------------------------------------------------------- lookups
    def get(self, url: str) -> SeenArticle | None:
        row = self.db.execute(
            "SELECT url, revision, content_hash, modified_at, lastmod, fetched_at FROM article WHERE url_fp=?",
            (fingerprint(url),)).fetchone()
        return SeenArticle(*row) if row else None

    def url_for_hash(self, content_hash: str) -> tuple[str, str | None] | None:
        row = self.db.execute("SELECT url, source FROM body WHERE hash_fp=?", (fingerprint(content_hash),)).fetchone()
        return (row[0], row[1]) if row else None

    def near(self, simhash: int, max_distance: int, sketch: list[int] | None = None) -> str | None:
        """URL of the earliest-fetched near-duplicate (SimHash within max_distance bits, or a paragraph
        sketch match), else None."""
        found: set[int] = set()
        if sketch:
            rows = self.db.execute(
                f"SELECT url_fp, count(*) FROM near_para WHERE key IN ({','.join('?' * len(sketch))}) GROUP BY url_fp",
                sketch).fetchall()
            found.update(fp for fp, shared in rows if sketch_match(sketch, shared))
        if not found and max_distance >= 0 and simhash:
            keys = [to_signed(b) for b in bands(simhash)]
            rows = self.db.execute(
                f"SELECT url_fp, simhash FROM near_band WHERE key IN ({','.join('?' * len(keys))})", keys).fetchall()
            found.update(fp for fp, other in rows if hamming(simhash, to_unsigned(other)) <= max_distance)
        if not found:
            return None
        fps = sorted(found)[:50]
        row = self.db.execute(
            f"SELECT url FROM article WHERE url_fp IN ({','.join('?' * len(fps))}) ORDER BY fetched_at LIMIT 1",
            fps).fetchone()
        return row[0] if row else None

    # ---------------------------------------------------------------- writes
    def record(self, url: str, *, content_hash: str | None, simhash: int | None, revision: int = 1,
               modified_at: str | None = None, lastmod: str | None = None, fetched_at: str | None = None,
               source: str | None = None, sketch: list[int] | None = None) -> None:
        """Record an exported article (one transaction: all or nothing)."""
        url_fp = fingerprint(url)
        with self.db:
            self.db.execute("BEGIN")
            new = self.db.execute("SELECT 1 FROM article WHERE url_fp=?", (url_fp,)).fetchone() is None
            self.db.execute(
                "INSERT INTO article (url_fp, url, hash_fp, simhash, revision, content_hash, modified_at, lastmod,"
                " fetched_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(url_fp) DO UPDATE SET hash_fp=excluded.hash_fp,"
                " simhash=excluded.simhash, revision=excluded.revision, content_hash=excluded.content_hash,"
                " modified_at=excluded.modified_at, lastmod=excluded.lastmod, fetched_at=excluded.fetched_at",
                (url_fp, url, fingerprint(content_hash) if content_hash else None,
                 to_signed(simhash) if simhash else None, revision, content_hash, modified_at, lastmod, fetched_at))
            if content_hash:
                self.db.execute("INSERT OR IGNORE INTO body (hash_fp, url, source) VALUES (?,?,?)",
                                (fingerprint(content_hash), url, source))
            if simhash and new:
                self.db.executemany("INSERT OR IGNORE INTO near_band (key, url_fp, simhash) VALUES (?,?,?)",
                                    [(to_signed(b), url_fp, to_signed(simhash)) for b in bands(simhash)])
            if sketch and new:
                self.db.executemany("INSERT OR IGNORE INTO near_para (key, url_fp) VALUES (?,?)",
                                    [(k, url_fp) for k in sketch])

    def claim(self, url: str, content_hash: str | None, source: str | None = None) -> bool:
        """Claim the export of an article. One process owns this file, so always granted; the Redis
        backend (newscrawl/distributed/state.py) refuses when another worker is exporting it."""
        return True

    def release(self, url: str) -> None:
        """Give up a claim (the item was dropped after all): nothing to do here."""

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM article").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def open_state(settings: Any, path: str | None = None) -> Any:
    """The crawl's state backend: Redis when ``NEWSCRAWL_REDIS_URL`` is set (distributed crawling, see
    docs/distributed.md), else SQLite at ``path`` (default ``NEWSCRAWL_STATE_PATH``). Batch extraction
    (``:memory:``) and WARC replays are always SQLite. Both have the same public methods."""
    from newscrawl.distributed import crawl_redis_url  # noqa: PLC0415 - keeps embedded mode free of redis imports

    path = path or settings.get("NEWSCRAWL_STATE_PATH", ".newscrawl/state.sqlite3")
    if path != ":memory:" and crawl_redis_url(settings):
        from newscrawl.distributed.state import RedisStateStore  # noqa: PLC0415

        return RedisStateStore.from_settings(settings)
    return StateStore(path)
