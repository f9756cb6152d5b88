"""State file version 2: epoch times at the API boundary, the near-duplicate log (torn tail, several
writers, crash between append and commit), and the migration of version 1 files."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newscrawl import nearindex
from newscrawl.epoch import iso_from_epoch, to_epoch
from newscrawl.incremental import Known, SeenIndex, decide
from newscrawl.neardup import paragraph_sketch, simhash
from newscrawl.nearindex import RECORD_SIZE, NearIndex
from newscrawl.state import StateStore, fingerprint
from tests.conftest import REPO

UTC = timezone.utc
WORDS = ("harbour ferry council budget lantern bridge market school garden tram river library storm winter "
         "square festival depot vote repair tide").split()


def body(seed: int, paragraphs: int = 4) -> str:
    return "\n\n".join(" ".join(WORDS[(seed * 7 + p * 3 + k * k) % len(WORDS)] for k in range(14)) + f" {seed} {p}."
                       for p in range(paragraphs))


def record(store: StateStore, n: int, **extra: object) -> str:
    url = f"https://example.org/news/{n}"
    text = body(n)
    store.record(url, content_hash=f"sha1:{n:040x}", simhash=simhash(text), sketch=paragraph_sketch(text),
                 fetched_at="2026-11-25T10:00:00Z", source="gazette", **extra)  # type: ignore[arg-type]
    return url


# ------------------------------------------------------------------------------------------ epoch times


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T10:00:00+02:00", "2026-11-25T08:00:00Z"),
    ("2026-11-25T10:00:00-05:30", "2026-11-25T15:30:00Z"),
    ("2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z"),
    ("2026-11-25T10:00:00", "2026-11-25T10:00:00Z"),           # naive = UTC
    ("2026-11-25T10:00:00.250+00:00", "2026-11-25T10:00:01Z"),  # fractions round up
    ("1969-07-20T20:17:40Z", "1969-07-20T20:17:40Z"),
])
def test_epoch_round_trip_normalises_offsets_to_utc(text: str, expected: str) -> None:
    assert iso_from_epoch(to_epoch(text)) == expected


@pytest.mark.parametrize("bad", [None, "", "yesterday", "2026-13-45T99:00:00Z", 17, ["2026-11-25"]])
def test_unparseable_times_become_null(bad: object) -> None:
    assert to_epoch(bad) is None
    assert iso_from_epoch(None) is None


def test_store_returns_times_in_utc_and_compares_them_as_times(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite3")
    store.record("https://example.org/a", content_hash="sha1:" + "ab" * 20, simhash=0, revision=2,
                 modified_at="2026-11-25T10:00:00.5+02:00", lastmod="2026-11-24T23:00:00-01:00",
                 fetched_at="2026-11-25T09:30:00+01:00", source="gazette")
    seen = store.get("https://example.org/a")
    assert seen is not None
    assert (seen.url, seen.revision, seen.content_hash) == ("https://example.org/a", 2, "sha1:" + "ab" * 20)
    assert (seen.modified_at, seen.lastmod, seen.fetched_at) == (
        "2026-11-25T08:00:01Z", "2026-11-25T00:00:00Z", "2026-11-25T08:30:00Z")
    store.record("https://example.org/b", content_hash="md5:not-a-sha1", simhash=0, modified_at="garbage")
    other = store.get("https://example.org/b")
    assert other is not None and other.content_hash == "md5:not-a-sha1" and other.modified_at is None
    store.close()


def test_seen_index_round_trip_and_decisions(tmp_path: Path) -> None:
    index = SeenIndex(tmp_path / "state.sqlite3")
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    index.mark(["https://example.org/old-slug", "https://example.org/a"], article_url="https://example.org/a",
               source="gazette", lastmod="2026-11-25T13:00:00+02:00", published="2026-11-25T09:00:00Z", now=now)
    known = index.get("https://example.org/old-slug")
    assert known == Known(lastmod=datetime(2026, 11, 25, 11, tzinfo=UTC), published=datetime(2026, 11, 25, 9,
                          tzinfo=UTC), first_seen=now, checked_at=now)
    assert index.get("https://example.org/never") is None
    # the same lastmod written with another offset is not newer: skip; a later one is
    args = {"published": None, "now": now, "interval": timedelta(hours=6), "max_age": timedelta(days=2)}
    assert decide(known, lastmod="2026-11-25T11:00:00Z", **args) == "skip"  # type: ignore[arg-type]
    assert decide(known, lastmod="2026-11-25T11:00:01Z", **args) == "lastmod"  # type: ignore[arg-type]
    # a later check keeps first_seen, moves checked_at, keeps the newest lastmod
    later = now + timedelta(hours=7)
    index.mark(["https://example.org/a"], article_url="https://example.org/a", source="gazette",
               lastmod="2026-11-20T00:00:00Z", published=None, now=later)
    again = index.get("https://example.org/a")
    assert again is not None and again.first_seen == now and again.checked_at == later
    assert again.lastmod == known.lastmod and again.published == known.published
    index.close()


def test_export_without_middleware_counts_as_first_check(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    url = record(store, 1, lastmod="2026-11-25T08:00:00Z")
    store.close()
    index = SeenIndex(path)
    known = index.get(url)
    fetched = datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert known == Known(lastmod=datetime(2026, 11, 25, 8, tzinfo=UTC), published=None, first_seen=fetched,
                          checked_at=fetched)
    index.close()


# ------------------------------------------------------------------------------------------ near-duplicate log


def test_torn_near_log_tail_is_cut_and_appends_stay_aligned(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    urls = [record(store, n) for n in range(3)]
    store.close()
    log = Path(f"{path}.near")
    assert log.stat().st_size == 3 * RECORD_SIZE
    with log.open("ab") as f:
        f.write(b"\x01" * 20)  # a record torn by a crash
    store = StateStore(path)
    assert log.stat().st_size == 3 * RECORD_SIZE
    for n, url in enumerate(urls):
        assert store.near(simhash(body(n)), 3, paragraph_sketch(body(n))) == url
    with log.open("ab") as f:
        f.write(b"\x02" * 7)  # torn again while this store is open: the next append cuts it first
    url3 = record(store, 3)
    assert log.stat().st_size == 4 * RECORD_SIZE
    store.close()
    store = StateStore(path)
    assert store.near(simhash(body(3)), 3, None) == url3
    assert store.near(0, 3, paragraph_sketch(body(3))) == url3
    store.close()


def test_two_stores_on_one_file_see_each_others_records(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    a, b = StateStore(path), StateStore(path)
    url_a = record(a, 1)
    url_b = record(b, 2)
    assert b.near(simhash(body(1)), 3, None) == url_a       # b opened before a recorded
    assert a.near(0, 3, paragraph_sketch(body(2))) == url_b
    assert b.get(url_a) is not None and a.url_for_hash(f"sha1:{2:040x}") == (url_b, "gazette")
    a.close()
    b.close()


_WRITER = """
import sys
from newscrawl.state import StateStore
store = StateStore(sys.argv[1])
for n in range(int(sys.argv[2]), int(sys.argv[2]) + 150):
    store.record(f"https://example.org/p/{n}", content_hash=f"sha1:{n:040x}",
                 simhash=((n + 1) * 0x9E3779B97F4A7C15) % 2**64, sketch=[n * 1000 + k + 1 for k in range(4)],
                 source="s" + sys.argv[2])
