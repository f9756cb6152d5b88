"""Fixture sites described by ``routes.json`` files (URL -> file), as a WARC archive or a local HTTP server.

The demo replays it from a WARC; crawl tests serve it on 127.0.0.1 with every URL's scheme and host
rewritten to the local server by path (one host per server).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newscrawl.warc import WarcEntry, write_warc


@dataclass(frozen=True)
class Route:
    url: str
    path: Path
    content_type: str
    status: int = 200
    location: str | None = None


def load_routes(folder: str | Path) -> tuple[list[str], list[Route]]:
    """-> (outlet names in crawl order, routes) from every ``folder/<outlet>/routes.json``.

    Each outlet's fixture folder carries its own routes, so adding an outlet touches nothing else.
    Outlets crawl in ``demo_order`` (wire services first, so a republished story is marked as the
    duplicate, not the original), then by name.
    """
    folder = Path(folder)
    order: list[tuple[int, str]] = []
    routes: list[Route] = []
    for spec_path in sorted(folder.glob("*/routes.json")):
        spec = json.loads(spec_path.read_text("utf-8"))
        order.append((int(spec.get("demo_order", 50)), spec_path.parent.name))
        for r in spec["routes"]:
            routes.append(Route(url=r["url"], path=spec_path.parent / r["file"] if r.get("file") else spec_path,
                                content_type=r.get("type", "text/html"), status=r.get("status", 200),
                                location=r.get("location")))
    return [name for _, name in sorted(order)], routes


def build_archive(folder: str | Path, out: str | Path) -> int:
    """Write the fixture site as a WARC (one response record per route); -> record count."""
    _, routes = load_routes(folder)

    def entries() -> Iterator[WarcEntry]:
        for r in routes:
            headers = [("Content-Type", r.content_type)]
            body = b"" if r.location else r.path.read_bytes()
            if r.location:
                headers.append(("Location", r.location))
            headers.append(("Content-Length", str(len(body))))
            yield WarcEntry(url=r.url, status=r.status, headers=headers, body=body)

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return write_warc(out, entries())


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body = b"" if route.location else route.path.read_bytes()
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if route.location:
            self.send_header("Location", route.location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class FixtureServer:
    """Serves one host's routes of a fixture site on 127.0.0.1 (port 0: the OS picks a free port)."""

    def __init__(self, routes: list[Route]) -> None:
        handler = type("Handler", (_Handler,), {"routes": {path_of(r.url): r for r in routes}})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FixtureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
