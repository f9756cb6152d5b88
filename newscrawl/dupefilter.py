"""A request dupefilter whose JOBDIR state survives ``kill -9``.

Why Scrapy's RFPDupeFilter loses pages after a crash (measured: 1,376 of 1,999 pages never crawled
after a ``kill -9`` 6 s into a JOBDIR crawl, and the resumed run ends "finished"):

- it persists a fingerprint when a request is *enqueued*, but the disk queue that holds the request
  only becomes consistent at a clean close (queuelib writes its head/tail state then). After a kill
  the queue is stale or empty while ``requests.seen`` says "seen": every re-discovered link is
  filtered, and the requests that were queued or in flight are gone for good;
- ``requests.seen`` is length-prefixed binary; a record torn by the kill shifts every record
  appended after it, so later fingerprints are read back misaligned.

This filter persists a fingerprint only when its request is *done*: its item was exported
(``item_scraped``) or definitively dropped (``item_dropped``, e.g. a duplicate or a teaser page).
Requests that produce no item (sitemaps, feeds, section pages, failures) are never persisted, so a
resumed run fetches the sitemaps again, re-discovers every article that was queued or in flight, and
skips only the finished ones. Records are hex lines in ``newscrawl.seen`` (one ``write()`` each); a
torn last line is cut off at open (stat ``newscrawl/jobdir/torn_tail_repaired``). Scrapy's own
``requests.seen`` is ignored. A disk queue left by a run that did not close cleanly is discarded
(stat ``newscrawl/jobdir/queue_discarded``): its requests are re-discovered instead.

Without JOBDIR it is Scrapy's in-memory RFPDupeFilter.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

from newscrawl.journal import repair_tail

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.request import RequestFingerprinterProtocol

logger = logging.getLogger(__name__)

SEEN_FILE = "newscrawl.seen"
CLEAN_MARK = "newscrawl.clean"   # present only between a clean close and the next open
QUEUE_DIR = "requests.queue"     # Scrapy's disk queue directory inside JOBDIR


def read_seen(path: Path) -> tuple[set[bytes], int, int]:
    """Read a seen file, cutting a torn last line off first; -> (fingerprints, torn bytes, bad lines)."""
    if not path.exists():
        return set(), 0, 0
    torn = repair_tail(path)
    fps: set[bytes] = set()
    bad = 0
    for line in path.read_bytes().split(b"\n"):
        if not line:
            continue
        try:
            fp = bytes.fromhex(line.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            bad += 1
            continue
        fps.add(fp)
    return fps, torn, bad


class ResumableDupeFilter(RFPDupeFilter):
    """RFPDupeFilter that persists only finished requests, in a torn-tail-tolerant file."""

    def __init__(self, path: str | None = None, debug: bool = False, *,
                 fingerprinter: RequestFingerprinterProtocol | None = None, crawler: Crawler | None = None) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)  # no requests.seen: we keep our own file
        self.jobdir = Path(path) if path else None
        self.stats = crawler.stats if crawler is not None else None
        self._persisted: set[bytes] = set()
        self._seen_file: Any = None
        if self.jobdir is None:
            return
        self._discard_unclean_queue()
        fps, torn, bad = read_seen(self.jobdir / SEEN_FILE)
        if torn:
            self._inc("torn_tail_repaired")
            logger.warning("Repaired torn tail of %s: cut %d bytes of an unfinished record",
                           self.jobdir / SEEN_FILE, torn)
        if bad:
            self._inc("bad_records", bad)
            logger.error("%s: skipped %d records that are not hex fingerprints", self.jobdir / SEEN_FILE, bad)
        self._persisted = fps
        self._fingerprints.update(fps)
        self._inc("seen_loaded", len(fps))
        if (self.jobdir / "requests.seen").exists():
            logger.info("Ignoring Scrapy's %s: it records enqueued requests, which a crash can lose; "
                        "finished requests are in %s", self.jobdir / "requests.seen", SEEN_FILE)
        self._seen_file = (self.jobdir / SEEN_FILE).open("ab")
        if crawler is not None:
            crawler.signals.connect(self._done, signal=signals.item_scraped)
            crawler.signals.connect(self._done, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumableDupeFilter:
        return cls(job_dir(crawler.settings), crawler.settings.getbool("DUPEFILTER_DEBUG"),
                   fingerprinter=crawler.request_fingerprinter, crawler=crawler)

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None and n:
            self.stats.inc_value(f"newscrawl/jobdir/{key}", n)

    def _discard_unclean_queue(self) -> None:
        # Runs before the scheduler opens its disk queue (the scheduler builds us first).
        assert self.jobdir is not None
        queue = self.jobdir / QUEUE_DIR
        if queue.exists() and not (self.jobdir / CLEAN_MARK).exists():
            shutil.rmtree(queue, ignore_errors=True)
            self._inc("queue_discarded")
            logger.warning("Discarded the request queue in %s: the previous run did not close cleanly, so "
                           "it may be stale; its requests are re-discovered from the sitemaps and feeds", queue)

    def open(self) -> None:
        if self.jobdir is not None:
            (self.jobdir / CLEAN_MARK).unlink(missing_ok=True)
        return None

    def close(self, reason: str) -> None:
        if self._seen_file is not None:
            self._seen_file.close()
            self._seen_file = None
            # The scheduler has written its disk queue state by now (it closes the queue before us).
            assert self.jobdir is not None
            (self.jobdir / CLEAN_MARK).write_text(reason + "\n")

    def _done(self, item: Any = None, response: Any = None, spider: Any = None, **kwargs: Any) -> None:
        """Persist the request behind an exported or dropped item (and the URLs it was redirected from)."""
        request = getattr(response, "request", None)
        if request is None or self._seen_file is None:
            return
        fps = [self._fingerprint(request)]
        if request.method == "GET":
            fps += [self._fingerprint(Request(u)) for u in request.meta.get("redirect_urls", ())]
        new = [fp for fp in fps if fp not in self._persisted]
        if not new:
            return
        self._persisted.update(new)
        self._seen_file.write(b"".join(fp.hex().encode("ascii") + b"\n" for fp in new))
        self._seen_file.flush()
        self._inc("persisted", len(new))
