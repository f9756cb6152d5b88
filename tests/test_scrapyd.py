"""A real scrapyd on 127.0.0.1, run with the shipped deploy/scrapyd.conf and basic auth: deploy the egg with
scrapyd-deploy, schedule the outlets with ``scrapy schedule --once``, wait for the jobs, check their exports.

Installs nothing: scrapyd and scrapyd-client come from requirements-dev.txt. Everything lives in a temp
dir; scrapyd is stopped at the end.
"""
from __future__ import annotations

import base64
import configparser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from newscrawl.fixturesite import build_archive
from newscrawl.items import article_schema
from tests.conftest import FIXTURES, REPO, read_jsonl, run_scrapy

pytestmark = pytest.mark.scrapyd

BIN = Path(sys.executable).parent
OUTLETS = ("reuters", "cna")
USER, PASSWORD = "crawler", "s3cret-" + base64.b32encode(os.urandom(10)).decode().lower()


@dataclass
class Scrapyd:
    url: str
    root: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]

    def get(self, endpoint: str, params: dict[str, str] | None = None, *, auth: tuple[str, str] | None = None,
            ) -> tuple[int, dict[str, Any]]:
        url = self.url + endpoint + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url)
        user, password = auth if auth is not None else (USER, PASSWORD)
        if user:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shipped_config() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "deploy" / "scrapyd.conf")
    return cfg


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    root = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    cfg = shipped_config()
    cfg["scrapyd"]["http_port"] = str(port)
    cfg["scrapyd"]["poll_interval"] = "0.3"  # the shipped 5 s would dominate the test's run time
    with (root / "scrapyd.conf").open("w") as fh:  # scrapyd reads ./scrapyd.conf
        cfg.write(fh)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCRAPY_SETTINGS_MODULE",
                                                             "SCRAPY_PROJECT", "SCRAPYD_URL")}
    env.update(HOME=str(root),  # no ~/.scrapyd.conf of the machine's user
               SCRAPYD_USERNAME=USER, SCRAPYD_PASSWORD=PASSWORD, NEWSCRAWL_LOG_LEVEL="INFO",
               NEWSCRAWL_FEED_URI=str(root / "out" / "%(name)s" / "%(time)s.jsonl"),
               NEWSCRAWL_STATE_PATH=str(root / "state.sqlite3"))
    log = (root / "scrapyd.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd", "--pidfile="], cwd=root, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Scrapyd(f"http://127.0.0.1:{port}/", root, env, proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (root / "scrapyd.log").read_text()[-3000:]
            try:
                if server.get("daemonstatus.json")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "scrapyd did not start in 30 s"
            time.sleep(0.2)
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: scrapyd and any job it still runs
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()


def test_shipped_config_is_safe() -> None:
    s = shipped_config()["scrapyd"]
    assert s["bind_address"] == "127.0.0.1"
    assert s["items_dir"] == ""           # FEEDS export only: nothing exported twice
    assert int(s["jobs_to_keep"]) > 0 and int(s["finished_to_keep"]) > 0
    assert s["username"] == "" and s["password"] == ""  # credentials come from the environment only


def test_requests_without_valid_credentials_are_refused(scrapyd: Scrapyd) -> None:
    assert scrapyd.get("daemonstatus.json", auth=("", ""))[0] == 401
    assert scrapyd.get("daemonstatus.json", auth=(USER, "wrong"))[0] == 401
    assert scrapyd.get("listprojects.json", auth=("", ""))[0] == 401
    status, body = scrapyd.get("daemonstatus.json")
    assert status == 200 and body["status"] == "ok"


def deploy(scrapyd: Scrapyd, tmp_path: Path) -> Path:
    """scrapyd-deploy from a clean copy of the project (the build must not litter the work tree)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("scrapy.cfg", "setup.py"):
        shutil.copy(REPO / name, project / name)
    for package in ("newscrawl", "spiders", "pipelines"):
        shutil.copytree(REPO / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    with (project / "scrapy.cfg").open("a") as fh:
        fh.write(f"\n[deploy:test]\nurl = {scrapyd.url}\n")
    env = {**scrapyd.env, "HOME": str(tmp_path)}
    proc = subprocess.run([str(BIN / "scrapyd-deploy"), "test", "-v", "r1"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["status"] == "ok" and answer["project"] == "newscrawl" and answer["spiders"] >= len(OUTLETS)
    return scrapyd.root / "eggs" / "newscrawl" / "r1.egg"


def wait_for_jobs(scrapyd: Scrapyd, jobs: set[str], timeout: float = 60) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        status, listing = scrapyd.get("listjobs.json", {"project": "newscrawl"})
        assert status == 200
        finished = {j["id"]: j for j in listing.get("finished", []) if j["id"] in jobs}
        if len(finished) == len(jobs):
            return finished
        assert time.monotonic() < deadline, f"jobs not finished after {timeout} s: {listing}"
        time.sleep(0.3)


def test_deploy_schedule_export(scrapyd: Scrapyd, tmp_path: Path) -> None:
    egg = deploy(scrapyd, tmp_path)
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"EGG-INFO", "newscrawl", "spiders", "pipelines"}  # no tests
    assert "newscrawl/schema/article.schema.json" in names
    for package in (REPO / "newscrawl").rglob("__init__.py"):  # every subpackage made it in
        assert package.relative_to(REPO).as_posix() in names

    archive = tmp_path / "site.warc.gz"
    build_archive(FIXTURES, archive)
    settings = {"NEWSCRAWL_REPLAY": str(archive),
                # what a careless or hostile schedule.json could pass: refused by the guard
                "TELNETCONSOLE_ENABLED": "1", "REMOTE_CONTROL_ENABLED": "1"}
    schedule = ["schedule", "--once", "--url", scrapyd.url, "--state", str(tmp_path / "schedule.json"),
                *[a for o in OUTLETS for a in ("--outlet", o)],
                *[a for k, v in settings.items() for a in ("--setting", f"{k}={v}")]]
    # the scheduler reads the jobs' seen-store to measure each outlet's publishing rate
    creds = {"SCRAPYD_USERNAME": USER, "SCRAPYD_PASSWORD": PASSWORD,
             "NEWSCRAWL_STATE_PATH": scrapyd.env["NEWSCRAWL_STATE_PATH"]}
    proc = run_scrapy(schedule, env=creds, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = dict(re.findall(r"schedule: (\w+): job (\w+)", proc.stderr))
    assert set(jobs) == set(OUTLETS), proc.stderr

    finished = wait_for_jobs(scrapyd, set(jobs.values()))
    for outlet, job in jobs.items():
        spec = json.loads((FIXTURES / outlet / "routes.json").read_text("utf-8"))
        log = (scrapyd.root / "logs" / "newscrawl" / outlet / f"{job}.log").read_text("utf-8")
        exports = sorted((scrapyd.root / "out" / outlet).glob("*.jsonl"))
        assert len(exports) == 1, (exports, log[-3000:])
        items = read_jsonl(exports[0])
        assert len(items) == spec["expect_items"], log[-3000:]
        for item in items:
            jsonschema.validate(item, article_schema())
            assert item["source"] == outlet
        # the job ran the deployed egg, not the work tree
        report = json.loads(exports[0].with_name(exports[0].stem + ".report.json").read_text("utf-8"))
        assert report["code"].startswith(str(scrapyd.root / "eggs")), report["code"]
        assert report["items"] == len(items) and report["job"] == job and report["healthy"]
        # the consoles stayed shut
        assert "Refused TELNETCONSOLE_ENABLED=1 (set from the command line / scrapyd setting=)" in log
        assert "Refused REMOTE_CONTROL_ENABLED=1" in log
        assert "Telnet console listening" not in log and "Remote control HTTP server listening" not in log
        assert "'finish_reason': 'finished'" in log
        assert finished[job]["spider"] == outlet

    # a second --once right away: nothing is due yet, nothing is scheduled
    again = run_scrapy(schedule, env=creds, timeout=60)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "job" not in again.stderr.replace("previous job", ""), again.stderr
    status, listing = scrapyd.get("listjobs.json", {"project": "newscrawl"})
    assert not listing["pending"] and not listing["running"]


def test_schedule_reports_refused_credentials(scrapyd: Scrapyd, tmp_path: Path) -> None:
    proc = run_scrapy(["schedule", "--once", "--url", scrapyd.url, "--outlet", "reuters",
                       "--state", str(tmp_path / "s.json")],
                      env={"SCRAPYD_USERNAME": USER, "SCRAPYD_PASSWORD": "wrong",
                           "NEWSCRAWL_STATE_PATH": str(tmp_path / "state.sqlite3")}, timeout=60)
    assert proc.returncode == 1
    assert "HTTP 401 (check SCRAPYD_USERNAME / SCRAPYD_PASSWORD)" in proc.stderr