store.close()
"""


def test_processes_appending_at_once_keep_every_record_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    StateStore(path).close()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(start)], env=env)
             for start in (0, 1000)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert Path(f"{path}.near").stat().st_size == 300 * RECORD_SIZE
    store = StateStore(path)
    assert store.count() == 300
    for n in (0, 149, 1000, 1149):
        assert store.near(0, 3, [n * 1000 + k + 1 for k in range(4)]) == f"https://example.org/p/{n}"
        assert store.near(((n + 1) * 0x9E3779B97F4A7C15) % 2**64 ^ 0b11, 3, None) == f"https://example.org/p/{n}"
    store.close()


def test_record_appended_but_never_committed_is_not_an_answer(tmp_path: Path) -> None:
    """A kill between the log append and the SQLite commit: the article was not recorded (it will be again)."""
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    ghost = "https://example.org/ghost"
    store.near_index.append(fingerprint(ghost), simhash(body(5)), paragraph_sketch(body(5)))
    assert store.near(simhash(body(5)), 3, paragraph_sketch(body(5))) is None
    real = record(store, 5)  # recorded for real later: its first (ghost) record stays, keyed by another URL
    assert store.near(simhash(body(5)), 3, paragraph_sketch(body(5))) == real
    again = StateStore(path)
    assert again.near(simhash(body(5)), 3, None) == real
    again.close()
    store.close()


def test_duplicate_records_keep_the_first(tmp_path: Path) -> None:
    log = str(tmp_path / "x.near")
    index = NearIndex(log)
    index.append(7, 0xFFFF, [11, 12])
    index.append(7, 0xFFFF0000, [13, 14])   # the same URL again (re-recorded after a crash)
    index.append(8, 0xFFFF0000, [])
    index.close()
    index = NearIndex(log)
    assert index.query(0xFFFF, 3, [11, 12]) == [7]
    assert index.query(0xFFFF0000, 3, [13, 14]) == [8]       # 7's second record is not indexed
    assert index.query(0xFFFF0000, 3, None) == [8]
    index.close()


def test_delta_merges_into_the_arrays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nearindex, "DELTA_MAX", 5)
    store = StateStore(tmp_path / "state.sqlite3")
    urls = [record(store, n) for n in range(23)]
    assert len(store.near_index) == 23 and store.near_index.base >= 18
    for n in (0, 7, 22):
        assert store.near(simhash(body(n)), 3, paragraph_sketch(body(n))) == urls[n]
    store.close()


def test_memory_store_and_odd_inputs(tmp_path: Path) -> None:
    store = StateStore(":memory:")
    url = record(store, 1)
    assert store.near(simhash(body(1)), 3, paragraph_sketch(body(1))) == url
    assert store.near(simhash(body(1)), -1, [2**64 + 5, -(2**70), 0]) is None   # no crash on bad sketch values
    assert store.near(0, 3, []) is None
    store.record("https://example.org/neg", content_hash=None, simhash=-5, sketch=[2**63 + 1])
    assert store.near(-5 % 2**64, 0, None) == "https://example.org/neg"
    store.close()


# ------------------------------------------------------------------------------------------ migration

V1_SCHEMA = """
CREATE TABLE article (url_fp INTEGER PRIMARY KEY, url TEXT NOT NULL, hash_fp INTEGER, simhash INTEGER,
    revision INTEGER NOT NULL DEFAULT 1, content_hash TEXT, modified_at TEXT, lastmod TEXT, fetched_at TEXT);
