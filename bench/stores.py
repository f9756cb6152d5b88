"""Cost of newscrawl's SQLite state at scale: lookup time and bytes per entry, per part of the store.

Bulk-loads n synthetic exported articles with the store's own schema (one transaction, executemany: the
per-item path costs the same per row plus a commit), then measures through the public StateStore API:
``get`` (the seen-store lookup of every article request), ``near`` (the near-duplicate query of every
item) and ``url_for_hash`` (exact-body lookup), and sizes each part with SQLite's dbstat.
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from newscrawl.neardup import bands, to_signed
from newscrawl.state import StateStore, fingerprint

PARTS = {
    "seen": ("article", "sqlite_autoindex_article_1"),
    "near": ("near_band", "near_para"),
    "urls": ("body", "sqlite_autoindex_body_1"),
}
LABELS = {"seen": "seen-store (per URL)", "near": "near-dup index (per article)", "urls": "body→URL directory"}


def _rows(n: int, rnd: random.Random) -> Any:
    for i in range(n):
        url = f"https://www.example-news.com/world/2026/11/25/story-number-{i}-about-the-harbour"
        h = f"sha1:{rnd.getrandbits(160):040x}"
        sim = rnd.getrandbits(64)
        yield url, h, sim, [rnd.getrandbits(63) for _ in range(4)]


def load(store: StateStore, n: int, seed: int = 1) -> list[tuple[str, str, int]]:
    rnd = random.Random(seed)
    samples: list[tuple[str, str, int]] = []
    db = store.db
    db.execute("BEGIN")
    batch_a, batch_b, batch_band, batch_para = [], [], [], []
    for url, h, sim, sketch in _rows(n, rnd):
        fp = fingerprint(url)
        batch_a.append((fp, url, fingerprint(h), to_signed(sim), 1, h, "2026-11-25T10:00:00+00:00", None,
                        "2026-11-25T10:05:00+00:00"))
        batch_b.append((fingerprint(h), url, "example"))
        batch_band.extend((to_signed(b), fp, to_signed(sim)) for b in bands(sim))
        batch_para.extend((k, fp) for k in sketch)
        if len(samples) < 20_000 and rnd.random() < 20_000 / n:
            samples.append((url, h, sim))
        if len(batch_a) >= 50_000:
            _flush(db, batch_a, batch_b, batch_band, batch_para)
    _flush(db, batch_a, batch_b, batch_band, batch_para)
    db.execute("COMMIT")
    return samples


def _flush(db: Any, a: list, b: list, band: list, para: list) -> None:
    db.executemany("INSERT OR IGNORE INTO article (url_fp, url, hash_fp, simhash, revision, content_hash, modified_at,"
                   " lastmod, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)", a)
    db.executemany("INSERT OR IGNORE INTO body (hash_fp, url, source) VALUES (?,?,?)", b)
    db.executemany("INSERT OR IGNORE INTO near_band (key, url_fp, simhash) VALUES (?,?,?)", band)
    db.executemany("INSERT OR IGNORE INTO near_para (key, url_fp) VALUES (?,?)", para)
    for x in (a, b, band, para):
        x.clear()


def measure(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.sqlite3"
        store = StateStore(path)
        t0 = time.perf_counter()
        samples = load(store, n)
        load_s = time.perf_counter() - t0
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = dict(store.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        rnd = random.Random(7)
        out: dict[str, Any] = {"n": n, "load_s": load_s, "file_mb": os.path.getsize(path) / 2**20}

        def timed(fn: Any, args: list[Any]) -> float:
            t = time.perf_counter()
            for x in args:
                fn(*x)
            return (time.perf_counter() - t) / len(args) * 1e6

        misses = [(f"https://www.example-news.com/missing/{i}",) for i in range(len(samples))]
        hits = [(u,) for u, _, _ in samples]
        mixed = hits + misses
        rnd.shuffle(mixed)
        out["seen"] = {"us": timed(store.get, mixed)}
        # near-duplicate queries: an unseen body whose hash is 2 bits off a stored one, and a fresh one
        near_q = [(s ^ 0b101, 3, [rnd.getrandbits(63) for _ in range(4)]) for _, _, s in samples[:5000]]
        fresh_q = [(rnd.getrandbits(64), 3, [rnd.getrandbits(63) for _ in range(4)]) for _ in range(5000)]
        out["near"] = {"us": timed(store.near, near_q + fresh_q)}
        out["urls"] = {"us": timed(store.url_for_hash, [(h,) for _, h, _ in samples])}
        for part, names in PARTS.items():
            out[part]["bytes"] = sum(sizes.get(name, 0) for name in names) / n
            out[part]["label"] = LABELS[part]
        store.close()
    return out


if __name__ == "__main__":
    import sys

    for size in [int(x) for x in sys.argv[1:]] or [100_000]:
        r = measure(size)
        print(f"n={size:,} load {r['load_s']:.1f}s file {r['file_mb']:.0f} MiB")
        for part in PARTS:
            print(f"  {r[part]['label']:<30} {r[part]['us']:8.2f} µs/lookup {r[part]['bytes']:8.1f} B/entry")
