"""Persistent crawl state in embedded SQLite: what was exported, and a near-duplicate index.

Keys are 64-bit integer fingerprints (first 8 bytes of SHA-1), not URL strings. Per URL, one ``seen`` row of
integers serves both the incremental middleware (per request) and dedup (per item); URLs and full content
hashes live in directories keyed by fingerprint; the near-duplicate index is a numpy index over an
append-only log beside the SQLite file. Layout and encoding: newscrawl/stateschema.py and
newscrawl/nearindex.py. Only exported articles are recorded (see pipelines/dedup.py): a failed fetch or a
challenge page never counts as "seen".
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from newscrawl.epoch import iso_from_epoch, to_epoch
from newscrawl.nearindex import NearIndex
from newscrawl.stateschema import (
    SeenRow,
    SourceIds,
    decode_hash,
    encode_hash,
    later,
    near_log_path,
    now_epoch,
    open_state_db,
    read_seen,
    write_seen,
)

#: Near-duplicate candidates resolved to a URL per query (earliest recorded first).
NEAR_RESOLVE = 50


def fingerprint(text: str) -> int:
    """Signed 64-bit fingerprint of a string (SQLite's integer range)."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class SeenArticle:
    """An exported article as the store knows it (times as ISO 8601 UTC strings, ``Z`` suffix)."""

    url: str
    revision: int
    content_hash: str | None
    modified_at: str | None
    lastmod: str | None
    fetched_at: str | None


def _rel(first: int, delta: int | None) -> str | None:
    return None if delta is None else iso_from_epoch(first + delta)


class StateStore:
    """SQLite-backed seen-store and near-duplicate index. Not thread-safe (Scrapy is single-threaded).

    Several processes may share one file (scrapyd runs several outlets' jobs on it): writes are IMMEDIATE
    transactions with a busy timeout, and the near-duplicate index reads the records others appended.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self.db = open_state_db(self.path)
        self.sources = SourceIds(self.db)
        self.near_index = NearIndex(near_log_path(self.path))

    # ---------------------------------------------------------------- lookups
    def get(self, url: str) -> SeenArticle | None:
        row = self.db.execute(
            "SELECT d.url, s.revision, d.content_hash, s.first_seen, s.modified_at, s.lastmod, s.fetched_at"
            " FROM seen s JOIN url_dir d ON d.url_fp = s.url_fp WHERE s.url_fp=? AND s.revision IS NOT NULL",
            (fingerprint(url),)).fetchone()
        if row is None:
            return None
        stored_url, revision, content_hash, first, modified, lastmod, fetched = row
        return SeenArticle(stored_url, revision, decode_hash(content_hash), _rel(first, modified),
                           _rel(first, lastmod), _rel(first, fetched))

    def url_for_hash(self, content_hash: str) -> tuple[str, str | None] | None:
        row = self.db.execute("SELECT d.url, b.source FROM body_dir b JOIN url_dir d ON d.url_fp = b.url_fp"
                              " WHERE b.hash_fp=?", (fingerprint(content_hash),)).fetchone()
        return (row[0], self.sources.name_for(row[1])) if row else None

    def near(self, simhash: int, max_distance: int, sketch: list[int] | None = None) -> str | None:
        """URL of the earliest-recorded near-duplicate (SimHash within max_distance bits, or a paragraph
        sketch match), else None."""
        for url_fp in self.near_index.query(simhash, max_distance, sketch)[:NEAR_RESOLVE]:
            # a record whose SQLite commit never happened (killed in between) has no URL: not exported
            row = self.db.execute("SELECT url FROM url_dir WHERE url_fp=?", (url_fp,)).fetchone()
            if row is not None:
                return row[0]
        return None

    # ---------------------------------------------------------------- writes
    def record(self, url: str, *, content_hash: str | None, simhash: int | None, revision: int = 1,
               modified_at: str | None = None, lastmod: str | None = None, fetched_at: str | None = None,
               source: str | None = None, sketch: list[int] | None = None) -> None:
        """Record an exported article (one transaction: all or nothing; its near-duplicate record is
        appended to the log before the commit)."""
        url_fp = fingerprint(url)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = read_seen(self.db, url_fp)
            new = row is None or row.revision is None
            fetched = to_epoch(fetched_at)
            if row is None:
                row = SeenRow(fetched if fetched is not None else now_epoch())
            row.revision, row.fetched_at, row.modified_at = revision, fetched, to_epoch(modified_at)
            row.lastmod = later(row.lastmod, to_epoch(lastmod))
            source_id = self.sources.id_for(source)
            row.source = source_id if source_id is not None else row.source
            write_seen(self.db, url_fp, row)
            self.db.execute("INSERT OR REPLACE INTO url_dir (url_fp, url, content_hash) VALUES (?,?,?)",
                            (url_fp, url, encode_hash(content_hash)))
            if content_hash:
                self.db.execute("INSERT OR IGNORE INTO body_dir (hash_fp, url_fp, source) VALUES (?,?,?)",
                                (fingerprint(content_hash), url_fp, source_id))
            if new and (simhash or sketch):
                self.near_index.append(url_fp, simhash or 0, sketch or [])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            self.sources.forget()
            raise

    def claim(self, url: str, content_hash: str | None, source: str | None = None) -> bool:
        """Claim the export of an article. One process owns this file, so always granted; the Redis
        backend (newscrawl/distributed/state.py) refuses when another worker is exporting it."""
        return True

    def release(self, url: str) -> None:
        """Give up a claim (the item was dropped after all): nothing to do here."""

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM seen WHERE revision IS NOT NULL").fetchone()[0]

    def close(self) -> None:
        self.near_index.close()
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
