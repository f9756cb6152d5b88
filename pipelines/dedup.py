"""Dedup stage: by canonical URL, by exact body, and near-duplicate bodies (SimHash).

- The same canonical URL exported before (this run or an earlier one) with the same body is dropped;
  with a changed body it comes out again as the next ``revision`` with ``previous_hash``.
- The same body under another URL of the same outlet (AMP and desktop copies) is dropped; under another
  outlet's URL (a wire story republished) it is kept and marked ``duplicate_of`` the first URL.
- A near-same body (SimHash within NEWSCRAWL_DEDUP_NEAR_DISTANCE bits, or most paragraphs verbatim:
  see newscrawl/neardup.py) is marked, or dropped when
  NEWSCRAWL_DEDUP_NEAR_ACTION = "drop".

State is recorded only after the item was exported (``item_scraped`` fires after the feed exporter
wrote it), so a crash between pipeline and export never marks a lost article as seen. A crash in the
other window (line written, state not yet recorded) is closed at the next open: the export journal
(newscrawl/journal.py) hands back the killed run's lines, and those the state lacks are recorded, so
the resumed run drops them instead of exporting them twice.
In batch-extraction mode (NEWSCRAWL_DEDUP_MODE = "mark") nothing is dropped and the state lives in
memory, apart from the crawls' store.
"""
from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newscrawl import journal
from newscrawl.incremental import is_revision
from newscrawl.neardup import body_signatures, sketch_match
from newscrawl.state import StateStore, open_state

logger = logging.getLogger(__name__)


def _hint_lastmod(response: Any) -> str | None:
    """The sitemap/feed lastmod the article was discovered with (stored for incremental runs)."""
    try:
        return (response.meta.get("newscrawl_hint") or {}).get("lastmod") if response is not None else None
    except AttributeError:  # a response without a request has no meta
        return None


