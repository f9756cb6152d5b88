"""Shared test helpers: the repo root, running real `scrapy` commands, reading JSONL, the corpus."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = Path(os.environ.get("NEWSCRAWL_CORPUS", REPO.parent / "shared" / "corpus"))
# Test sites listen on 127.0.0.1, which the SSRF guard refuses by default: allow that one address (not
# 127.0.0.0/8, not "localhost") for every crawl the tests start, subprocesses included (they inherit it).
os.environ.setdefault("NEWSCRAWL_ALLOW_HOSTS", "127.0.0.1")


def run_scrapy(args: list[str], *, env: dict[str, str] | None = None, timeout: int = 120,
               cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run ``python -m scrapy ARGS`` from the project root (project settings apply), bounded in time."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("NEWSCRAWL_LOG_LEVEL", "INFO")
    full_env["PYTHONPATH"] = os.pathsep.join([str(REPO), full_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def stats_of(log: str) -> dict[str, Any]:
    """The 'Dumping Scrapy stats' dict from a crawl log."""
    import ast

    start = log.rfind("Dumping Scrapy stats:")
    if start < 0:
        return {}
    text = log[log.index("{", start):]
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            text = text[: i + 1]
            break
    text = text.replace("datetime.datetime", "").replace("tzinfo=datetime.timezone.utc", "")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        out = {}
        for line in text.splitlines():
            line = line.strip().strip("{},")
            if ": " in line and line.startswith("'"):
                k, v = line.split(": ", 1)
                try:
                    out[ast.literal_eval(k)] = ast.literal_eval(v.rstrip(","))
                except (ValueError, SyntaxError):
                    pass
        return out


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "pages.jsonl").is_file():
        pytest.skip(f"corpus not present at {CORPUS}")
    return CORPUS
