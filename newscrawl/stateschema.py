"""Schema of the SQLite state file (version 2), its row encoding, and the one-time migration from version 1.

Per URL, one ``seen`` row keyed by the URL's 64-bit fingerprint holds everything consulted per request
(the incremental middleware) and per item (dedup): no text, times as INTEGER epoch seconds, NULL for
what is absent (0 bytes in an SQLite record). ``first_seen`` is absolute; the other times are stored as
seconds *relative to it*, which SQLite then writes in 0-3 bytes instead of 4 (a first check is at
first_seen exactly: 0 bytes; a fetch a second before: 1 byte; a publish date hours before: 3 bytes).

Text lives only in directories keyed by fingerprint, consulted once an article is known:
``url_dir`` (URL fingerprint -> URL, content hash of the exported version: 20-byte BLOB for
"sha1:<40 hex>") and ``body_dir`` (content-hash fingerprint -> first URL that exported it, source id).
Source names are small integers (``source`` table).

Version 1 (``article``/``body``/``near_band``/``near_para``/``seen_check`` with ISO text dates) is copied
into these tables when a store first opens the file; ``article`` then remains as a read-only view.
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newscrawl.epoch import to_epoch
from newscrawl.neardup import SKETCH_SIZE, to_unsigned
from newscrawl.nearindex import RECORD, NearIndex

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
#: Address space SQLite may map for reading the state file (lookups at random keys touch pages all over it; a
#: page past the mapping is read with a syscall). SQLite caps it at its build's maximum, 2 GiB for the usual one:
#: at 10 M URLs the file is ~2.4 GB.
MMAP_BYTES = 1 << 31

TABLES = [
    """CREATE TABLE IF NOT EXISTS seen (
        url_fp INTEGER PRIMARY KEY,   -- fingerprint of the URL (requested, redirect hop, or exported key)
        revision INTEGER,             -- exported version under this URL; NULL: never exported under it
        source INTEGER,               -- source.id (spider / outlet)
        article_fp INTEGER,           -- URL fingerprint of the exported record when it is another URL
        first_seen INTEGER NOT NULL,  -- epoch seconds UTC: first export or first check
        checked_at INTEGER,           -- the rest: seconds relative to first_seen
        fetched_at INTEGER,
        published INTEGER,
        modified_at INTEGER,
        lastmod INTEGER
    )""",
    "CREATE TABLE IF NOT EXISTS url_dir (url_fp INTEGER PRIMARY KEY, url TEXT NOT NULL, content_hash BLOB)",
    "CREATE TABLE IF NOT EXISTS body_dir (hash_fp INTEGER PRIMARY KEY, url_fp INTEGER NOT NULL, source INTEGER)",
    "CREATE TABLE IF NOT EXISTS source (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
]
# What version 1 called the exported articles, for queries written against it (tests, ad-hoc inspection).
ARTICLE_VIEW = ("CREATE VIEW IF NOT EXISTS article AS SELECT d.url_fp AS url_fp, d.url AS url, s.revision AS revision"
                " FROM url_dir d JOIN seen s ON s.url_fp = d.url_fp WHERE s.revision IS NOT NULL")
_V1_TABLES = ("article", "body", "near_band", "near_para", "seen_check")
_RELATIVE = ("checked_at", "fetched_at", "published", "modified_at", "lastmod")
SEEN_COLUMNS = ("revision", "source", "article_fp", "first_seen", *_RELATIVE)


def now_epoch() -> int:
    return int(time.time())


def later(a: int | None, b: int | None) -> int | None:
    """The later of two optional times."""
    if a is None:
        return b
    return a if b is None else max(a, b)


@dataclass
class SeenRow:
    """A ``seen`` row with absolute epoch times."""

    first_seen: int
    revision: int | None = None
    source: int | None = None
    article_fp: int | None = None
    checked_at: int | None = None
    fetched_at: int | None = None
    published: int | None = None
    modified_at: int | None = None
    lastmod: int | None = None


def read_seen(db: sqlite3.Connection, url_fp: int) -> SeenRow | None:
    row = db.execute(f"SELECT {', '.join(SEEN_COLUMNS)} FROM seen WHERE url_fp=?", (url_fp,)).fetchone()
    if row is None:
        return None
    revision, source, article_fp, first, *rel = row
    return SeenRow(first, revision, source, article_fp, *(None if d is None else first + d for d in rel))


def write_seen(db: sqlite3.Connection, url_fp: int, row: SeenRow) -> None:
    first = row.first_seen
    rel = [None if (v := getattr(row, name)) is None else v - first for name in _RELATIVE]
    db.execute(f"INSERT OR REPLACE INTO seen (url_fp, {', '.join(SEEN_COLUMNS)}) VALUES ({','.join('?' * 10)})",
               (url_fp, row.revision, row.source, row.article_fp, first, *rel))


_SHA1 = re.compile(r"sha1:[0-9a-f]{40}")


def encode_hash(content_hash: str | None) -> bytes | str | None:
    """"sha1:<40 hex>" -> its 20 bytes; any other string is kept as it is."""
    if content_hash and _SHA1.fullmatch(content_hash):
        return bytes.fromhex(content_hash[5:])
    return content_hash


def decode_hash(stored: bytes | str | None) -> str | None:
    return "sha1:" + stored.hex() if isinstance(stored, bytes) else stored


class SourceIds:
    """Source name <-> small integer id, cached per connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.ids: dict[str, int] = {}
        self.names: dict[int, str] = {}

    def id_for(self, name: str | None) -> int | None:
        """The id of ``name`` (added when new: call inside the caller's write transaction)."""
        if not name:
            return None
        sid = self.ids.get(name)
        if sid is None:
            self.db.execute("INSERT OR IGNORE INTO source (name) VALUES (?)", (name,))
            sid = self.db.execute("SELECT id FROM source WHERE name=?", (name,)).fetchone()[0]
            self.ids[name], self.names[sid] = sid, name
        return sid

    def lookup(self, name: str) -> int | None:
        """The id of ``name`` if it has one (no write)."""
        if name not in self.ids:
            row = self.db.execute("SELECT id FROM source WHERE name=?", (name,)).fetchone()
            if row is None:
                return None
            self.ids[name], self.names[row[0]] = row[0], name
        return self.ids[name]

    def name_for(self, sid: int | None) -> str | None:
        if sid is None:
            return None
        if sid not in self.names:
            row = self.db.execute("SELECT name FROM source WHERE id=?", (sid,)).fetchone()
            if row is None:
                return None
            self.names[sid] = row[0]
        return self.names[sid]

    def forget(self) -> None:
        """Drop the cache (after a rollback that may have undone an insert)."""
        self.ids.clear()
        self.names.clear()


