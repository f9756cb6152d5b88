"""Cost of newscrawl's state at scale: lookup time and bytes per entry, per part of the store.

Bulk-loads n synthetic exported articles with the store's own schema and encoding (newscrawl/stateschema.py:
one transaction, executemany, random key order, each row inserted small then grown by updates as a crawl
writes it, so B-tree pages are as full as a real crawl leaves them) plus their near-duplicate log, then
measures through the public APIs:

- seen-store, per request: ``SeenIndex.get`` (the incremental middleware's lookup of every article request),
  half hits, half misses; bytes = the whole ``seen`` table (everything a request or an item consults per URL)
  divided by its rows. Each article also gets a redirect-hop row for 1 URL in 20 (requested URL != exported).
- seen-store, per item: ``StateStore.get`` (dedup's lookup; a hit also reads the URL directory).
- near-dup index: ``StateStore.near`` (an unseen body 2 bits off a stored one, and a fresh one); bytes = the
  log on disk, and the numpy index in memory; plus the time to load the index when a store opens.
- URL directory: ``url_for_hash`` (exact-body lookup); bytes = ``url_dir`` + ``body_dir`` per article.

The synthetic rows look like a news crawl's: times within the last 30 days, a sitemap lastmod for 70 %,
a modified date for 50 %, 1 article in 5 re-checked hours after its first export.
Each figure is the median of 3 passes.
"""
from __future__ import annotations

import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from newscrawl.incremental import SeenIndex
from newscrawl.nearindex import RECORD
from newscrawl.state import StateStore, fingerprint
from newscrawl.stateschema import near_log_path

PARTS = ("seen", "seen_item", "near", "urls")
LABELS = {"seen": "seen-store (per request)", "seen_item": "seen-store (per item)",
          "near": "near-dup index (per article)", "urls": "URL directory"}
NOW = 1_795_600_000  # 2026-11-25, epoch seconds
BATCH = 50_000


def _article_rows(n: int, rnd: random.Random) -> Any:
    for i in range(n):
        url = f"https://www.example-news.com/world/2026/11/25/story-number-{i}-about-the-harbour"
        yield i, url, rnd.getrandbits(160), rnd.getrandbits(64), [rnd.getrandbits(63) for _ in range(4)]


def _seen_row(rnd: random.Random, url_fp: int, article_fp: int | None = None) -> tuple[Any, ...]:
    first = NOW - rnd.randrange(30 * 86400)
    checked = rnd.randrange(3600, 86400) if rnd.random() < 0.2 else 0
    published = -rnd.randrange(60, 2 * 86400)
    lastmod = published + rnd.randrange(0, 3600) if rnd.random() < 0.7 else None
    if article_fp is not None:  # a redirect hop: checked, never exported under this URL
        return url_fp, None, 1, article_fp, first, checked, None, published, None, lastmod
    modified = published + rnd.randrange(60, 86400) if rnd.random() < 0.5 else None
    return url_fp, 1, 1, None, first, checked, -rnd.randrange(1, 5), published, modified, lastmod


def load(path: Path, n: int, seed: int = 1) -> tuple[list[tuple[str, str, int]], int]:
    """Write n articles into a fresh state file; -> (sample (url, content_hash, simhash) tuples, seen rows)."""
    store = StateStore(path)  # creates the schema
    store.close()
    rnd = random.Random(seed)
    samples: list[tuple[str, str, int]] = []
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.execute("INSERT OR IGNORE INTO source (id, name) VALUES (1, 'example')")
    seen: list[tuple[Any, ...]] = []
    urls: list[tuple[Any, ...]] = []
    bodies: list[tuple[Any, ...]] = []
    near = np.zeros(BATCH, RECORD)
    rows = 0
    with open(near_log_path(str(path)), "ab") as log:  # type: ignore[arg-type]
        for i, url, h, sim, sketch in _article_rows(n, rnd):
            fp = fingerprint(url)
            content_hash = f"sha1:{h:040x}"
            seen.append(_seen_row(rnd, fp))
            if i % 20 == 0:
                seen.append(_seen_row(rnd, fingerprint(url + "-old-slug"), fp))
            urls.append((fp, url, h.to_bytes(20, "big")))
            bodies.append((fingerprint(content_hash), fp, 1))
            near[len(urls) - 1] = (fp, sim, sketch)
            if len(samples) < 20_000 and rnd.random() < 20_000 / n:
                samples.append((url, content_hash, sim))
            if len(urls) == BATCH:
                rows += _flush(db, seen, urls, bodies)
                near.tofile(log)
        near[:len(urls)].tofile(log)
        rows += _flush(db, seen, urls, bodies)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return samples, rows


