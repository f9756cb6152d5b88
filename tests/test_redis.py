"""Distributed crawling against a real ``redis-server`` (docs/distributed.md).

A redis-server is started on a free 127.0.0.1 port (no persistence, temp dir). Skipped only outside CI
when redis-server is not installed; in CI (``CI=true``) a missing server fails the run (.ci/run installs it).

- the Redis seen-store answers like the SQLite one (same calls, same results), and claims make two
  workers' exports of one article mutually exclusive;
- the lease scripts: a dead worker's leases are requeued by the reaper, at once without claims, after
  the orphan timeout with claims; a restarted worker recovers its own;
- the crawl: three workers (``python -m scrapy runspider tests/spiders/distsite.py``) share a local site of
  ARTICLES articles; one is killed with SIGKILL mid-crawl and restarted; the union of every export holds
  every article exactly once, and the shared queue and dupefilter outlive the workers until
  ``scrapy redis-reset``.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newscrawl.neardup import paragraph_sketch, simhash
from newscrawl.state import StateStore
from tests.conftest import REPO, run_scrapy, stats_of
from tests.httpsite import SiteHandler, serve

pytestmark = pytest.mark.redis

redis = pytest.importorskip("redis") if os.environ.get("CI") != "true" else __import__("redis")

ARTICLES = 300
CHILDREN = 6                         # child sitemaps in the index: fetched by different workers
VARIANTS = range(3, ARTICLES, 15)    # also listed as /news/<n>?ref=feed (same canonical URL, another request)
REDIRECTED = range(0, ARTICLES, 25)  # listed as /news/<n>-old -> 301 -> /news/<n>
DELAY = 0.04                         # seconds per article answer: the crawl lasts a few seconds
VOCAB = [f"{a}{b}" for a in ("tam", "vel", "cor", "nis", "bra", "pel", "mon", "sar", "dev", "lum")
         for b in ("ora", "inth", "esk", "uvo", "ampa", "ilde", "ostra", "enne", "urro", "ique")]


# ------------------------------------------------------------------------------------------ redis-server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed: .ci/run must install it (apt-get install redis-server)")
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir), "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def r(redis_server: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    yield client
    client.close()


# ------------------------------------------------------------------------------------------ state backend


def _body(seed: int, paragraphs: int = 5) -> str:
    rnd = random.Random(seed)
    return "\n\n".join(" ".join(rnd.choice(VOCAB) for _ in range(20)).capitalize() + "." for _ in range(paragraphs))


def _load(store: Any) -> None:
    for n in range(40):
        body = _body(n)
        store.record(f"https://example.org/n/{n}", content_hash=f"sha1:{n:040x}", simhash=simhash(body),
                     revision=1 + n % 2, modified_at=f"2026-11-{1 + n % 20:02d}T08:00:00Z", lastmod=None,
                     fetched_at="2026-11-24T10:00:00Z", source="ledger" if n % 3 else "courier",
                     sketch=paragraph_sketch(body))


def test_redis_store_answers_like_sqlite(r: Any) -> None:
    from newscrawl.distributed.state import RedisStateStore

    sql = StateStore(":memory:")
    red = RedisStateStore(r, key_prefix="t", owner="w1|aaa")
    _load(sql)
    _load(red)
    assert red.count() == sql.count() == 40
    for n in (0, 7, 39):
        url = f"https://example.org/n/{n}"
        assert red.get(url) == sql.get(url) and red.get(url) is not None
        assert red.url_for_hash(f"sha1:{n:040x}") == sql.url_for_hash(f"sha1:{n:040x}") == (
            url, "ledger" if n % 3 else "courier")
    assert red.get("https://example.org/n/99") is None and red.url_for_hash("sha1:nope") is None

    # near-duplicates: most paragraphs verbatim plus others (sketch), a few words changed (SimHash), unrelated
    longer = _body(5, paragraphs=12)              # its first 5 paragraphs are article 5's
    words = _body(9).split(" ")
    words[3], words[40] = "harbourmaster", "quayside"
    for text, expected in ((longer, "https://example.org/n/5"), (" ".join(words), "https://example.org/n/9"),
                           (_body(12345), None)):
        args = (simhash(text), 3, paragraph_sketch(text))
        assert red.near(*args) == sql.near(*args) == expected
        assert red.near(args[0], 3, None) == sql.near(args[0], 3, None)   # SimHash alone
    # an update keeps the first-recorded order and the band/sketch entries of the first version
    red.record("https://example.org/n/5", content_hash="sha1:new", simhash=1, revision=2, source="ledger")
    sql.record("https://example.org/n/5", content_hash="sha1:new", simhash=1, revision=2, source="ledger")
    assert red.get("https://example.org/n/5") == sql.get("https://example.org/n/5")
    assert red.count() == 40
    red.close()


def test_open_state_picks_the_backend(redis_server: str, tmp_path: Path) -> None:
    from scrapy.settings import Settings

    from newscrawl.distributed.state import RedisStateStore
    from newscrawl.state import open_state

    state = str(tmp_path / "state.sqlite3")
    cases = [({}, StateStore), ({"NEWSCRAWL_REDIS_URL": redis_server}, RedisStateStore),
             # local work on local input never touches a shared crawl's Redis
             ({"NEWSCRAWL_REDIS_URL": redis_server, "NEWSCRAWL_REPLAY": "x.warc.gz"}, StateStore),
             ({"NEWSCRAWL_REDIS_URL": redis_server, "NEWSCRAWL_DEDUP_MODE": "mark"}, StateStore)]
    for values, cls in cases:
        store = open_state(Settings({"NEWSCRAWL_STATE_PATH": state, **values}))
        assert type(store) is cls, values
        assert store.claim("https://example.org/z", "sha1:" + "3" * 40, "ledger")
        store.release("https://example.org/z")
        store.close()


def test_claims_make_exports_exclusive(r: Any) -> None:
    from newscrawl.distributed.state import RedisStateStore

    a = RedisStateStore(r, key_prefix="t", owner="wa|111")
    b = RedisStateStore(r, key_prefix="t", owner="wb|222")
    url, h = "https://example.org/n/1", "sha1:" + "1" * 40
    assert a.claim(url, h, "ledger")
    assert a.claim(url, h, "ledger")             # re-entrant for its holder
    assert not b.claim(url, h, "ledger")         # another worker is exporting it
    # the same body under another URL of the same outlet is the same story: only one export
    assert not b.claim("https://example.org/amp/1", h, "ledger")
    # ... but another outlet republishing it is exported (and marked duplicate_of by the pipeline)
    assert b.claim("https://courier.example/wire/1", h, "courier")
    a.record(url, content_hash=h, simhash=simhash(_body(1)), source="ledger")
    # a's claims went with the record; b's claim on the wire copy stays
    assert r.hlen("t:s:claims") == 1 and r.hlen("t:s:wc:wa") == 0 and r.hlen("t:s:wc:wb") == 1
    assert not b.claim(url, h, "ledger")         # exported since b looked: this very version is seen
    assert not b.claim("https://example.org/amp/1", h, "ledger")   # its body is recorded for this outlet
    assert b.claim("https://courier.example/wire/2", h, "courier")
    b.release("https://courier.example/wire/2")
    assert b.claim(url, "sha1:" + "2" * 40, "ledger")  # a new version (revision) may be exported
    b.release(url)
    b.release("https://courier.example/wire/1")
    assert r.hlen("t:s:claims") == 0 and r.hlen("t:s:wc:wb") == 0
    a.close()
    b.close()


@pytest.mark.parametrize("value", [None, "", "sha1:" + "0a" * 20, "sha1:" + "0A" * 20, "md5:abc", "2026-11-24T10:15:00Z",
                                   "2026-11-24T10:15:00+05:30", "2026-11-24T10:15:00-03:00", "2026-11-24T10:15:00",
                                   "2026-11-24T10:15:00.250Z", "2026-11-24T10:15:00-00:00", "1969-12-31T23:59:59Z",
                                   "2026-02-30T10:15:00Z", "2026-11-24", "https://ex.org/ação?x=1", "x" * 300,
                                   "y" * 70000])
def test_packed_record_fields_round_trip(value: str | None) -> None:
    from newscrawl.distributed import record

    data = b"\x01" + record.encode_field(value) + b"\x01"
    assert record.decode_field(data, 1) == (value, len(data) - 1)


def test_packed_record_is_compact_and_exact() -> None:
    from newscrawl.distributed import record

    fields = ("https://www.example-gazette.com/world/2026/11/24/harbour-council-votes-on-the-ferry-budget-123456", 3,
              "sha1:" + "ab" * 20, "2026-11-24T10:15:00+00:00", "2026-11-24T10:20:00Z", "2026-11-24T11:02:41+00:00",
              "examplegazette", (1 << 64) - 5)
    packed = b"\x00\x00\x01\x02" + record.pack(*fields)
    assert record.unpack(packed) == {"seq": 258, "url": fields[0], "revision": 3, "content_hash": fields[2],
                                     "modified_at": fields[3], "lastmod": fields[4], "fetched_at": fields[5],
                                     "source": fields[6], "simhash": fields[7]}
    as_json = json.dumps(list(fields), separators=(",", ":"))
    assert len(packed) < 0.7 * len(as_json)  # 175 bytes vs 268


# ------------------------------------------------------------------------------------------ lease scripts


def _lease_keys(r: Any, worker: str) -> dict[str, Any]:
    from newscrawl.distributed import keys
    from newscrawl.distributed.keys import CrawlKeys, StateKeys

    k, sk = CrawlKeys("t", "site"), StateKeys("t")
    scripts = {name: r.register_script(getattr(keys, name)) for name in ("BEGIN", "POP_LEASE", "REAP", "RECOVER")}
    return {"k": k, "sk": sk, "s": scripts, "w": worker}


def test_reaper_requeues_dead_workers_leases(r: Any) -> None:
    from newscrawl.distributed.state import RedisStateStore

    env = _lease_keys(r, "w1")
    k, sk, s = env["k"], env["sk"], env["s"]
    for n in range(5):
        r.zadd(k.queue, {f"req{n}".encode(): -n})
    assert s["BEGIN"](keys=[k.hb("w1"), k.workers, k.queue, k.dupefilter],
                      args=["w1", "n1", 60000, k.hb_prefix, k.inflight_prefix, "1"]) == 0  # queue not empty
    assert s["BEGIN"](keys=[k.hb("w1"), k.workers, k.queue, k.dupefilter],
                      args=["w1", "other", 60000, k.hb_prefix, k.inflight_prefix, "1"]) == -1  # id in use
    leased = [s["POP_LEASE"](keys=[k.queue, k.inflight("w1")]) for _ in range(3)]
    assert leased == [b"req4", b"req3", b"req2"] and r.zcard(k.queue) == 2 and r.hlen(k.inflight("w1")) == 3
    reap = [k.hb("w1"), k.inflight("w1"), k.queue, k.workers, k.dead("w1"), sk.worker_claims("w1"), sk.claims]
    assert s["REAP"](keys=reap, args=["w1", 60000]) == -1          # alive: untouched
    r.delete(k.hb("w1"))                                           # its heartbeat expired
    assert s["REAP"](keys=reap, args=["w1", 60000]) == 3
    assert r.zcard(k.queue) == 5 and r.zscore(k.queue, b"req4") == -4 and not r.sismember(k.workers, "w1")

    # died holding a claim: its line may be on its disk; wait for it (or the orphan timeout) before requeueing
    s["BEGIN"](keys=[k.hb("w1"), k.workers, k.queue, k.dupefilter],
               args=["w1", "n2", 60000, k.hb_prefix, k.inflight_prefix, "1"])
    s["POP_LEASE"](keys=[k.queue, k.inflight("w1")])
    RedisStateStore(r, key_prefix="t", owner="w1|n2").claim("https://example.org/x", None, "site")
    r.delete(k.hb("w1"))
    assert s["REAP"](keys=reap, args=["w1", 60000]) == -2 and r.hlen(k.inflight("w1")) == 1
    assert s["REAP"](keys=reap, args=["w1", 60000]) == -2          # still inside the orphan timeout
    assert s["REAP"](keys=reap, args=["w1", 0]) == 1               # past it: claims released, lease requeued
    assert r.hlen(sk.claims) == 0 and r.zcard(k.queue) == 5

    # a restarted worker settles its own: claims of its previous incarnation released, leases requeued
    s["BEGIN"](keys=[k.hb("w1"), k.workers, k.queue, k.dupefilter],
               args=["w1", "n3", 60000, k.hb_prefix, k.inflight_prefix, "1"])
    s["POP_LEASE"](keys=[k.queue, k.inflight("w1")])
    RedisStateStore(r, key_prefix="t", owner="w1|n3").claim("https://example.org/y", None, "site")
    r.delete(k.hb("w1"))
    assert s["BEGIN"](keys=[k.hb("w1"), k.workers, k.queue, k.dupefilter],
                      args=["w1", "n4", 60000, k.hb_prefix, k.inflight_prefix, "1"]) == 0
    assert s["RECOVER"](keys=[sk.worker_claims("w1"), sk.claims, k.inflight("w1"), k.queue, k.dead("w1")],
                        args=["w1", "n4"]) == [1, 1]
    assert r.hlen(sk.claims) == 0 and r.zcard(k.queue) == 5

    # nothing queued, no leases, no live worker: the next worker starts a fresh crawl (dupefilter cleared)
    r.sadd(k.dupefilter, b"x")
    r.delete(k.queue, k.hb("w1"))
    assert s["BEGIN"](keys=[k.hb("w2"), k.workers, k.queue, k.dupefilter],
                      args=["w2", "m1", 60000, k.hb_prefix, k.inflight_prefix, "1"]) == 1
    assert not r.exists(k.dupefilter)


# ------------------------------------------------------------------------------------------ the crawl


def article_page(n: int, base: str) -> bytes:
    rnd = random.Random(n)
    paragraphs = "".join(f"<p>{' '.join(rnd.choice(VOCAB) for _ in range(18)).capitalize()}.</p>" for _ in range(5))
    tag = "".join(chr(97 + int(d)) for d in str(n))  # no digits in headlines ("404" reads as a soft 404)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Ledger {tag}</title>
<link rel="canonical" href="{base}/news/{n}"></head><body>
<article><h1>Ledger story {tag} from the quay</h1><p class="byline">By <a href="/a">Ines Moura</a></p>
<time datetime="2026-11-20T08:00:00Z">Nov</time><div class="story">{paragraphs}</div></article></body></html>""".encode()


