"""What distributed crawling costs: Redis memory per seen URL, and pages/s with 1 vs 2 workers.

    python bench/redis_cost.py                    # 1,000,000 records; crawl of 600 benchsite pages
    python bench/redis_cost.py --records 200000 --pages 300

Starts its own redis-server (127.0.0.1, free port, no persistence) and, for the crawls, bench/benchsite.py
(~100 KB generated news pages, 10% syndicated copies). Prints figures; asserts nothing.

Memory: ``INFO memory`` used_memory before/after recording N articles through RedisStateStore.record()
(the pipeline's call: article record + body index + 4 SimHash bands + a 4-entry paragraph sketch, with
realistic URL/date/hash lengths), and the dupefilter (one 8-byte fingerprint per request, as
RedisDupeFilter adds them). Per-million figures are used_memory deltas scaled by 1e6/N (linear: Redis
grows by whole entries; bucket hashes and band sets are pre-spread, so N >= 200 k is already
representative).

Throughput: the same site crawled by 1 and 2 workers (separate processes, one Redis), from the first
worker's start to the last one's finish (Scrapy's start_time/finish_time, process start-up excluded), and
once embedded (SQLite, no Redis) for reference; each mode --repeat times, the median run reported.
"""
from __future__ import annotations

import argparse
import ast
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newscrawl.distributed.state import RedisStateStore  # noqa: E402

