"""What browser rendering costs: ms/page and memory (Chromium's processes included), browser vs plain HTTP.

    .venv/bin/python bench/browser_cost.py [--pages 50] [--runs plain,plain+handlers,browser]

Each run is a real ``scrapy runspider tests/spiders/jssite.py`` crawl of a local site (tests/jssite.py)
on 127.0.0.1 with the project's settings, pipelines and export:

- ``plain``: server-rendered copies of the stories over plain HTTP (the default path);
- ``plain+handlers``: the same, with scrapy-playwright's handlers installed (NEWSCRAWL_BROWSER_ENABLED)
  but no request rendered: what installing them costs a crawl that never uses them;
- ``browser``: the script-built stories through Chromium (``-a render_js=1``).

Every 50 ms the bench sums RSS and PSS over the crawl's process tree (Scrapy, Playwright's node driver,
Chromium and its renderers; PSS splits shared pages, so it does not count Chromium's shared code once per
process). "after 10" / "after N" are the samples taken when the site had served the 10th / Nth
article: if those stay close, a long crawl does not grow without bound. ms/page is the steady state
between those two points; "first page" is the time from process start to the first article served.
Not a test: numbers depend on the machine (figures in docs/browser.md are from 2 cores).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.jssite import Site, serve  # noqa: E402

RUNS = {
    "plain": ("/plain-sitemap.xml", "/plain/", []),
    "plain+handlers": ("/plain-sitemap.xml", "/plain/", ["-s", "NEWSCRAWL_BROWSER_ENABLED=True"]),
    "browser": ("/js-sitemap.xml", "/api/story/", ["-a", "render_js=1"]),
}


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def role(pid: int) -> str:
    """scrapy | driver (Playwright's node) | browser | renderer | gpu | utility | other, from the command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "other"
    joined = b" ".join(argv)  # Chromium rewrites its children's argv into one space-separated string
    for kind in (b"renderer", b"gpu-process", b"utility", b"zygote", b"crashpad"):
        if b"--type=" + kind in joined:
            return kind.decode().replace("-process", "")
    if b"chrom" in argv[0]:
        return "browser"
    if b"scrapy" in joined:
        return "scrapy"
    return "driver" if b"node" in argv[0] else "other"


def memory_kb(pids: list[int]) -> tuple[int, int, dict[str, int]]:
    """(sum of RSS, sum of PSS, PSS by role) in kB over ``pids``."""
    rss = pss = 0
    by_role: dict[str, int] = {}
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                value = int(line.split()[1])
                pss += value
                name = role(pid)
                by_role[name] = by_role.get(name, 0) + value
    return rss, pss, by_role


def served(prefix: str) -> int:
    return sum(count for path, count in list(Site.hits.items()) if path.startswith(prefix))


def run(label: str, pages: int, workdir: Path) -> dict[str, object]:
    sitemap, prefix, extra = RUNS[label]
    out = workdir / f"{label}.jsonl"
    log = workdir / f"{label}.log"
    with serve() as base:
        cmd = [sys.executable, "-m", "scrapy", "runspider", "tests/spiders/jssite.py", "-a", f"base={base}",
               "-a", f"sitemap={sitemap}?n={pages}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "NEWSCRAWL_ALLOW_HOSTS=127.0.0.1", *extra]
        env = {**os.environ, "NEWSCRAWL_FEED_URI": str(out), "NEWSCRAWL_STATE_PATH": str(workdir / f"{label}.db"),
               "PYTHONPATH": str(REPO)}
        start = time.monotonic()
        with log.open("w") as err:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
            samples: list[tuple[float, int, int, int, int, dict[str, int]]] = []
            while proc.poll() is None and time.monotonic() - start < 1800:  # bounded: 30 min
                pids = process_tree(proc.pid)
                rss, pss, by_role = memory_kb(pids)
                samples.append((time.monotonic() - start, served(prefix), rss, pss, len(pids), by_role))
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    items = sum(1 for line in out.read_text().splitlines() if line.strip()) if out.exists() else 0

    def at(count: int) -> tuple[float, int, int, int, int, dict[str, int]]:
        return next((s for s in samples if s[1] >= count), samples[-1])

    checkpoints = sorted({10, pages // 4, pages // 2, pages})

    first, ten, last = at(1), at(10), at(pages)
    steady = (last[0] - ten[0]) * 1000 / max(pages - 10, 1)
    return {
        "run": label, "pages": pages, "items": items, "exit": proc.returncode,
        "wall_s": round(time.monotonic() - start, 2), "first_page_s": round(first[0], 2),
        "ms_per_page": round(steady, 1), "processes_max": max(s[4] for s in samples),
        "rss_mb_peak": round(max(s[2] for s in samples) / 1024, 1),
        "pss_mb_peak": round(max(s[3] for s in samples) / 1024, 1),
        "rss_mb_after_10": round(ten[2] / 1024, 1), f"rss_mb_after_{pages}": round(last[2] / 1024, 1),
        "pss_mb_after_10": round(ten[3] / 1024, 1), f"pss_mb_after_{pages}": round(last[3] / 1024, 1),
        # PSS (MB) by process role after each checkpoint: which part grows, if any
        "pss_mb_by_role": {n: {k: round(v / 1024, 1) for k, v in sorted(at(n)[5].items())} for n in checkpoints},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--runs", default="plain,plain+handlers,browser")
    args = parser.parse_args()
    if args.pages < 11:
        parser.error("--pages must be > 10 (memory is compared after 10 and after N pages)")
    with tempfile.TemporaryDirectory(prefix="browser-cost-") as tmp:
        for label in args.runs.split(","):
            print(json.dumps(run(label.strip(), args.pages, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