def near_log_path(state_path: str) -> str | None:
    """The near-duplicate log beside a state file (None for an in-memory store)."""
    return None if state_path == ":memory:" else f"{state_path}.near"


def open_state_db(path: str) -> sqlite3.Connection:
    """A connection to the state file with its schema in place; the state store and the incremental
    middleware's index each open one (WAL: readers never block the writer)."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # timeout: the dedup pipeline, the incremental index and, on scrapyd, other outlets' jobs write one file
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    # WAL + NORMAL: a crash loses at most the last transactions, never corrupts the file.
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # reads hit the OS page cache without a syscall
    ensure_schema(db, path)
    return db


def ensure_schema(db: sqlite3.Connection, state_path: str) -> None:
    """Create the version 2 tables, migrating a version 1 file first. Safe when several processes open the
    same file at once (the work happens in one IMMEDIATE transaction, after re-reading the version)."""
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"{state_path}: state schema version {version} is newer than this newscrawl "
                               f"understands ({SCHEMA_VERSION}); upgrade newscrawl or use another state file")
        if version < SCHEMA_VERSION:
            for statement in TABLES:
                db.execute(statement)
            old = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if old & set(_V1_TABLES):
                migrate_v1(db, old, state_path)
            else:
                _drop_orphan_log(state_path)
            db.execute(ARTICLE_VIEW)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _drop_orphan_log(state_path: str) -> None:
    """Empty a near-duplicate log left beside a state file that was deleted and is being created again: its
    records describe articles this database never recorded, and a URL recorded again would keep the stale
    record (the first one wins at load)."""
    log = near_log_path(state_path)
    if log is not None and os.path.exists(log) and os.path.getsize(log):
        logger.warning("%s: emptying the near-duplicate log %s, which belongs to a deleted state file", state_path,
                       log)
        os.truncate(log, 0)


def migrate_v1(db: sqlite3.Connection, tables: set[str], state_path: str) -> None:
    """Copy version 1 tables into the version 2 ones (inside the caller's transaction), then drop them.

    The near-duplicate records go to the log first, in the order version 1 answered with (earliest
    fetched first); if the transaction then fails, the next open migrates again and the log's duplicates
    are ignored at load.
    """
    sources = SourceIds(db)
    rows: dict[int, SeenRow] = {}
    now = now_epoch()
    order: list[int] = []
    if "article" in tables:
        for url_fp, url, revision, content_hash, modified, lastmod, fetched in db.execute(
                "SELECT url_fp, url, revision, content_hash, modified_at, lastmod, fetched_at FROM article"
                " ORDER BY fetched_at, rowid"):
            fetched_e = to_epoch(fetched)
            rows[url_fp] = SeenRow(fetched_e if fetched_e is not None else now, revision, fetched_at=fetched_e,
                                   modified_at=to_epoch(modified), lastmod=to_epoch(lastmod))
            db.execute("INSERT OR REPLACE INTO url_dir (url_fp, url, content_hash) VALUES (?,?,?)",
                       (url_fp, url, encode_hash(content_hash)))
            order.append(url_fp)
    if "body" in tables:
        from newscrawl.state import fingerprint  # noqa: PLC0415 - state.py imports this module

        for hash_fp, url, source in db.execute("SELECT hash_fp, url, source FROM body").fetchall():
            db.execute("INSERT OR IGNORE INTO body_dir (hash_fp, url_fp, source) VALUES (?,?,?)",
                       (hash_fp, fingerprint(url), sources.id_for(source)))
    if "seen_check" in tables:
        from newscrawl.state import fingerprint  # noqa: PLC0415

        for url_fp, article_url, source, lastmod, published, first, checked in db.execute(
                "SELECT url_fp, article_url, source, lastmod, published, first_seen, checked_at FROM seen_check"
        ).fetchall():
            first_e = to_epoch(first)
            row = rows.get(url_fp) or SeenRow(first_e if first_e is not None else now)
            if first_e is not None and first_e < row.first_seen:
                row.first_seen = first_e
            row.checked_at = to_epoch(checked) or row.first_seen
            row.published = to_epoch(published)
            row.lastmod = later(row.lastmod, to_epoch(lastmod))
            row.source = sources.id_for(source)
            article_fp = fingerprint(article_url) if article_url else None
            row.article_fp = article_fp if article_fp != url_fp else None
            rows[url_fp] = row
    for url_fp, row in rows.items():
        write_seen(db, url_fp, row)
    if "near_band" in tables or "near_para" in tables:
        _migrate_near(db, tables, order, state_path)
    for name in _V1_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {name}")


def _migrate_near(db: sqlite3.Connection, tables: set[str], order: list[int], state_path: str) -> None:
    sims: dict[int, int] = {}
    sketches: dict[int, list[int]] = {}
    if "near_band" in tables:
        sims = {fp: to_unsigned(sim) for fp, sim in db.execute("SELECT DISTINCT url_fp, simhash FROM near_band")}
    if "near_para" in tables:
        for key, fp in db.execute("SELECT key, url_fp FROM near_para ORDER BY url_fp, key"):
            sketches.setdefault(fp, []).append(key)
    fps = [fp for fp in order if fp in sims or fp in sketches]
    recs = np.zeros(len(fps), RECORD)
    for i, fp in enumerate(fps):
        keys = sketches.get(fp, [])[:SKETCH_SIZE]
        recs[i]["url_fp"], recs[i]["simhash"] = fp, sims.get(fp, 0)
        recs[i]["sketch"][:len(keys)] = keys
    index = NearIndex(near_log_path(state_path))
    try:
        index.append_many(recs)
    finally:
        index.close()