class DedupPipeline:
    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.mark_only = s.get("NEWSCRAWL_DEDUP_MODE", "crawl") == "mark"
        self.near_action = s.get("NEWSCRAWL_DEDUP_NEAR_ACTION", "mark")
        self.near_distance = s.getint("NEWSCRAWL_DEDUP_NEAR_DISTANCE", 3)
        self.drop_seen = s.getbool("NEWSCRAWL_DEDUP_DROP_SEEN", True)
        self.path = ":memory:" if self.mark_only else s.get("NEWSCRAWL_STATE_PATH", ".newscrawl/state.sqlite3")
        self.store: StateStore | None = None
        # Items that passed this stage but are not exported yet: guards against two copies in flight.
        self.pending: dict[str, dict[str, Any]] = {}
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.item_dropped, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        # SQLite, or Redis in distributed mode (NEWSCRAWL_REDIS_URL): same methods, see docs/distributed.md
        self.store = open_state(self.crawler.settings, self.path)
        spider = spider or getattr(self.crawler, "spider", None)
        if not self.mark_only and spider is not None and self.path != ":memory:":
            # The export journal is a table in the local SQLite state file whatever the store backend
            # (the feed storage writes it there); reconciled lines are recorded through the store's API.
            db = journal.connect(self.path)
            try:
                journal.reconcile(db, spider.name, self._record_exported, self.stats)
            finally:
                db.close()

    def _record_exported(self, article: dict[str, Any]) -> bool:
        """Record an article read back from an export if the state does not know this version of it."""
        assert self.store is not None
        key = article.get("canonical_url") or article.get("url")
        if not isinstance(key, str):
            return False
        h = article.get("content_hash")
        known = self.store.get(key)
        if known is not None and known.content_hash == h:
            return False
        body = article.get("body") or ""
        sh, sketch = body_signatures(body)
        self.store.record(key, content_hash=h, simhash=sh, revision=article.get("revision") or 1, sketch=sketch,
                          modified_at=article.get("modified_at"), fetched_at=article.get("fetched_at"),
                          source=article.get("source"))
        return True

    def close_spider(self, spider: Any = None) -> None:
        if self.store is not None:
            self.store.close()

    def _drop(self, reason: str, url: str | None) -> None:
        self.stats.inc_value(f"newscrawl/dedup/dropped/{reason}")
        if self.mark_only:
            return
        logger.debug("Dropped duplicate (%s): %s", reason, url)
        raise DropItem(f"duplicate: {reason}", log_level="DEBUG")

    def process_item(self, item: Any) -> Any:
        assert self.store is not None
        a = ItemAdapter(item)
        key = a.get("canonical_url") or a["url"]
        body = a.get("body") or ""
        h = a.get("content_hash")
        sh, sketch = body_signatures(body)

        previous = self.pending.get(key) or self.store.get(key)
        if previous is not None:
            prev_hash = previous["content_hash"] if isinstance(previous, dict) else previous.content_hash
            prev_rev = previous["revision"] if isinstance(previous, dict) else previous.revision
            # a changed modified_at with the same body is a revision too (see newscrawl/incremental.py)
            # (a copy still in flight in this run compares by body only)
            prev_mod = previous.get("modified_at", a.get("modified_at")) if isinstance(previous, dict) \
                else previous.modified_at
            if not is_revision(prev_hash, prev_mod, h, a.get("modified_at"), a.get("fetched_at")) \
                    or not self.drop_seen:
                self._drop("seen_url", key)
            else:
                a["revision"] = prev_rev + 1
                a["previous_hash"] = prev_hash
                self.stats.inc_value("newscrawl/dedup/revised")

        if a.get("duplicate_of") is None and h:
            same = self.store.url_for_hash(h) or next(
                ((u, p["source"]) for u, p in self.pending.items() if p["content_hash"] == h and u != key), None)
            if same and same[0] != key:
                if same[1] == a.get("source"):
                    self._drop("same_body", key)
                a["duplicate_of"] = same[0]
                self.stats.inc_value("newscrawl/dedup/marked/exact")
        if a.get("duplicate_of") is None and sh:
            near = self.store.near(sh, self.near_distance, sketch) or next(
                (u for u, p in self.pending.items()
                 if u != key and ((p["simhash"] and (p["simhash"] ^ sh).bit_count() <= self.near_distance)
                                  or sketch_match(sketch, len(set(sketch) & set(p["sketch"]))))), None)
            if near and near != key:
                if self.near_action == "drop":
                    self._drop("near", key)
                a["duplicate_of"] = near
                self.stats.inc_value("newscrawl/dedup/marked/near")

        # Across workers of a distributed crawl: only the holder of the claim exports (SQLite: always granted).
        if not self.mark_only and not self.store.claim(key, h, a.get("source")):
            self._drop("claimed", key)
        self.pending[key] = {"content_hash": h, "simhash": sh, "sketch": sketch, "revision": a.get("revision") or 1,
                             "source": a.get("source"), "item": id(item)}
        return item

    # ------------------------------------------------------------------ after export
    def item_scraped(self, item: Any, response: Any = None, spider: Any = None) -> None:
        a = ItemAdapter(item)
        key = a.get("canonical_url") or a.get("url")
        entry = self.pending.pop(key, None)
        if entry is None or self.store is None:
            return
        self.store.record(key, content_hash=entry["content_hash"], simhash=entry["simhash"],
                          revision=entry["revision"], sketch=entry["sketch"], modified_at=a.get("modified_at"),
                          fetched_at=a.get("fetched_at"), source=a.get("source"),
                          lastmod=_hint_lastmod(response))
        self.stats.inc_value("newscrawl/dedup/recorded")

    def item_dropped(self, item: Any, response: Any = None, exception: Any = None, spider: Any = None,
                     failure: Any = None) -> None:
        a = ItemAdapter(item)
        key = a.get("canonical_url") or a.get("url")
        # only forget the entry this very item made: a dropped second copy must not erase the first
        if self.pending.get(key, {}).get("item") == id(item):
            del self.pending[key]
            if self.store is not None:
                self.store.release(key)
