"""Benchmark the generic body layer against trafilatura alone on a page manifest.

Usage (from the repo root):
    .venv/bin/python bench/generic_eval.py [MANIFEST.jsonl] [--per-page] [--limit N] [--score PATH]

MANIFEST defaults to ../shared/corpus/pages.jsonl; each line has "id", "url", "path" (gzip HTML,
relative to the manifest's folder), "source" and "truth.body". Body quality is the shared
scorer's (scrapinghub article-extraction-benchmark) P/R/F1, per source and on the even and odd
manifest lines separately (an over-fitting check). Timing: generic_body gets the tree the
caller already parsed (as in the spiders); "trafilatura" is trafilatura.extract on the HTML
string with comments off. Both run on the same page back to back so machine load hits both.
Prints figures only: it asserts nothing and is never imported by tests.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import parsel  # noqa: E402
import trafilatura  # noqa: E402
from w3lib.encoding import html_to_unicode  # noqa: E402

from newscrawl.extract.generic import generic_body  # noqa: E402

DEFAULT_MANIFEST = REPO.parent / "shared" / "corpus" / "pages.jsonl"
DEFAULT_SCORE = REPO.parent / "shared" / "eval" / "score.py"


def load_score(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("newscrawl_bench_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load scorer {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_pages(manifest: Path, limit: int | None) -> list[dict]:
    pages = []
    with manifest.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            line = line.strip()
            if not line:
                continue
            page = json.loads(line)
            body = (page.get("truth") or {}).get("body")
            if not isinstance(body, str) or not body.strip():
                continue
            raw = gzip.decompress((manifest.parent / page["path"]).read_bytes())
            # Saved pages are mostly UTF-8 even where a stale <meta charset="gb2312"> says otherwise
            # (re-encoded on saving); only bytes that are not UTF-8 go through charset sniffing.
            try:
                page["html"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                _, page["html"] = html_to_unicode(None, raw)
            page["line"] = line_no
            pages.append(page)
            if limit and len(pages) >= limit:
                break
    return pages


def trafilatura_alone(html: str, url: str | None) -> str:
    return trafilatura.extract(html, url=url, include_comments=False) or ""


def run(pages: list[dict]) -> dict[str, dict[str, tuple[str, float]]]:
    """Per page: {"generic": (body, seconds), "trafilatura": (body, seconds)}."""
    out: dict[str, dict[str, tuple[str, float]]] = {}
    for page in pages:
        root = parsel.Selector(text=page["html"]).root
        url = page.get("url")
        t0 = time.perf_counter()
        ours = "\n\n".join(generic_body(root, url, html=page["html"]))
        t1 = time.perf_counter()
        theirs = trafilatura_alone(page["html"], url)
        t2 = time.perf_counter()
        out[page["id"]] = {"generic": (ours, t1 - t0), "trafilatura": (theirs, t2 - t1)}
    return out


def groups_of(page: dict) -> list[str]:
    return ["ALL", f"src:{page.get('source') or '?'}", "half:even" if page["line"] % 2 == 0 else "half:odd"]


def report(pages: list[dict], results: dict, score: ModuleType, per_page: bool) -> None:
    triples: dict[str, dict[str, list]] = {"generic": defaultdict(list), "trafilatura": defaultdict(list)}
    secs = {"generic": 0.0, "trafilatura": 0.0}
    failures = []
    for page in pages:
        truth = page["truth"]["body"]
        row = {}
        for name in ("generic", "trafilatura"):
            body, took = results[page["id"]][name]
            tri = score.body_shingle_counts(truth, body)
            secs[name] += took
            for g in groups_of(page):
                triples[name][g].append(tri)
            row[name] = tri
        failures.append((page, row))

    n = len(pages)
    names = sorted(triples["generic"], key=lambda g: (g != "ALL", g))
    print(f"pages {n}")
    print(f"{'group':24}{'n':>5}  {'trafilatura P/R/F1':>24}  {'generic P/R/F1':>24}  {'dF1':>7}")
    for g in names:
        tp, tr, tf = score.aeb_prf(triples["trafilatura"][g])
        gp, gr, gf = score.aeb_prf(triples["generic"][g])
        cnt = len(triples["generic"][g])
        print(f"{g:24}{cnt:>5}  {tp:7.3f} {tr:7.3f} {tf:8.4f}  {gp:7.3f} {gr:7.3f} {gf:8.4f}  {gf - tf:+7.4f}")
    ms_t = 1000 * secs["trafilatura"] / n
    ms_g = 1000 * secs["generic"] / n
    print(f"\nms/page: trafilatura {ms_t:.1f}, generic {ms_g:.1f}, ratio {ms_g / ms_t:.2f}x")

    if per_page:
        print("\nper page (generic F1 < 0.9 or 0.05 below trafilatura): id source  trafF1 -> genF1 (P/R)")
        for page, row in sorted(failures, key=lambda x: score.page_f1(x[1]["generic"])):
            fg, ft = score.page_f1(row["generic"]), score.page_f1(row["trafilatura"])
            if fg < 0.9 or fg < ft - 0.05:
                p, r = score._prec(*row["generic"]), score._rec(*row["generic"])
                print(f"  {page['id']:48} {page.get('source') or '?':16} {ft:.3f} -> {fg:.3f} ({p:.3f}/{r:.3f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", nargs="?", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--per-page", action="store_true", help="list the pages where the generic layer does badly")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    ap.add_argument("--score", type=Path, default=DEFAULT_SCORE, help="path of shared/eval/score.py")
    a = ap.parse_args(argv)
    if not a.manifest.is_file():
        print(f"manifest not found: {a.manifest}", file=sys.stderr)
        return 2
    score = load_score(a.score)
    pages = read_pages(a.manifest, a.limit)
    # warm both code paths (imports, compiled XPaths, caches) before timing
    for page in pages[:3]:
        generic_body(parsel.Selector(text=page["html"]).root, page.get("url"))
        trafilatura_alone(page["html"], page.get("url"))
    results = run(pages)
    report(pages, results, score, a.per_page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