def _flush(db: Any, seen: list[Any], urls: list[Any], bodies: list[Any]) -> int:
    # rows are written as a crawl writes them: first by the middleware's mark (check fields), then the same
    # rows grow when dedup records the export and when a re-check moves checked_at (pages split as rows grow)
    db.executemany("INSERT OR IGNORE INTO seen (url_fp, source, article_fp, first_seen, checked_at, published,"
                   " lastmod) VALUES (?,?,?,?,0,?,?)", [(r[0], r[2], r[3], r[4], r[7], r[9]) for r in seen])
    db.executemany("UPDATE seen SET revision=?, fetched_at=?, modified_at=? WHERE url_fp=?",
                   [(r[1], r[6], r[8], r[0]) for r in seen if r[1] is not None])
    db.executemany("UPDATE seen SET checked_at=? WHERE url_fp=?", [(r[5], r[0]) for r in seen if r[5]])
    db.executemany("INSERT OR IGNORE INTO url_dir (url_fp, url, content_hash) VALUES (?,?,?)", urls)
    db.executemany("INSERT OR IGNORE INTO body_dir (hash_fp, url_fp, source) VALUES (?,?,?)", bodies)
    count = len(seen)
    for x in (seen, urls, bodies):
        x.clear()
    return count


def _timed(fn: Any, args: list[Any], passes: int = 3) -> float:
    """µs per call: the median of ``passes`` passes over ``args`` (other jobs share the machine)."""
    per_pass = []
    for _ in range(passes):
        t = time.perf_counter()
        for x in args:
            fn(*x)
        per_pass.append((time.perf_counter() - t) / len(args) * 1e6)
    return statistics.median(per_pass)


def measure(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.sqlite3"
        t0 = time.perf_counter()
        samples, seen_rows = load(path, n)
        out: dict[str, Any] = {"n": n, "load_s": time.perf_counter() - t0}
        t1 = time.perf_counter()
        store = StateStore(path)
        out["open_s"] = time.perf_counter() - t1
        index = SeenIndex(path)
        sizes = dict(store.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        out["file_mb"] = (os.path.getsize(path) + os.path.getsize(near_log_path(str(path)))) / 2**20  # type: ignore
        rnd = random.Random(7)
        misses = [(f"https://www.example-news.com/missing/{i}",) for i in range(len(samples))]
        mixed = [(u,) for u, _, _ in samples] + misses
        rnd.shuffle(mixed)
        _timed(index.get, mixed[:2000])  # warm the page cache like a running crawl
        pages, unused = store.db.execute("SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name='seen'").fetchone()
        out["seen"] = {"us": _timed(index.get, mixed), "bytes": sizes.get("seen", 0) / seen_rows,
                       "note": f"{seen_rows / n:.2f} rows/article, pages {1 - unused / pages:.0%} full"}
        out["seen_item"] = {"us": _timed(store.get, mixed), "bytes": sizes.get("seen", 0) / seen_rows,
                            "note": "hits also read url_dir"}
        near_q = [(s ^ 0b101, 3, [rnd.getrandbits(63) for _ in range(4)]) for _, _, s in samples[:5000]]
        fresh_q = [(rnd.getrandbits(64), 3, [rnd.getrandbits(63) for _ in range(4)]) for _ in range(5000)]
        queries = near_q + fresh_q
        rnd.shuffle(queries)
        out["near"] = {"us": _timed(store.near, queries), "bytes": os.path.getsize(near_log_path(str(path))) / n,
                       "note": f"disk; {store.near_index.memory_bytes() / n:.1f} B in RAM; the index query alone "
                               f"{_timed(store.near_index.query, queries):.1f} µs, the rest is the URL lookup of a hit; "
                               f"{_timed(store.near, fresh_q):.1f} µs for an article without near-duplicate, "
                               f"{_timed(store.near, near_q):.1f} µs with one (+ its URL from SQLite); "
                               f"opens in {out['open_s']:.2f} s"}
        out["urls"] = {"us": _timed(store.url_for_hash, [(h,) for _, h, _ in samples]),
                       "bytes": (sizes.get("url_dir", 0) + sizes.get("body_dir", 0)) / n,
                       "note": "url_dir + body_dir"}
        for part in PARTS:
            out[part]["label"] = LABELS[part]
        out["parts"] = PARTS
        index.close()
        store.close()
    return out


def report(r: dict[str, Any]) -> None:
    print(f"n={r['n']:,} load {r['load_s']:.1f}s file {r['file_mb']:.0f} MiB")
    for part in PARTS:
        p = r[part]
        print(f"  {p['label']:<30} {p['us']:8.2f} µs/lookup {p['bytes']:8.1f} B/entry   ({p['note']})")


if __name__ == "__main__":
    import sys

    for size in [int(x) for x in sys.argv[1:]] or [100_000]:
        report(measure(size))
