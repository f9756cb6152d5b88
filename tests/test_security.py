"""The remote-access guard: a job started with TELNETCONSOLE_ENABLED=1 / REMOTE_CONTROL_ENABLED=1 (as a scrapyd
``schedule.json`` can pass) opens neither console."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_scrapy, stats_of

pytestmark = pytest.mark.scrapyd

TINY = '''
import scrapy

class Tiny(scrapy.Spider):
    name = "tiny"

    async def start(self):
        return
        yield
'''
GUARD = "newscrawl.extensions.security.RemoteAccessGuard"


def run(tmp_path: Path, extensions: dict[str, int]) -> tuple[str, dict]:
    spider = tmp_path / "tiny.py"
    spider.write_text(TINY, "utf-8")
    proc = run_scrapy(["runspider", str(spider), "-s", "TELNETCONSOLE_ENABLED=1", "-s", "REMOTE_CONTROL_ENABLED=1",
                       "-s", f"EXTENSIONS={json.dumps(extensions)}"], timeout=60,
                      env={"NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3"),
                           "NEWSCRAWL_FEED_URI": str(tmp_path / "out.jsonl")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr, stats_of(proc.stderr)


def test_guard_refuses_consoles_asked_for_on_the_command_line(tmp_path: Path) -> None:
    log, stats = run(tmp_path, {GUARD: -1000})
    assert "Refused TELNETCONSOLE_ENABLED=1 (set from the command line / scrapyd setting=)" in log
    assert "Refused REMOTE_CONTROL_ENABLED=1" in log
    assert "Telnet console listening" not in log
    assert "Remote control HTTP server listening" not in log
    assert stats["newscrawl/security/refused/telnetconsole_enabled"] == 1
    assert stats["newscrawl/security/refused/remote_control_enabled"] == 1


def test_guard_unhooks_a_console_built_before_it(tmp_path: Path) -> None:
    # someone moved the telnet console ahead of the guard: it is built, but never listens
    log, _ = run(tmp_path, {GUARD: -1000, "scrapy.extensions.telnet.TelnetConsole": -2000})
    assert "Refused the telnet console (scrapy.extensions.telnet.TelnetConsole was built before the guard)" in log
    assert "Telnet console listening" not in log
    assert "Remote control HTTP server listening" not in log