def _urlset(base: str, paths: list[str]) -> bytes:
    body = "".join(f"<url><loc>{base}{p}</loc><lastmod>2026-11-20T08:00:00Z</lastmod></url>" for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + body + "</urlset>").encode()


class Site(SiteHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        path, _, query = self.path.partition("?")
        if path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if path == "/sitemap-index.xml":
            body = "".join(f"<sitemap><loc>{base}/sitemap-{c}.xml</loc></sitemap>" for c in range(CHILDREN))
            return self.reply(200, ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.'
                                    'sitemaps.org/schemas/sitemap/0.9">' + body + "</sitemapindex>").encode(),
                              "application/xml")
        if path.startswith("/sitemap-") and path[9:-4].isdigit():
            c = int(path[9:-4])
            paths = []
            for n in range(c, ARTICLES, CHILDREN):
                paths.append(f"/news/{n}-old" if n in REDIRECTED else f"/news/{n}")
                if n in VARIANTS:  # another link to the next article (which another child sitemap lists)
                    paths.append(f"/news/{(n + 1) % ARTICLES}?ref=feed")
            return self.reply(200, _urlset(base, paths), "application/xml")
        if path.startswith("/news/") and path.endswith("-old"):
            self.send_response(301)
            self.send_header("Location", base + path[:-4])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path.startswith("/news/") and path[6:].isdigit() and int(path[6:]) < ARTICLES:
            time.sleep(DELAY)
            return self.reply(200, article_page(int(path[6:]), base), "text/html; charset=utf-8")
        return self.reply(404, b"not found", "text/plain")