CREATE TABLE body (hash_fp INTEGER PRIMARY KEY, url TEXT NOT NULL, source TEXT);
CREATE TABLE near_band (key INTEGER NOT NULL, url_fp INTEGER NOT NULL, simhash INTEGER NOT NULL,
    PRIMARY KEY (key, url_fp)) WITHOUT ROWID;
CREATE TABLE near_para (key INTEGER NOT NULL, url_fp INTEGER NOT NULL, PRIMARY KEY (key, url_fp)) WITHOUT ROWID;
CREATE TABLE seen_check (url_fp INTEGER PRIMARY KEY, url TEXT NOT NULL, article_url TEXT, source TEXT,
    lastmod TEXT, published TEXT, first_seen TEXT NOT NULL, checked_at TEXT NOT NULL);
CREATE INDEX seen_check_source ON seen_check (source, first_seen);
CREATE TABLE export_open (path TEXT PRIMARY KEY, spider TEXT NOT NULL, start INTEGER NOT NULL, opened_at TEXT);
"""


def _v1_file(path: Path) -> None:
    """A version 1 state file as the previous newscrawl wrote it."""
    from newscrawl.neardup import bands, to_signed

    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    # b was fetched first (so it is the near-duplicate answer), a second; a is checked under two URLs
    for n, url, fetched in ((1, "https://example.org/a", "2026-11-20T12:00:00+01:00"),
                            (2, "https://example.org/b", "2026-11-19T08:00:00Z")):
        text, fp, h = body(1), fingerprint(url), f"sha1:{n:040x}"
        sim = simhash(text)
        db.execute("INSERT INTO article VALUES (?,?,?,?,?,?,?,?,?)",
                   (fp, url, fingerprint(h), to_signed(sim), n, h, "2026-11-19T07:00:00-03:00", None, fetched))
        db.execute("INSERT INTO body VALUES (?,?,?)", (fingerprint(h), url, "gazette"))
        db.executemany("INSERT INTO near_band VALUES (?,?,?)", [(to_signed(b), fp, to_signed(sim)) for b in bands(sim)])
        db.executemany("INSERT INTO near_para VALUES (?,?)", [(k, fp) for k in paragraph_sketch(text)])
    for url in ("https://example.org/a-old", "https://example.org/a"):
        db.execute("INSERT INTO seen_check VALUES (?,?,?,?,?,?,?,?)",
                   (fingerprint(url), url, "https://example.org/a", "gazette", "2026-11-20T10:00:00Z",
                    "2026-11-20T09:00:00+00:00", "2026-11-20T11:00:00Z", "2026-11-21T11:00:00Z"))
    db.execute("INSERT INTO export_open VALUES ('/tmp/x.jsonl', 'gazette', 0, NULL)")
    db.commit()
    db.close()


def test_version_1_file_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _v1_file(path)
    index = SeenIndex(path)  # either opener migrates
    store = StateStore(path)
    a = store.get("https://example.org/a")
    assert a is not None
    assert (a.revision, a.content_hash, a.modified_at, a.fetched_at) == (
        1, f"sha1:{1:040x}", "2026-11-19T10:00:00Z", "2026-11-20T11:00:00Z")
    assert store.get("https://example.org/a-old") is None                   # checked, never exported under it
    assert store.url_for_hash(f"sha1:{2:040x}") == ("https://example.org/b", "gazette")
    assert store.near(simhash(body(1)), 3, paragraph_sketch(body(1))) == "https://example.org/b"  # earliest
    assert store.count() == 2
    known = index.get("https://example.org/a-old")
    assert known == Known(lastmod=datetime(2026, 11, 20, 10, tzinfo=UTC), published=datetime(2026, 11, 20, 9,
                          tzinfo=UTC), first_seen=datetime(2026, 11, 20, 11, tzinfo=UTC),
                          checked_at=datetime(2026, 11, 21, 11, tzinfo=UTC))
    db = sqlite3.connect(path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"body", "near_band", "near_para", "seen_check"}
    assert {row[0] for row in db.execute("SELECT url FROM article")} == {"https://example.org/a",
                                                                         "https://example.org/b"}
    assert db.execute("SELECT path FROM export_open").fetchall() == [("/tmp/x.jsonl",)]   # the journal is kept
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    db.close()
    # recording after the migration: an update is not a new near-duplicate record
    store.record("https://example.org/a", content_hash="sha1:" + "c" * 40, simhash=1, revision=2)
    assert Path(f"{path}.near").stat().st_size == 2 * RECORD_SIZE
    store.close()
    index.close()
    again = StateStore(path)   # a second open does not migrate again
    assert again.count() == 2 and Path(f"{path}.near").stat().st_size == 2 * RECORD_SIZE
    again.close()


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 9")
    db.close()
    with pytest.raises(RuntimeError, match="version 9 is newer"):
        StateStore(path)


def test_publishing_rate_counts_articles_once(tmp_path: Path) -> None:
    index = SeenIndex(tmp_path / "state.sqlite3")
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    for day in range(4):
        urls = [f"https://x.example/{day}", f"https://x.example/{day}-amp"]   # two requested URLs, one article
        index.mark(urls, article_url=urls[0], source="x", lastmod=None,
                   published=(now - timedelta(days=day)).isoformat(), now=now)
    assert index.publishing_rate("x", now) == pytest.approx(4 / 3)
    assert index.publishing_rate("unknown", now) is None
    index.close()


def test_merged_delta_answers_like_a_fresh_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries merged into the sorted arrays while running give the same answers as an index built at open,
    crowded buckets and empty sketches included."""
    import random

    monkeypatch.setattr(nearindex, "DELTA_MAX", 37)
    rnd = random.Random(5)
    log = str(tmp_path / "x.near")
    running = NearIndex(log)
    entries = []
    for _ in range(600):
        sim = (rnd.getrandbits(64) & ~0xFFFF) | rnd.randrange(8) if rnd.random() < 0.9 else 0  # crowded band 0
        sketch = [rnd.choice([rnd.getrandbits(63), 5, 7, -(2**62)]) for _ in range(rnd.randrange(5))]
        fp = rnd.getrandbits(63)
        running.append(fp, sim, sketch)
        entries.append((sim, sketch))
    fresh = NearIndex(log)
    assert running.base > 500 and len(running) == len(fresh) == 600
    for sim, sketch in entries[::9] + [(rnd.getrandbits(64), [rnd.getrandbits(63)]) for _ in range(20)]:
        for distance in (0, 3, 10):
            assert running.query(sim, distance, sketch) == fresh.query(sim, distance, sketch)
            assert running.query(sim, distance, None) == fresh.query(sim, distance, None)
    running.close()
    fresh.close()


