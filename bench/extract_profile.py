"""Outlet extraction cost on the corpus pages routed to an outlet spider (prints figures, asserts nothing).

    python bench/extract_profile.py                 # median ms/page, overall and per outlet, over 5 rounds
    python bench/extract_profile.py --rounds 20     # a longer loop (for py-spy / cProfile)
    python bench/extract_profile.py --cprofile      # top functions by cumulative and own time
    python bench/extract_profile.py --generic       # also the generic layer vs trafilatura on all pages

Times exactly what bench/run.py's ``corpus_extraction`` times for outlet pages:
``extract_article(parsel.Selector(text=html), url, SiteRules.of(spidercls), html=html, source=...)``, the
parse (``parsel.Selector``) timed apart from the extraction.
Each page's time is the median of its rounds; the figure per outlet is the median over its pages.
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = Path(os.environ.get("NEWSCRAWL_CORPUS", REPO.parent / "shared" / "corpus"))


def load_pages(with_generic: bool) -> list[dict[str, Any]]:
    """Corpus rows decoded like bench/run.py, with the outlet spider class each routes to (or None)."""
    from scrapy.http import HtmlResponse
    from scrapy.settings import Settings
    from scrapy.spiderloader import get_spider_loader

    from newscrawl import settings as project_settings
    from newscrawl.middlewares.localfile import utf8_if_valid
    from newscrawl.outlets import OutletRouter

    settings = Settings()
    settings.setmodule(project_settings)
    router = OutletRouter(get_spider_loader(settings))
    pages = []
    for line in (CORPUS / "pages.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        spidercls = router.route(row.get("url"))
        if spidercls is None and not with_generic:
            continue
        raw = gzip.decompress((CORPUS / row["path"]).read_bytes())
        resp = HtmlResponse(url=row.get("url") or "https://page.invalid/", body=raw, encoding=utf8_if_valid(raw))
        pages.append({"url": resp.url, "html": resp.text, "spidercls": spidercls, "row": row})
    return pages


def outlet_times(pages: list[dict[str, Any]], rounds: int, clock: Any = time.perf_counter,
                 parse_ms: list[float] | None = None) -> dict[str, list[float]]:
    """Per outlet: each page's median ms over ``rounds`` runs of the extraction (the lxml parse is timed apart,
    into ``parse_ms``, as bench/run.py does)."""
    parse_ms = [] if parse_ms is None else parse_ms
    import parsel

    from newscrawl.extract import extract_article
    from newscrawl.extract.site import SiteRules

    try:
        from newscrawl.processors import clear_clean_text_cache
    except ImportError:  # an older tree (comparing before/after): nothing remembered
        def clear_clean_text_cache() -> None:
            return None

    per_page: dict[int, list[float]] = defaultdict(list)
    for _ in range(rounds):
        for i, page in enumerate(pages):
            cls = page["spidercls"]
            if cls is None:
                continue
            clear_clean_text_cache()  # every round measures a first extraction, as bench/run.py does
            t0 = clock()
            sel = parsel.Selector(text=page["html"])
            t1 = clock()
            extract_article(sel, page["url"], SiteRules.of(cls), html=page["html"], source=cls.name)
            per_page[i].append((clock() - t1) * 1000)
            parse_ms.append((t1 - t0) * 1000)
    by_outlet: dict[str, list[float]] = defaultdict(list)
    for i, times in per_page.items():
        by_outlet[pages[i]["spidercls"].name].append(statistics.median(times))
    return by_outlet


def generic_times(pages: list[dict[str, Any]]) -> tuple[float, float]:
    """Mean ms/page of the generic body extractor and of trafilatura alone, over every corpus page."""
    import parsel
    import trafilatura

    from newscrawl.extract.generic import generic_body

    gen, tra = [], []
    for page in pages:
        t0 = time.perf_counter()
        generic_body(parsel.Selector(text=page["html"]).root, page["url"], html=page["html"])
        t1 = time.perf_counter()
        trafilatura.extract(page["html"], url=page["url"], include_comments=False)
        gen.append((t1 - t0) * 1000)
        tra.append((time.perf_counter() - t1) * 1000)
    return statistics.mean(gen), statistics.mean(tra)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cprofile", action="store_true", help="print the top of a cProfile of the loop")
    ap.add_argument("--generic", action="store_true", help="also time the generic layer against trafilatura")
    ap.add_argument("--cold", action="store_true", help="no warm-up round: the first page of each outlet pays for "
                    "compiling its selectors, as in bench/run.py (use with --rounds 1)")
    ap.add_argument("--cpu", action="store_true", help="CPU time of this process instead of wall time (steadier "
                    "when other jobs share the machine)")
    a = ap.parse_args()
    pages = load_pages(a.generic)
    outlet_pages = [p for p in pages if p["spidercls"] is not None]
    if not a.cold:
        outlet_times(outlet_pages, 1)  # warm caches (imports, compiled selectors)
    if a.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        outlet_times(outlet_pages, a.rounds)
        prof.disable()
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(35)
        return
    parse_ms: list[float] = []
    by_outlet = outlet_times(outlet_pages, a.rounds, time.process_time if a.cpu else time.perf_counter, parse_ms)
    every = [t for times in by_outlet.values() for t in times]
    print(f"outlet extraction ({'CPU' if a.cpu else 'wall'}), {len(every)} outlet pages x {a.rounds} rounds: median "
          f"{statistics.median(every):.2f} ms/page (mean {statistics.mean(every):.2f}, max {max(every):.2f}); "
          f"the lxml parse before it, median {statistics.median(parse_ms):.2f} ms")
    for name in sorted(by_outlet):
        times = by_outlet[name]
        print(f"  {name:<14}{len(times):>4} pages  median {statistics.median(times):7.2f}  max {max(times):7.2f}")
    if a.generic:
        gen, tra = generic_times(pages)
        print(f"generic {gen:.2f} ms/page vs trafilatura {tra:.2f} (ratio {gen / tra:.2f}) over {len(pages)} pages")


if __name__ == "__main__":
    main()