WORDS = ("harbour council ferry storm bridge budget vote market library festival river tram school minister "
         "parliament inflation bank export factory strike hospital railway airport election court police").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def used(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def measure_memory(url: str, n: int) -> dict[str, float]:
    import redis

    client = redis.Redis.from_url(url)
    client.flushall()
    store = RedisStateStore(client, key_prefix="bench")
    rnd = random.Random(7)
    before = used(client)
    t0 = time.monotonic()
    batch: list[dict[str, Any]] = []
    for i in range(n):
        slug = "-".join(rnd.choice(WORDS) for _ in range(6))
        batch.append({"url": f"https://www.example-gazette.com/world/2026/11/{1 + i % 28:02d}/{slug}-{i}",
                      "content_hash": f"sha1:{rnd.getrandbits(160):040x}", "simhash": rnd.getrandbits(64),
                      "revision": 1, "modified_at": "2026-11-24T10:15:00+00:00", "lastmod": "2026-11-24T10:20:00Z",
                      "fetched_at": "2026-11-24T11:02:41+00:00", "source": "examplegazette",
                      "sketch": sorted(rnd.getrandbits(64) - (1 << 63) for _ in range(4))})
        if len(batch) == 1000:
            store.record_many(batch)
            batch = []
        if (i + 1) % 200_000 == 0:
            print(f"  {i + 1:,} records, {(used(client) - before) / (i + 1):.0f} B each, "
                  f"{(i + 1) / (time.monotonic() - t0):,.0f}/s", flush=True)
    store.record_many(batch)
    rate = n / (time.monotonic() - t0)
    state = used(client) - before
    before = used(client)
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.sadd("bench:site:dupefilter", rnd.getrandbits(64).to_bytes(8, "big"))
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    dupefilter = used(client) - before
    client.flushall()
    client.close()
    return {"n": n, "state_per_url": state / n, "dupefilter_per_url": dupefilter / n, "records_per_s": rate}


def stats_of(text: str) -> dict[str, Any]:
    start = text.rfind("Dumping Scrapy stats:")
    if start < 0:
        return {}
    body = text[text.index("{", start):text.index("}", start) + 1]
    body = re.sub(r"datetime\.datetime\(([^)]*)\)", lambda m: repr(m.group(0)), body)
    return ast.literal_eval(body)


def _dt(value: str) -> datetime:
    args = [int(x) for x in re.findall(r"\d+", value.split("tzinfo")[0])]
    return datetime(*args[:7])


def crawl(base: str, redis_url: str | None, workers: int, tmp: Path) -> dict[str, float]:
    procs = []
    for w in range(workers):
        root = tmp / f"{'redis' if redis_url else 'embedded'}{workers}-w{w}"
        root.mkdir(parents=True)  # tmp is per repetition
        env = dict(os.environ, PYTHONPATH=str(REPO), NEWSCRAWL_STATE_PATH=str(root / "state.sqlite3"),
                   NEWSCRAWL_FEED_URI=str(root / "out.jsonl"), NEWSCRAWL_LOG_LEVEL="INFO")
        env.pop("NEWSCRAWL_REDIS_URL", None)
        args = [sys.executable, "-m", "scrapy", "runspider", "bench/outlet_spider.py", "-a", f"base={base}",
                "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1",
                "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
        if redis_url:
            args += ["-s", f"NEWSCRAWL_REDIS_URL={redis_url}", "-s", f"NEWSCRAWL_REDIS_WORKER=bench{w}",
                     "-s", "NEWSCRAWL_REDIS_POLL_INTERVAL=0.2"]
        log = (root / "crawl.log").open("w")
        procs.append((subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT), root, log))
    starts, ends, pages, items, cpu = [], [], 0, 0, 0.0
    for proc, root, log in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        log.close()
        text = (root / "crawl.log").read_text("utf-8", "replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"worker failed:\n{text[-3000:]}")
        st = stats_of(text)
        starts.append(_dt(st["start_time"]))
        ends.append(_dt(st["finish_time"]))
        pages += st.get("response_received_count", 0)
        items += st.get("item_scraped_count", 0)
        cpu += usage.ru_utime + usage.ru_stime
        print(f"    {root.name}: {st.get('response_received_count', 0)} pages, {st.get('item_scraped_count', 0)} "
              f"items in {(ends[-1] - starts[-1]).total_seconds():.1f} s, "
              f"{usage.ru_utime + usage.ru_stime:.1f} s CPU", flush=True)
    wall = (max(ends) - min(starts)).total_seconds()
    return {"workers": workers, "pages": pages, "items": items, "seconds": wall, "pages_per_s": pages / wall,
            "cpu_ms_per_page": 1000 * cpu / max(pages, 1)}


def measure_throughput(url: str, n_pages: int, tmp: Path, repeat: int) -> list[tuple[str, dict[str, float]]]:
    import redis

    sys.path.insert(0, str(REPO / "bench"))
    from benchsite import running_site  # noqa: PLC0415

    with running_site(n_pages, tmp) as base:
        client = redis.Redis.from_url(url)
        runs: dict[str, list[dict[str, float]]] = {}
        for rep in range(repeat):
            for label, workers, use_redis in (("embedded (SQLite), 1 worker", 1, False), ("Redis, 1 worker", 1, True),
                                              ("Redis, 2 workers", 2, True)):
                client.flushall()
                print(f"  run {rep + 1}/{repeat}: {label}", flush=True)
                runs.setdefault(label, []).append(crawl(base, url if use_redis else None, workers, tmp / f"r{rep}"))
        client.close()
        # the median run of each mode (by pages/s): this machine is shared, single runs vary by +-20 %
        return [(label, sorted(rs, key=lambda r: r["pages_per_s"])[len(rs) // 2]) for label, rs in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="seen URLs to record (default 1,000,000)")
    parser.add_argument("--pages", type=int, default=600, help="pages of the crawled site (default 600)")
    parser.add_argument("--repeat", type=int, default=3, help="crawls per mode; the median is reported")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-crawl", action="store_true")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        proc, url = start_redis(tmp)
        try:
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
            if not opts.skip_memory:
                m = measure_memory(url, opts.records)
                print(f"memory: {m['n']:,} seen URLs recorded at {m['records_per_s']:,.0f}/s (the RECORD Lua script, pipelined)")
                print(f"  seen-store + near-duplicate index: {m['state_per_url']:.0f} B per URL = "
                      f"{m['state_per_url'] * 1e6 / 2**20:.0f} MiB per million seen URLs")
                print(f"  dupefilter: {m['dupefilter_per_url']:.0f} B per request = "
                      f"{m['dupefilter_per_url'] * 1e6 / 2**20:.0f} MiB per million requests")
            if not opts.skip_crawl:
                results = measure_throughput(url, opts.pages, tmp, opts.repeat)
                for label, r in results:
                    print(f"crawl {label}: {r['pages']:.0f} pages, {r['items']:.0f} items in {r['seconds']:.1f} s "
                          f"= {r['pages_per_s']:.1f} pages/s; {r['cpu_ms_per_page']:.1f} ms CPU per page (process total)")
                one, two = results[1][1]["pages_per_s"], results[2][1]["pages_per_s"]
                print(f"2 workers / 1 worker: {two / one:.2f}x; load average {os.getloadavg()[0]:.1f} at end")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
