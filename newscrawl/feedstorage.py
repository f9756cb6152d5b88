"""Local-file feed storage that a crash or an empty run cannot use to destroy an export.

Scrapy's FileFeedStorage opens the target with ``wb`` when a feed has ``overwrite: True``: the earlier
export is gone the moment the first item arrives (a run killed after 3 items leaves 3), and with
``store_empty`` (Scrapy's default) a run that scrapes nothing replaces it with an empty file. In
append mode it appends after whatever the file ends with, including half a line left by a killed
write, gluing two records into one invalid line.

This storage:

- append (``overwrite: False``, the newscrawl default with one file per run): cuts a torn last line
  off the target before appending (stat ``newscrawl/export/torn_tail_repaired``);
- overwrite: writes ``<target>.part`` and renames it over the target only when the run closes the
  feed cleanly. An empty result never replaces a non-empty export (stat
  ``newscrawl/export/empty_kept_previous``). A ``.part`` left by a killed JSONL run is adopted by the
  next run (repaired, then appended to), because the state already counts its articles as exported;
- JSONL feeds are registered in the export journal (newscrawl/journal.py) while open, so the next
  run can reconcile a killed run's lines with the state;
- fsyncs the file at close, so a cleanly stored export also survives a power cut.

Other formats (json, csv, xml) or feeds with ``postprocessing`` (gzip ...) keep the overwrite
protection but are not journaled or repaired: their files are not line-oriented.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FileFeedStorage

from newscrawl import journal

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"


class SafeFileFeedStorage(FileFeedStorage):
    """``file://`` and plain-path feed storage: repair before append, write-then-rename for overwrite."""

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None,
                 crawler: Crawler | None = None) -> None:
        super().__init__(uri, feed_options=feed_options)
        options = feed_options or {}
        self.overwrite = bool(options.get("overwrite", False))
        self.lines = options.get("format") == "jsonl" and not options.get("postprocessing")
        self.crawler = crawler
        settings = crawler.settings if crawler is not None else None
        state = settings.get("NEWSCRAWL_STATE_PATH") if settings is not None else None
        mark_only = settings is not None and settings.get("NEWSCRAWL_DEDUP_MODE", "crawl") == "mark"
        # The journal lives beside the crawl state; batch extraction keeps no state, so no journal.
        self.state_path: str | None = state if state and state != ":memory:" and not mark_only else None
        self.target = Path(self.path)
        self.written = self.target.with_name(self.target.name + PART_SUFFIX) if self.overwrite else self.target

    @classmethod
    def from_crawler(cls, crawler: Crawler, uri: str, *,
                     feed_options: dict[str, Any] | None = None) -> SafeFileFeedStorage:
        return cls(uri, feed_options=feed_options, crawler=crawler)

    def _inc(self, key: str, n: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None and n:
            self.crawler.stats.inc_value(f"newscrawl/export/{key}", n)

    def open(self, spider: Spider) -> IO[bytes]:
        self.written.parent.mkdir(parents=True, exist_ok=True)
        append = self.written.exists() and (not self.overwrite or self.lines)
        if append and self.lines:
            torn = journal.repair_tail(self.written)
            if torn:
                self._inc("torn_tail_repaired")
                self._inc("torn_tail_bytes", torn)
                logger.warning("Repaired torn tail of %s before appending: cut %d bytes of an unfinished "
                               "last line", self.written, torn)
        if self.overwrite and append:
            logger.warning("Adopting %s left by an unfinished run: its articles are already counted as "
                           "exported, this run appends to it and publishes it as %s", self.written, self.target)
            self._inc("part_adopted")
        file = self.written.open("ab" if append else "wb")
        if self.lines and self.state_path:
            db = journal.connect(self.state_path)
            try:
                journal.register(db, self.written, spider.name, file.tell())
            finally:
                db.close()
        return file

    def store(self, file: IO[bytes]) -> None:
        file.flush()
        os.fsync(file.fileno())
        file.close()
        if self.overwrite:
            self._publish()
        if self.lines and self.state_path:
            db = journal.connect(self.state_path)
            try:
                journal.unregister(db, self.written)
            finally:
                db.close()
        return None

    def _publish(self) -> None:
        """Rename the finished ``.part`` over the target, unless that would empty a non-empty export."""
        empty = self.written.stat().st_size == 0
        if empty and self.target.exists() and self.target.stat().st_size > 0:
            self.written.unlink()
            self._inc("empty_kept_previous")
            logger.warning("This run exported nothing: kept the earlier export %s instead of replacing it "
                           "with an empty file", self.target)
            return
        os.replace(self.written, self.target)
        try:  # make the rename itself durable
            fd = os.open(self.target.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass
