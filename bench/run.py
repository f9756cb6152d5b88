"""newscrawl benchmark: full pipeline vs bare Scrapy, generic layer vs trafilatura, state costs.

    python bench/run.py            # `make bench`: 3,000-page site, whole corpus, stores at 1 M and 10 M
    python bench/run.py --quick    # `make bench-quick`: 600 pages, 120 corpus pages, stores at 100 k

Prints figures and ratios; asserts nothing. The last line is
``pipeline/bare page rate X.XX; generic/trafilatura ms/page Y.YY; body F1 generic Z.ZZZ vs trafilatura W.WWW``.
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from benchsite import running_site  # noqa: E402

CORPUS = Path(os.environ.get("NEWSCRAWL_CORPUS", REPO.parent / "shared" / "corpus"))
SCORER = CORPUS.parent / "eval" / "score.py"


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run a child; return wall time, CPU seconds and peak RSS of that child alone (os.wait4)."""
    start = time.monotonic()
    with open(cwd / "crawl.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    text = (cwd / "crawl.log").read_text("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
    stat = lambda key: float(m.group(1)) if (m := re.search(rf"'{key}': ([\d.]+)", text)) else 0.0  # noqa: E731
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "pages": stat("response_received_count"), "items": stat("item_scraped_count"),
            "elapsed": stat("elapsed_time_seconds") or wall}


def _common(concurrency: int) -> list[str]:
    return ["-s", f"CONCURRENT_REQUESTS={concurrency}", "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            "-s", "LOG_LEVEL=INFO", "-s", "TELNETCONSOLE_ENABLED=False", "-s", "REMOTE_CONTROL_ENABLED=False"]


def pipeline_crawl(base: str, workdir: Path, concurrency: int, *extra: str) -> tuple[dict[str, Any], str]:
    """The bench outlet through the full newscrawl pipeline (project settings); -> (figures, crawl log)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), NEWSCRAWL_FEED_URI=str(workdir / "items.jsonl"),
               NEWSCRAWL_STATE_PATH=str(workdir / "state.sqlite3"))
    run = run_measured([sys.executable, "-m", "scrapy", "runspider", "bench/outlet_spider.py", "-a", f"base={base}",
                        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                        "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1", *_common(concurrency), *extra], REPO, env)
    log = (REPO / "crawl.log").read_text("utf-8", "replace")
    (REPO / "crawl.log").unlink()
    return run, log


def crawl_site(n_pages: int, concurrency: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        with running_site(n_pages, tmpdir) as base:
            bare_dir = tmpdir / "bare"
            bare_dir.mkdir()
            bare = run_measured([sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
                                 "-a", f"base={base}", "-o", str(bare_dir / "items.jsonl"), *_common(concurrency)],
                                bare_dir, dict(os.environ, PYTHONPATH=str(REPO)))
            pipeline, _ = pipeline_crawl(base, tmpdir, concurrency)
    return bare, pipeline


def memory_run(n_pages: int, concurrency: int, every: int = 5000) -> dict[str, Any]:
    """The full pipeline over a long crawl: resident memory logged every ``every`` pages."""
    from newscrawl import settings as project_settings  # noqa: PLC0415

    # the project's extensions stay on: -s EXTENSIONS replaces the project's dict rather than adding to it
    extensions = json.dumps({**project_settings.EXTENSIONS, "bench.memprobe.MemoryProbe": 0})
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        with running_site(n_pages, tmpdir) as base:
            run, log = pipeline_crawl(base, tmpdir, concurrency, "-s", f"EXTENSIONS={extensions}",
                                      "-s", f"BENCH_MEMPROBE_EVERY={every}")
    run["rss"] = [(int(p), float(r)) for p, r in re.findall(r"memprobe pages=(\d+) rss_mb=([\d.]+)", log)]
    return run


def load_scorer() -> Any:
    spec = importlib.util.spec_from_file_location("newscrawl_score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


TIMED_PASSES = 5


def corpus_extraction(limit: int | None) -> dict[str, Any]:
    """Generic layer vs trafilatura alone (ms/page, body F1), and outlet extraction ms/page."""
    import parsel
    import trafilatura
    from scrapy.http import HtmlResponse
    from scrapy.settings import Settings
    from scrapy.spiderloader import get_spider_loader

    from newscrawl import settings as project_settings
    from newscrawl.extract import extract_article
    from newscrawl.extract.generic import generic_body
    from newscrawl.extract.site import SiteRules
    from newscrawl.middlewares.localfile import utf8_if_valid
    from newscrawl.outlets import OutletRouter
    from newscrawl.processors import clear_clean_text_cache

    score = load_scorer()
    settings = Settings()
    settings.setmodule(project_settings)
    router = OutletRouter(get_spider_loader(settings))
    rows = [json.loads(line) for line in (CORPUS / "pages.jsonl").read_text("utf-8").splitlines() if line.strip()]
    rows = rows[:limit] if limit else rows
    pages = []
    for row in rows:
        raw = gzip.decompress((CORPUS / row["path"]).read_bytes())
        resp = HtmlResponse(url=row.get("url") or "https://page.invalid/", body=raw, encoding=utf8_if_valid(raw))
        pages.append((row, resp.url, resp.text, router.route(row.get("url"))))
    outlet_pages = [(spidercls, url, html) for _, url, html, spidercls in pages if spidercls is not None]
    # Outlet pages first, in a process that has only read the corpus: timed after the trafilatura comparison
    # below, the same code measured 3-10 % slower (the 324 parses and trafilatura's caches left behind).
    # A first pass pays what a crawl pays once per outlet (selectors and regexes compiled) and is not timed;
    # then TIMED_PASSES passes, each page's parse and extraction timed apart in CPU time, and a page's figure is
    # its least: the extraction is deterministic CPU work, and other jobs on this shared 2-core machine only ever
    # add to a pass (wall time of one pass varied by +-10 % from run to run).
    per_page: list[tuple[float, float]] = [(float("inf"), float("inf"))] * len(outlet_pages)
    for timed in (False, *[True] * TIMED_PASSES):
        for i, (spidercls, url, html) in enumerate(outlet_pages):
            clear_clean_text_cache()  # the first pass cleaned these very texts; a crawl sees a page once
            t3 = time.process_time()
            sel = parsel.Selector(text=html)
            t4 = time.process_time()
            extract_article(sel, url, SiteRules.of(spidercls), html=html, source=spidercls.name)
            t5 = time.process_time()
            if timed:
                per_page[i] = (min(per_page[i][0], (t4 - t3) * 1000), min(per_page[i][1], (t5 - t4) * 1000))
    gen_ms, tra_ms = [], []
    gen_tri, tra_tri = [], []
    for row, _url, html, _ in pages:
        truth = (row.get("truth") or {}).get("body") or ""
        t0 = time.perf_counter()
        root = parsel.Selector(text=html).root
        paras = generic_body(root, row.get("url"), html=html)
        t1 = time.perf_counter()
        tra = trafilatura.extract(html, url=row.get("url"), include_comments=False) or ""
        t2 = time.perf_counter()
        gen_ms.append((t1 - t0) * 1000)
        tra_ms.append((t2 - t1) * 1000)
        gen_tri.append(score.body_shingle_counts(truth, "\n\n".join(paras)))
        tra_tri.append(score.body_shingle_counts(truth, tra))
    parse_ms = [p for p, _ in per_page]
    outlet_ms = [e for _, e in per_page]
    return {"pages": len(rows), "gen_ms": statistics.mean(gen_ms), "tra_ms": statistics.mean(tra_ms),
            "gen_ms_median": statistics.median(gen_ms), "tra_ms_median": statistics.median(tra_ms),
            "gen_f1": score.aeb_prf(gen_tri)[2], "tra_f1": score.aeb_prf(tra_tri)[2],
            "outlet_pages": len(outlet_ms), "outlet_ms_median": statistics.median(outlet_ms) if outlet_ms else None,
            "parse_ms_median": statistics.median(parse_ms) if parse_ms else None,
            "outlet_total_median": statistics.median(map(sum, zip(parse_ms, outlet_ms, strict=True))) if outlet_ms
            else None}


def store_costs(sizes: list[int]) -> list[dict[str, Any]]:
    from bench.stores import measure  # noqa: PLC0415

    return [measure(n) for n in sizes]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smaller site, corpus sample and stores (< 2 minutes)")
    ap.add_argument("--pages", type=int, help="site size (default 3000, quick 600)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-stores", action="store_true")
    ap.add_argument("--memory-pages", type=int, help="long crawl for memory flatness (default 50000, quick: none)")
    a = ap.parse_args()
    n_pages = a.pages or (600 if a.quick else 3000)

    print(f"== crawl: {n_pages} generated ~100 KB pages on 127.0.0.1, concurrency {a.concurrency}")
    bare, pipe = crawl_site(n_pages, a.concurrency)
    print(f"{'run':<10}{'pages':>8}{'items':>8}{'s':>8}{'pages/s':>10}{'CPU ms/page':>13}{'peak RSS MB':>13}")
    for name, r in (("bare", bare), ("pipeline", pipe)):
        rate = r["pages"] / r["elapsed"] if r["elapsed"] else 0
        print(f"{name:<10}{r['pages']:>8.0f}{r['items']:>8.0f}{r['elapsed']:>8.1f}{rate:>10.1f}"
              f"{1000 * r['cpu'] / max(r['pages'], 1):>13.2f}{r['rss_mb']:>13.0f}")
    ratio = (pipe["pages"] / pipe["elapsed"]) / (bare["pages"] / bare["elapsed"])
    print(f"pipeline/bare page rate {ratio:.2f}")

    ext = None
    if (CORPUS / "pages.jsonl").is_file():
        ext = corpus_extraction(120 if a.quick else None)
        print(f"\n== corpus extraction ({ext['pages']} real pages, each parsed once)")
        print(f"{'extractor':<22}{'ms/page mean':>14}{'median':>10}{'body F1':>10}")
        print(f"{'newscrawl generic':<22}{ext['gen_ms']:>14.2f}{ext['gen_ms_median']:>10.2f}{ext['gen_f1']:>10.3f}")
        print(f"{'trafilatura alone':<22}{ext['tra_ms']:>14.2f}{ext['tra_ms_median']:>10.2f}{ext['tra_f1']:>10.3f}")
        if ext["outlet_ms_median"] is not None:
            print(f"outlet extraction (site + JSON-LD + meta), {ext['outlet_pages']} outlet pages, median CPU ms/page "
                  f"(a page's least of {TIMED_PASSES} passes): "
                  f"extraction {ext['outlet_ms_median']:.2f} + lxml parse {ext['parse_ms_median']:.2f} "
                  f"(together {ext['outlet_total_median']:.2f})")
    else:
        print(f"\n(corpus not found at {CORPUS}: extraction comparison skipped)")

    memory_pages = a.memory_pages if a.memory_pages is not None else (0 if a.quick else 50_000)
    if memory_pages:
        print(f"\n== memory over a long crawl: {memory_pages:,} pages, full pipeline (pages generated on request)")
        mem = memory_run(memory_pages, a.concurrency, every=max(memory_pages // 10, 1))
        print(f"{mem['pages']:.0f} pages in {mem['elapsed']:.0f} s, {mem['items']:.0f} items, peak RSS "
              f"{mem['rss_mb']:.0f} MB")
        print("pages      " + "".join(f"{p:>9,}" for p, _ in mem["rss"]))
        print("RSS MB     " + "".join(f"{r:>9.0f}" for _, r in mem["rss"]))
        if len(mem["rss"]) >= 2:
            print(f"RSS at {mem['rss'][-1][0]:,} pages / RSS at {mem['rss'][0][0]:,} pages: "
                  f"{mem['rss'][-1][1] / mem['rss'][0][1]:.2f}")

    if not a.no_stores:
        sizes = [100_000] if a.quick else [1_000_000, 10_000_000]  # 10 M takes ~20 minutes to load
        print("\n== state costs")
        print(f"{'store':<30}{'entries':>12}{'µs/lookup':>11}{'bytes/entry':>13}")
        for r in store_costs(sizes):
            for name in r["parts"]:
                p = r[name]
                print(f"{p['label']:<30}{r['n']:>12,}{p['us']:>11.2f}{p['bytes']:>13.1f}  {p['note']}")

    if ext:
        print(f"pipeline/bare page rate {ratio:.2f}; generic/trafilatura ms/page {ext['gen_ms'] / ext['tra_ms']:.2f}; "
              f"body F1 generic {ext['gen_f1']:.3f} vs trafilatura {ext['tra_f1']:.3f}")
    else:
        print(f"pipeline/bare page rate {ratio:.2f}; generic/trafilatura ms/page n/a; body F1 n/a")


if __name__ == "__main__":
    main()
