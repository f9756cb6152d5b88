"""Near-duplicate index in numpy, persisted as an append-only log of fixed-size records.

The log (``<state file>.near``) holds one 48-byte record per exported article, in the order they were
recorded: URL fingerprint, SimHash, and the paragraph sketch (up to SKETCH_SIZE hashes, 0 = none). At open
it is read with ``np.fromfile`` and indexed in memory:

- per SimHash band: the record numbers and SimHashes sorted by the band's 16-bit value, with bucket
  offsets (65537 entries), so the candidates of a band are one contiguous slice;
- the sketch hashes bucketed by their top 16 bits and sorted by their low 32 bits, with their record
  numbers, bisected within the bucket.

About 90 bytes per article in memory, 48 on disk. Records added while the store is open go to a small delta
(dicts), merged into the arrays (O(n) inserts) when it grows. Record numbers are log positions, so
"earliest recorded" is the smallest record number. A query costs a handful of Python-level steps on
memoryviews (numpy's per-call overhead dominates arrays this small) and one numpy popcount over the SimHash
candidates of the four bands.

Crash and concurrency rules: a record is appended (one ``write`` of the whole record, O_APPEND, under an
exclusive ``flock``) *before* the SQLite commit that makes the article exported, so a kill never leaves an
exported article outside the index; the reverse case (record written, commit lost) is harmless because
callers resolve the URL from SQLite and skip fingerprints it does not know. A torn last record (disk full,
a crash mid-write) is cut off under the lock, at open and before every append. Several processes may share
the log (scrapyd runs several outlets' jobs on one state file): before answering, a query reads whatever
whole records other processes appended since. A URL recorded twice keeps its first record.
"""
from __future__ import annotations

import bisect
import fcntl
import os
from collections.abc import Callable, Iterable

import numpy as np

from newscrawl.neardup import BAND_BITS, BANDS, SKETCH_SIZE, sketch_match

RECORD = np.dtype([("url_fp", "<i8"), ("simhash", "<u8"), ("sketch", "<i8", (SKETCH_SIZE,))])
RECORD_SIZE = RECORD.itemsize  # 48 bytes
_BUCKETS = 1 << BAND_BITS
_HALF_BUCKETS = _BUCKETS // 2
_BAND_MASK = np.uint64(_BUCKETS - 1)
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
#: Per maximum distance: a translation table of popcounts (0-64) to 1 when close enough, else 0.
_CLOSE = [bytes(int(count <= distance) for count in range(256)) for distance in range(65)]
#: Delta entries kept in dicts (~1 KB each) before they are merged into the sorted arrays.
DELTA_MAX = 20_000
#: SimHash candidates compared per query: a degenerate band (many empty-ish bodies) must not stall a query.
MAX_CANDIDATES = 20_000


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _offsets(values: np.ndarray, start: int) -> np.ndarray:
    """Bounds of each 16-bit value's run in an array sorted by ``values``: [start + run starts..., end]."""
    counts = np.bincount(values, minlength=_BUCKETS)
    return start + np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _band_values(sims: np.ndarray, band: int) -> np.ndarray:
    # uint16: numpy sorts it with a radix sort (kind="stable"), several times faster than int64
    return ((sims >> np.uint64(band * BAND_BITS)) & _BAND_MASK).astype(np.uint16)


class NearIndex:
    """SimHash bands and paragraph sketches of every recorded article, answering ``query`` in microseconds.

    ``path`` None keeps the log in memory (batch extraction's ``:memory:`` store).
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.fd: int | None = None
        self._memory_log = bytearray()
        if path is not None:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            self._locked(self._cut_torn_tail)
        self._rebuild()

    # ------------------------------------------------------------------ log
    def _locked(self, action: Callable[[], None]) -> None:
        assert self.fd is not None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            action()
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _cut_torn_tail(self) -> None:
        """Cut a partial last record off the log (with the lock held: no append is in progress)."""
        assert self.fd is not None
        size = os.fstat(self.fd).st_size
        if size % RECORD_SIZE:
            os.ftruncate(self.fd, size - size % RECORD_SIZE)

    def _log_end(self) -> int:
        # lseek to the end: the cheapest way to ask for the size (the fd is O_APPEND, so writes ignore it)
        size = os.lseek(self.fd, 0, os.SEEK_END) if self.fd is not None else len(self._memory_log)
        return size - size % RECORD_SIZE

    def _read(self, start: int, end: int) -> np.ndarray:
        if self.fd is None:
            return np.frombuffer(bytes(self._memory_log[start:end]), dtype=RECORD)
        if start == 0 and self.path is not None:
            return np.fromfile(self.path, dtype=RECORD, count=end // RECORD_SIZE)
        return np.frombuffer(os.pread(self.fd, end - start, start), dtype=RECORD)

    def append(self, url_fp: int, simhash: int, sketch: Iterable[int]) -> None:
        """Write one record to the log (on disk before the caller commits) and index it."""
        rec = np.zeros(1, RECORD)
        keys = list(dict.fromkeys(_signed64(k) for k in sketch if k and -(1 << 63) <= k < 1 << 64))[:SKETCH_SIZE]
        rec["url_fp"], rec["simhash"] = url_fp, simhash & 0xFFFFFFFFFFFFFFFF
        rec["sketch"][0, :len(keys)] = keys
        self.append_many(rec)

    def append_many(self, recs: np.ndarray) -> None:
        """Write records (of dtype RECORD) to the log in one write, and index them."""
        if self.fd is None:
            self._memory_log += recs.tobytes()
        else:
            data = recs.tobytes()

            def write() -> None:
                self._cut_torn_tail()
                view = memoryview(data)
                while view:  # one write for a record; a large batch (migration) may take several
                    view = view[os.write(self.fd, view):]  # type: ignore[arg-type]

            self._locked(write)
        self.refresh()

    def refresh(self) -> None:
        """Index the whole records appended since the last read (by this process or another one)."""
        end = self._log_end()
        if end > self.loaded:
            recs = self._read(self.loaded, end)
            self.loaded = end
            self._add(recs)

    # ------------------------------------------------------------------ in-memory index
    def _add(self, recs: np.ndarray) -> None:
        columns = recs["url_fp"].tolist(), recs["simhash"].tolist(), recs["sketch"].tolist()
        for fp, sim, sketch in zip(*columns, strict=True):
            row = self.base + len(self._delta_fps)
            self._delta_fps.append(fp)
            self._delta_sims.append(sim)
            if sim:
                for band in range(BANDS):
                    self._delta_bands.setdefault(band << BAND_BITS | (sim >> band * BAND_BITS) & (_BUCKETS - 1),
                                                 []).append(row)
            for key in sketch:
                if key:
                    self._delta_sketch.setdefault(key, []).append(row)
        if len(self._delta_fps) > DELTA_MAX:
            self._merge_delta()

    def _rebuild(self) -> None:
        """(Re)build the sorted arrays from the whole log; a URL recorded twice keeps its first record."""
        self.loaded = self._log_end()
        recs = self._read(0, self.loaded)
        _, first = np.unique(recs["url_fp"], return_index=True)
        if len(first) < len(recs):
            recs = recs[np.sort(first)]
        self.fps = np.ascontiguousarray(recs["url_fp"])
        self.base = len(recs)
        self._build_sketch(recs)
        self._build_bands(np.ascontiguousarray(recs["simhash"]))
        self._views()
        self._reset_delta()

    def _build_sketch(self, recs: np.ndarray) -> None:
        """Sketch hashes bucketed by their top 16 bits, sorted by their low 32 bits within a bucket.

        A lookup then bisects the ~60 neighbours in its bucket (a cache line or two) instead of the whole
        array (~22 cache misses at a million articles), and a key costs 4 bytes: two keys are taken as
        equal when 48 of their 64 bits are (a false match needs two of them for one article: ~1e-15).
        """
        keys = recs["sketch"].ravel()
        rows = np.repeat(np.arange(len(recs), dtype=np.uint32), SKETCH_SIZE)
        keep = np.flatnonzero(keys)
        keys, rows = keys[keep], rows[keep]
        tops = (keys >> 48) + _BUCKETS // 2
        low = keys & 0xFFFFFFFF
        order = np.argsort(tops << 32 | low)
        self._sketch_low, self._sketch_rows = low[order].astype(np.uint32), rows[order]
        self._sketch_offsets = _offsets(tops, 0)

    def _build_bands(self, sims: np.ndarray) -> None:
        """Per band: record numbers and SimHashes sorted by the band's 16-bit value, all four bands in one
        array each (band b at [b*m, (b+1)*m)), with bucket offsets (4 x 65537). The SimHashes are stored in
        band order so the Hamming check of a bucket reads contiguous memory, not one cache line a candidate."""
        has_sim = np.flatnonzero(sims).astype(np.uint32)
        m = len(has_sim)
        band_rows, band_sims, band_offsets = [], [], []
        for band in range(BANDS):
            values = _band_values(sims[has_sim], band)
            order = np.argsort(values, kind="stable")
            band_rows.append(has_sim[order])
            band_sims.append(sims[has_sim[order]])
            band_offsets.append(_offsets(values, band * m))
        self._band_rows = np.concatenate(band_rows)
        self._band_sims = np.concatenate(band_sims)
        self._band_offsets = np.concatenate(band_offsets)

    def _views(self) -> None:
        """Memoryviews of the arrays a query reads element by element (an item is then a Python int)."""
        self._sketch_low_view = memoryview(self._sketch_low)
        self._sketch_offsets_view = memoryview(self._sketch_offsets)
        self._band_rows_view = memoryview(self._band_rows)
        self._band_sims_bytes = memoryview(self._band_sims).cast("B")
        self._band_offsets_view = memoryview(self._band_offsets)

    def _merge_delta(self) -> None:
        """Insert the delta's entries into the sorted arrays: O(n) copies, not the O(n log n) of a rebuild
        (seconds at ten million articles, a stall of the crawl every DELTA_MAX records)."""
        delta_sims = np.array(self._delta_sims, np.uint64)
        delta_rows = np.arange(self.base, self.base + len(delta_sims), dtype=np.uint32)
        if self._delta_sketch:
            entries = sorted(((key >> 48) + _BUCKETS // 2, key & 0xFFFFFFFF, row)
                             for key, rows in self._delta_sketch.items() for row in rows)
            low_view, offsets = self._sketch_low_view, self._sketch_offsets_view
            positions = [bisect.bisect_right(low_view, low, offsets[top], offsets[top + 1]) for top, low, _ in entries]
            tops = np.array([e[0] for e in entries], np.int64)
            self._sketch_low = np.insert(self._sketch_low, positions, np.array([e[1] for e in entries], np.uint32))
            self._sketch_rows = np.insert(self._sketch_rows, positions, np.array([e[2] for e in entries], np.uint32))
            self._sketch_offsets = self._sketch_offsets + _offsets(tops, 0)
        has_sim = np.flatnonzero(delta_sims)
        if len(has_sim):
            sims, rows = delta_sims[has_sim], delta_rows[has_sim]
            # each new entry goes to the end of its bucket (after older records); entries sharing an insertion
            # point (empty buckets in between) must come in bucket order, hence the sort per band
            positions, new_rows, new_sims = [], [], []
            for band in range(BANDS):
                values = _band_values(sims, band)
                order = np.argsort(values, kind="stable")
                positions.append(self._band_offsets[band * (_BUCKETS + 1) + 1 + values[order].astype(np.int64)])
                new_rows.append(rows[order])
                new_sims.append(sims[order])
            positions_all = np.concatenate(positions)
            self._band_rows = np.insert(self._band_rows, positions_all, np.concatenate(new_rows))
            self._band_sims = np.insert(self._band_sims, positions_all, np.concatenate(new_sims))
            m = len(self._band_rows) // BANDS
            self._band_offsets = np.concatenate([_offsets(_band_values(self._band_sims[band * m:(band + 1) * m], band),
                                                          band * m) for band in range(BANDS)])
        self.fps = np.concatenate([self.fps, np.array(self._delta_fps, np.int64)])
        self.base = len(self.fps)
        self._views()
        self._reset_delta()

    def _reset_delta(self) -> None:
        self._delta_fps: list[int] = []
        self._delta_sims: list[int] = []
        self._delta_bands: dict[int, list[int]] = {}
        self._delta_sketch: dict[int, list[int]] = {}

    def _fp(self, row: int) -> int:
        return self.fps.item(row) if row < self.base else self._delta_fps[row - self.base]

    # ------------------------------------------------------------------ queries
    def query(self, simhash: int, max_distance: int, sketch: list[int] | None = None) -> list[int]:
        """URL fingerprints of the near-duplicates, earliest recorded first: the sketch matches if any,
        else the SimHashes within ``max_distance`` bits."""
        self.refresh()
        rows: list[int] = []
        keys = sorted(set(sketch)) if sketch else []
        if keys and (keys[0] < _INT64_MIN or keys[-1] > _INT64_MAX or not all(keys)):
            keys = sorted({_signed64(k) for k in keys if k and _INT64_MIN <= k < 1 << 64})  # unsigned or bad values
        if keys:
            rows = self._sketch_rows_matching(sketch or [], keys)
        if not rows and max_distance >= 0 and simhash:
            rows = self._simhash_rows(simhash & 0xFFFFFFFFFFFFFFFF, max_distance)
        if not rows:
            return []
        return list(dict.fromkeys(self._fp(r) for r in sorted(set(rows))))

    def _sketch_rows_matching(self, sketch: list[int], keys: list[int]) -> list[int]:
        # bisect over memoryviews: a few keys cost less in Python than one round of numpy calls
        found: list[int] = []
        low_keys, offsets, delta = self._sketch_low_view, self._sketch_offsets_view, self._delta_sketch
        needed = 2 if len(sketch) >= 2 else 1  # shared keys that make a match (neardup.sketch_match)
        for left, key in enumerate(keys):
            if not found and len(keys) - left < needed:
                break  # the keys left cannot make a match on their own: skip their lookups
            bucket, low = (key >> 48) + _HALF_BUCKETS, key & 0xFFFFFFFF
            start, end = offsets[bucket], offsets[bucket + 1]
            lo = bisect.bisect_left(low_keys, low, start, end)
            if lo < end and low_keys[lo] == low:
                found += self._sketch_rows[lo:bisect.bisect_right(low_keys, low, lo, end)].tolist()
            if delta:
                found += delta.get(key, ())
        if not found:
            return []
        shared: dict[int, int] = {}
        for r in found:
            shared[r] = shared.get(r, 0) + 1
        return [r for r, n in shared.items() if sketch_match(sketch, n)]

    def _simhash_rows(self, simhash: int, max_distance: int) -> list[int]:
        offsets, sims = self._band_offsets_view, self._band_sims_bytes
        bounds, parts = [], []
        for band in range(BANDS):
            bucket = band * (_BUCKETS + 1) + ((simhash >> band * BAND_BITS) & (_BUCKETS - 1))
            lo, hi = offsets[bucket], offsets[bucket + 1]
            if hi > lo:
                hi = min(hi, lo + MAX_CANDIDATES)
                bounds.append((lo, hi))
                parts.append(sims[lo * 8:hi * 8])
        rows = []
        if parts:
            # the four buckets' SimHashes in one array, one popcount, and the close ones found in bytes: ~60
            # candidates at a million articles cost less this way than compared one by one in Python, and
            # bytes.translate/find cost less than numpy's compare and nonzero on arrays this small
            candidates = np.frombuffer(b"".join(parts), np.uint64)
            counts = np.bitwise_count(candidates ^ np.uint64(simhash)).tobytes()
            close = counts.translate(_CLOSE[min(max_distance, 64)])
            band_rows = self._band_rows_view
            i = close.find(1)
            while i >= 0:
                at = i
                for lo, hi in bounds:  # position in the joined array -> the bucket it came from
                    if at < hi - lo:
                        rows.append(band_rows[lo + at])
                        break
                    at -= hi - lo
                i = close.find(1, i + 1)
        if self._delta_bands:
            for band in range(BANDS):
                key = band << BAND_BITS | (simhash >> band * BAND_BITS) & (_BUCKETS - 1)
                for r in self._delta_bands.get(key, ()):
                    if (self._delta_sims[r - self.base] ^ simhash).bit_count() <= max_distance:
                        rows.append(r)
        return rows

    def __len__(self) -> int:
        return self.base + len(self._delta_fps)

    def memory_bytes(self) -> int:
        """Bytes of the in-memory arrays (the delta's dicts excluded)."""
        arrays = [self.fps, self._sketch_low, self._sketch_rows, self._sketch_offsets, self._band_rows,
                  self._band_sims, self._band_offsets]
        return sum(a.nbytes for a in arrays)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
