"""Redis backend of the seen-store and near-duplicate index, with the interface of StateStore.

Same public methods as :class:`newscrawl.state.StateStore` (``get``, ``url_for_hash``, ``near``,
``record``, ``count``, ``claim``, ``release``, ``close``), so the pipelines do not know which one
:func:`newscrawl.state.open_state` gave them. The export journal stays in the worker's local SQLite file
in both modes (export files are local to a worker; pipelines/dedup.py opens it there).

Encoding (key layout in :mod:`newscrawl.distributed.keys`): 8-byte fingerprints (the first 8 bytes of
SHA-1, as ``state.fingerprint``); article records in 2**18 bucket hashes (field = URL fingerprint, value =
a packed record, :mod:`newscrawl.distributed.record`); SimHash bands as
sets of integer URL fingerprints (Redis stores them as intsets, 8 bytes a member); paragraph sketch
entries in bucket hashes whose values are concatenated URL fingerprints (capped at 64: a boilerplate
paragraph shared by a whole outlet must not grow one value without bound; the first 64 articles are the
ones a lookup returns anyway). ``seq`` is the insertion order, so ``near`` returns the first-recorded
match as SQLite's rowid order does.

Exactly-once export across workers: :meth:`claim` (Lua, atomic) is taken at dedup time, after every
lookup said "export it"; a second worker that meets the claim drops its copy (the holder exports the
article, or, if it dies, settles the claim from its journal or has it released by the reaper, and its
lease brings the request back). :meth:`record` (after the exporter wrote the line) deletes the claim in
the same Lua step; :meth:`release` gives it up when the item was dropped or failed after all.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from typing import Any

from newscrawl.distributed import INCARNATION, client, keys, prefix, record, redis_url, worker_id
from newscrawl.distributed.keys import StateKeys
from newscrawl.neardup import bands, hamming, sketch_match
from newscrawl.state import SeenArticle

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 5000  # SimHash band candidates compared per lookup (a degenerate band must not stall a worker)


def fp8(text: str) -> bytes:
    """8-byte fingerprint of a string: the bytes of ``newscrawl.state.fingerprint``."""
    return hashlib.sha1(text.encode("utf-8")).digest()[:8]


def _signed(b: bytes) -> int:
    return int.from_bytes(b, "big", signed=True)


def _int8(value: int) -> bytes:
    """A signed or unsigned 64-bit integer as 8 big-endian bytes."""
    return (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    return None if raw is None else record.unpack(raw)


class RedisStateStore:
    """Seen-store and near-duplicate index in Redis, shared by every worker of a distributed crawl."""

    def __init__(self, redis: Any, *, key_prefix: str = "newscrawl", owner: str = "local|0") -> None:
        self.redis = redis
        self.k = StateKeys(key_prefix)
        self.owner = owner
        self.worker = owner.split("|", 1)[0]
        self._held: dict[str, list[bytes]] = {}
        self._record = redis.register_script(keys.RECORD)
        self._claim = redis.register_script(keys.CLAIM)
        self._release = redis.register_script(keys.RELEASE)

    @classmethod
    def from_settings(cls, settings: Any) -> RedisStateStore:
        """The store of a crawl's settings (its claims carry this worker's id and incarnation)."""
        worker = worker_id(settings)
        return cls(client(redis_url(settings)), key_prefix=prefix(settings), owner=f"{worker}|{INCARNATION}")

    # ---------------------------------------------------------------- lookups
    def _article(self, fp: bytes) -> dict[str, Any] | None:
        return _parse(self.redis.hget(self.k.article(fp), fp))

    def get(self, url: str) -> SeenArticle | None:
        rec = self._article(fp8(url))
        if rec is None:
            return None
        return SeenArticle(rec["url"], rec["revision"], rec["content_hash"], rec["modified_at"], rec["lastmod"],
                           rec["fetched_at"])

    def url_for_hash(self, content_hash: str) -> tuple[str, str | None] | None:
        hfp = fp8(content_hash)
        first = self.redis.hget(self.k.body(hfp), hfp)
        rec = self._article(first) if first else None
        return (rec["url"], rec["source"]) if rec else None

    def _records(self, fps: list[bytes]) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        for fp in fps:
            pipe.hget(self.k.article(fp), fp)
        return [r for r in map(_parse, pipe.execute()) if r is not None]

    def near(self, simhash: int, max_distance: int, sketch: list[int] | None = None) -> str | None:
        """URL of the first-recorded near-duplicate (SimHash within max_distance bits, or a paragraph
        sketch match), else None. Sketch entries and SimHash bands are read in one round trip."""
        use_bands = max_distance >= 0 and bool(simhash)
        pipe = self.redis.pipeline(transaction=False)
        for entry in sketch or []:
            pfp = _int8(entry)
            pipe.hget(self.k.para(pfp), pfp)
        if use_bands:
            pipe.sunion([self.k.band(b) for b in bands(simhash)])
        replies = pipe.execute() if (sketch or use_bands) else []
        if sketch:
            shared: Counter[bytes] = Counter()
            for value in replies[:len(sketch)]:
                if value:
                    shared.update({value[i:i + 8] for i in range(0, len(value), 8)})
            matches = [fp for fp, n in shared.items() if sketch_match(sketch, n)]
            if matches:
                return min(self._records(matches), key=lambda r: r["seq"])["url"]
        if not use_bands or not replies[-1]:
            return None
        fps = [_int8(int(m)) for m in list(replies[-1])[:MAX_CANDIDATES]]
        close = [r for r in self._records(fps) if r["simhash"] and hamming(simhash, r["simhash"]) <= max_distance]
        return min(close, key=lambda r: r["seq"])["url"] if close else None

    # ---------------------------------------------------------------- writes
    def _record_call(self, url: str, *, content_hash: str | None, simhash: int | None, revision: int = 1,
                     modified_at: str | None = None, lastmod: str | None = None, fetched_at: str | None = None,
                     source: str | None = None, sketch: list[int] | None = None) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of the RECORD script for one article."""
        fp = fp8(url)
        hfp = fp8(content_hash) if content_hash else b""
        sh = (simhash or 0) & 0xFFFFFFFFFFFFFFFF
        payload = record.pack(url, revision, content_hash, modified_at, lastmod, fetched_at, source, sh)
        band_keys = [self.k.band(b) for b in bands(sh)] if sh else []
        args: list[Any] = [fp, payload, hfp, str(_signed(fp)), self.k.wc_prefix, len(band_keys), *band_keys]
        paras = [_int8(e) for e in (sketch or [])]
        args.append(len(paras))
        for pfp in paras:
            args += [self.k.para(pfp), pfp]
        return [self.k.article(fp), self.k.body(hfp) if hfp else self.k.body(fp), self.k.seq, self.k.count,
                self.k.claims], args

    def record(self, url: str, *, content_hash: str | None, simhash: int | None, revision: int = 1,
               modified_at: str | None = None, lastmod: str | None = None, fetched_at: str | None = None,
               source: str | None = None, sketch: list[int] | None = None) -> None:
        """Record an exported article (one Lua step: all or nothing) and drop the claims on it."""
        k, a = self._record_call(url, content_hash=content_hash, simhash=simhash, revision=revision,
                                 modified_at=modified_at, lastmod=lastmod, fetched_at=fetched_at, source=source,
                                 sketch=sketch)
        self._record(keys=k, args=a)
        self._held.pop(url, None)

    def record_many(self, articles: list[dict[str, Any]]) -> None:
        """``record(**article)`` for each article, pipelined (imports and benchmarks: one round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for article in articles:
            k, a = self._record_call(**article)
            self._record(keys=k, args=a, client=pipe)
            self._held.pop(article["url"], None)
        pipe.execute()

    def claim(self, url: str, content_hash: str | None, source: str | None = None) -> bool:
        """Claim the right to export this article (False: another worker exports it, or just did)."""
        fp = fp8(url)
        hfp = fp8(content_hash) if content_hash else b""
        result = self._claim(keys=[self.k.claims, self.k.worker_claims(self.worker),
                                   self.k.body(hfp) if hfp else self.k.body(fp)],
                             args=[self.owner, fp, record.encode_field(content_hash) if content_hash else "", hfp,
                                   source or "", self.k.article_prefix, record.encode_field(source)])
        if result != b"ok":
            logger.debug("Claim on %s refused (%s)", url, result.decode())
            return False
        self._held[url] = [b"u" + fp] + ([b"h" + hfp] if hfp else [])
        return True

    def release(self, url: str) -> None:
        """Give up this worker's claim on an article that was dropped or failed after claiming."""
        fields = self._held.pop(url, None)
        if fields:
            self._release(keys=[self.k.claims, self.k.worker_claims(self.worker)], args=[self.owner, *fields])

    def count(self) -> int:
        return int(self.redis.get(self.k.count) or 0)

    def close(self) -> None:
        for url in list(self._held):
            try:
                self.release(url)
            except Exception as exc:  # noqa: BLE001 - Redis gone: the claims are settled at the next start
                logger.warning("Could not release claim on %s at close (%r)", url, exc)
                break
        self.redis.close()
