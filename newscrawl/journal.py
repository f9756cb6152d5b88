"""Export journal: which JSONL exports are still open, torn-tail repair, and reconciliation after a crash.

An article is recorded in the state store only after the feed exporter wrote its line (see
pipelines/dedup.py), so a process killed between the two leaves a line on disk that the state does
not know: the resumed run would fetch the article again and export it a second time. And a
``kill -9`` in the middle of a large ``write()`` (the kernel stops copying at a page boundary when a
fatal signal is pending) leaves half a line, which the next append would glue to a whole record.

The journal closes both gaps with one small table in the state database:

- the feed storage (newscrawl/feedstorage.py) adds a row (path, spider, start offset) before it
  writes the first line of a run, and deletes it after the file was closed cleanly;
- at the next open of the same spider, every row still present belongs to a killed run: its file
  gets its torn last line cut off (:func:`repair_tail`), and every whole line from the start offset
  that the state does not know is recorded (:func:`reconcile`).

A JSONL line is complete if and only if it ends with ``\\n``; :func:`read_lines` is a reader that
follows that rule for files still being written.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS export_open (
    path TEXT PRIMARY KEY,          -- absolute path of the JSONL file being written
    spider TEXT NOT NULL,
    start INTEGER NOT NULL,         -- file size (a line boundary) when this run began writing
    opened_at TEXT
);
"""

#: The newest lines are read back in blocks of this size when looking for the last newline.
_BLOCK = 64 * 1024


def connect(state_path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to the state database with the journal table present."""
    Path(state_path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(state_path), isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    return db


def register(db: sqlite3.Connection, path: str | os.PathLike[str], spider: str, start: int) -> None:
    """Note that this run starts writing ``path`` at byte ``start`` (keeps an older, smaller start)."""
    db.execute(
        "INSERT INTO export_open (path, spider, start, opened_at) VALUES (?,?,?,?) "
        "ON CONFLICT(path) DO UPDATE SET start=min(start, excluded.start), spider=excluded.spider",
        (str(Path(path).absolute()), spider, start, datetime.now(timezone.utc).isoformat(timespec="seconds")))


def unregister(db: sqlite3.Connection, path: str | os.PathLike[str]) -> None:
    """Note that ``path`` was closed cleanly: every line in it is recorded in the state."""
    db.execute("DELETE FROM export_open WHERE path=?", (str(Path(path).absolute()),))


def open_exports(db: sqlite3.Connection, spider: str) -> list[tuple[str, int]]:
    """(path, start) of this spider's exports left open by a run that never closed them."""
    return db.execute("SELECT path, start FROM export_open WHERE spider=? ORDER BY opened_at, path",
                      (spider,)).fetchall()


def repair_tail(path: str | os.PathLike[str]) -> int:
    """Cut a torn last line (bytes after the last ``\\n``) off ``path``; -> number of bytes removed.

    Only the end of the file is read (block by block backwards), so this costs the same on a
    1 GiB export as on a small one. A file without any newline is emptied.
    """
    p = Path(path)
    with p.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        pos = size
        while pos > 0:
            start = max(0, pos - _BLOCK)
            f.seek(start)
            block = f.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        if keep < size:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
        return size - keep


def read_lines(path: str | os.PathLike[str], start: int = 0) -> Iterator[bytes]:
    """Whole lines of ``path`` from byte ``start``, without their newline; an unterminated last line
    (a write still in progress, or torn by a crash) is not yielded."""
    with Path(path).open("rb") as f:
        f.seek(start)
        for line in f:
            if line.endswith(b"\n"):
                yield line[:-1]


def reconcile(db: sqlite3.Connection, spider: str, record: Callable[[dict[str, Any]], bool],
              stats: Any = None) -> int:
    """Repair and reconcile the exports a killed run of ``spider`` left open; -> lines recorded.

    ``record(article)`` records one exported article in the state if it does not know it yet, and
    returns whether it did. Rows are deleted once handled.
    """
    def inc(key: str, n: int = 1) -> None:
        if stats is not None and n:
            stats.inc_value(f"newscrawl/export/{key}", n)

    recorded = 0
    for path, start in open_exports(db, spider):
        p = Path(path)
        if not p.exists():
            logger.warning("Export %s of an unfinished run is gone; nothing to reconcile", path)
            unregister(db, path)
            continue
        torn = repair_tail(p)
        if torn:
            inc("torn_tail_repaired")
            inc("torn_tail_bytes", torn)
            logger.warning("Repaired torn tail of %s: cut %d bytes of an unfinished last line (a killed "
                           "write; that article was not recorded and will be exported again)", path, torn)
        if start > p.stat().st_size:  # replaced by hand since: read it all
            start = 0
        n = invalid = 0
        for line in read_lines(p, start):
            if not line.strip():
                continue
            try:
                article = orjson.loads(line)
            except orjson.JSONDecodeError:
                invalid += 1
                continue
            if isinstance(article, dict) and record(article):
                n += 1
        if invalid:
            inc("invalid_lines", invalid)
            logger.error("Export %s holds %d lines that are not JSON; left as they are", path, invalid)
        if n:
            inc("reconciled", n)
            logger.warning("Reconciled %s: %d exported articles were missing from the state (the "
                           "previous run was killed after writing them)", path, n)
        else:
            logger.info("Export %s of an unfinished run checked: the state already knows every line", path)
        recorded += n
        unregister(db, path)
    return recorded