@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve(Site) as base:
        yield base


class Worker:
    """One worker process: its own state file (export journal), export directory and log per run."""

    def __init__(self, name: str, root: Path, site: str, redis_url: str) -> None:
        self.name, self.site, self.redis_url = name, site, redis_url
        self.root = root / name
        self.out = self.root / "out"
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self, *extra: str) -> None:
        args = [sys.executable, "-m", "scrapy", "runspider", "tests/spiders/distsite.py", "-a", f"base={self.site}",
                "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1",
                "-s", "LOG_LEVEL=INFO", "-s", f"NEWSCRAWL_REDIS_WORKER={self.name}",
                "-s", "NEWSCRAWL_REDIS_HEARTBEAT_TTL=2", "-s", "NEWSCRAWL_REDIS_POLL_INTERVAL=0.2",
                "-s", "NEWSCRAWL_REDIS_ORPHAN_TIMEOUT=60", *extra]
        env = dict(os.environ, PYTHONPATH=str(REPO), NEWSCRAWL_REDIS_URL=self.redis_url,
                   NEWSCRAWL_STATE_PATH=str(self.root / "state.sqlite3"),
                   NEWSCRAWL_FEED_URI=str(self.out / "%(name)s" / "%(time)s.jsonl"))
        log = self.root / f"run{len(self.logs)}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self.logs.append(log)
        with log.open("w") as err:
            self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def wait(self, deadline: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def lines(self) -> int:
        return sum(p.read_bytes().count(b"\n") for p in self.out.rglob("*.jsonl*"))

    def stats(self) -> list[dict[str, Any]]:
        return [stats_of(p.read_text("utf-8", "replace")) for p in self.logs]


def _exports(workers: list[Worker]) -> tuple[Counter[str], list[str]]:
    keys: Counter[str] = Counter()
    problems: list[str] = []
    for w in workers:
        for path in sorted(w.out.rglob("*.jsonl*")):
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                problems.append(f"{path}: unterminated last line")
            for line in data.split(b"\n"):
                if line.strip():
                    try:
                        article = json.loads(line)
                    except ValueError:
                        problems.append(f"{path}: not JSON: {line[:80]!r}")
                        continue
                    keys[article.get("canonical_url") or article["url"]] += 1
    return keys, problems


@pytest.mark.crawl
def test_killed_worker_loses_nothing_and_nothing_is_exported_twice(r: Any, redis_server: str, site: str,
                                                                    tmp_path: Path) -> None:
    workers = [Worker(f"w{i}", tmp_path, site, redis_server) for i in (1, 2, 3)]
    for w in workers:
        w.start()
    victim = workers[2]
    # killed once it is crawling for sure (its own exports, hence leases of its own), well before the end
    deadline = time.monotonic() + 60
    while victim.lines() < 10 and time.monotonic() < deadline:
        if any(w.proc is not None and w.proc.poll() is not None for w in workers):
            break
        time.sleep(0.02)
    assert victim.proc is not None and victim.proc.poll() is None, "the victim ended before it could be killed"
    killed_at = sum(w.lines() for w in workers)
    victim.kill()
    # restarted at once: it waits out its old heartbeat (TTL 2 s) while the survivors' reaper may take its
    # leases first; either way its unfinished requests must come back. It rejoins this crawl and never
    # starts a new one (if the others finished meanwhile, a fresh crawl would fetch the whole site again).
    victim.start("-s", "NEWSCRAWL_REDIS_FRESH_START=False")
    deadline = time.monotonic() + 75
    codes = [w.wait(deadline) for w in workers]
    logs = "\n".join(p.read_text("utf-8", "replace") for w in workers for p in w.logs)
    assert codes == [0, 0, 0], f"worker exit codes {codes}\n{logs[-4000:]}"
    assert killed_at < ARTICLES - 30, f"the crawl was nearly over at the kill ({killed_at} exported)"

    keys, problems = _exports(workers)
    assert not problems
    expected = {f"{site}/news/{n}" for n in range(ARTICLES)}
    missing = expected - set(keys)
    twice = {k: c for k, c in keys.items() if c > 1}
    assert not missing, f"{len(missing)} articles never exported, e.g. {sorted(missing)[:5]}"
    assert not twice, f"{len(twice)} articles exported more than once, e.g. {list(twice.items())[:5]}"
    assert set(keys) == expected

    # the victim's unfinished requests came back: through the survivors' reaper or its own recovery
    stats = [s for w in workers for s in w.stats()]
    requeued = sum(s.get("newscrawl/redis/reaper/requeued", 0) + s.get("newscrawl/redis/recovered/requeued", 0)
                   for s in stats)
    assert requeued > 0, "the killed worker held no lease: nothing was tested"
    assert sum(s.get("newscrawl/dedup/recorded", 0) for s in stats) >= ARTICLES - killed_at
    assert all(s.get("finish_reason") == "finished" for s in stats if s)

    # nothing left in flight, and closing workers deleted neither the queue's dupefilter nor the state
    assert r.zcard("newscrawl:distsite:requests") == 0
    assert not list(r.scan_iter(match="newscrawl:distsite:inflight:*"))
    assert r.hlen("newscrawl:s:claims") == 0
    assert r.scard("newscrawl:distsite:dupefilter") >= ARTICLES
    assert int(r.get("newscrawl:s:n")) == ARTICLES

    status = run_scrapy(["redis-status", "distsite"], env={"NEWSCRAWL_REDIS_URL": redis_server}, timeout=60)
    assert f"seen-store: {ARTICLES} articles" in status.stdout, status.stdout + status.stderr
    reset = run_scrapy(["redis-reset", "distsite"], env={"NEWSCRAWL_REDIS_URL": redis_server}, timeout=60)
    assert reset.returncode == 0, reset.stderr
    assert not r.exists("newscrawl:distsite:dupefilter") and int(r.get("newscrawl:s:n")) == ARTICLES


@pytest.mark.crawl
def test_worker_killed_between_export_and_record_settles_from_its_journal(r: Any, redis_server: str, site: str,
                                                                          tmp_path: Path) -> None:
    """The narrowest window: the exporter wrote the article's line, the state has not recorded it, and the
    worker's claim on it is still in Redis. The survivor must neither export it again nor wait forever:
    the restarted worker records the line from its export journal, which settles the claim."""
    survivor, victim = Worker("w1", tmp_path, site, redis_server), Worker("w2", tmp_path, site, redis_server)
    victim.start("-s", 'EXTENSIONS={"tests.test_crash.KillAfterExport": 500}', "-s", "CRASH_KILL_AFTER_EXPORT=40")
    assert victim.proc is not None
    deadline = time.monotonic() + 60
    while victim.lines() < 3 and victim.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    survivor.start()  # after the victim got going: it surely reaches its 40th export
    while victim.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.proc.returncode == -signal.SIGKILL, "the victim was not killed after its 40th export"
    assert r.hlen("newscrawl:s:claims") >= 1  # it died holding the claim on the article it had just written
    victim.start("-s", "NEWSCRAWL_REDIS_FRESH_START=False")
    deadline = time.monotonic() + 75
    codes = [survivor.wait(deadline), victim.wait(deadline)]
    logs = "\n".join(p.read_text("utf-8", "replace") for w in (survivor, victim) for p in w.logs)
    assert codes == [0, 0], f"exit codes {codes}\n{logs[-4000:]}"

    keys, problems = _exports([survivor, victim])
    assert not problems
    assert set(keys) == {f"{site}/news/{n}" for n in range(ARTICLES)}
    assert not {k: c for k, c in keys.items() if c > 1}
    restarted = victim.stats()[-1]
    assert restarted.get("newscrawl/export/reconciled", 0) >= 1  # the written line was recorded at restart
    assert r.hlen("newscrawl:s:claims") == 0 and int(r.get("newscrawl:s:n")) == ARTICLES