def test_a_new_state_file_empties_a_leftover_near_log(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = StateStore(path)
    record(store, 1)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)   # the state was reset by hand, the log forgotten
    store = StateStore(path)
    assert Path(f"{path}.near").stat().st_size == 0
    url = record(store, 1)
    assert store.near(simhash(body(1)), 3, None) == url
    store.close()


def test_queries_match_a_brute_force_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SimHash within 3 bits (all four bands, crowded buckets, merged arrays and the delta) and every
    record sharing two sketch keys is found, earliest first, and nothing else."""
    import random

    monkeypatch.setattr(nearindex, "DELTA_MAX", 150)
    rnd = random.Random(11)
    index = NearIndex(str(tmp_path / "x.near"))
    sims, sketches, fps = [], [], []
    base = rnd.getrandbits(64)
    for n in range(400):
        # a third near one common SimHash (up to 5 bits off): hits and misses at the 3-bit edge, in every band
        sim = base ^ sum(1 << rnd.randrange(64) for _ in range(rnd.randrange(6))) if n % 3 == 0 else rnd.getrandbits(64)
        sketch = rnd.sample(range(1, 40), 4) if n % 5 == 0 else [rnd.getrandbits(63) for _ in range(4)]
        index.append(n + 1, sim, sketch)
        sims.append(sim)
        sketches.append(sketch)
        fps.append(n + 1)
    assert index.base > 0 and index._delta_fps   # both the sorted arrays and the delta are queried
    queries = [(base ^ (1 << rnd.randrange(64)), None) for _ in range(30)] + [(s, None) for s in sims[::7]]
    queries += [(rnd.getrandbits(64), rnd.sample(range(1, 40), 4)) for _ in range(30)]
    answered = 0
    for sim, sketch in queries:
        if sketch:
            expected = [fp for fp, other in zip(fps, sketches, strict=True) if len(set(other) & set(sketch)) >= 2]
            if expected:
                assert index.query(sim, 3, sketch) == expected
                answered += 1
                continue
        expected = [fp for fp, other in zip(fps, sims, strict=True) if (other ^ sim).bit_count() <= 3]
        assert index.query(sim, 3, sketch) == expected
        answered += bool(expected)
    assert answered > len(queries) // 2   # the queries mostly have near-duplicates to find
    index.close()
