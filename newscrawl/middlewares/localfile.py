"""Answers requests that carry ``meta["newscrawl_file"]`` from a saved page on disk (.html or .html.gz).

Used by batch extraction, so saved pages go through the same downloader stack, callbacks and item
pipelines as live ones; such requests never reach the network.
"""
from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 32 * 1024 * 1024


def read_saved_page(path: str | Path) -> bytes:
    """Bytes of a saved page, gunzipped when it is gzip (by magic bytes, not by name), size-capped."""
    with open(path, "rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=fh) as gz:
                data = gz.read(MAX_FILE_BYTES + 1)
        else:
            data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"saved page larger than {MAX_FILE_BYTES} bytes: {path}")
    return data


class LocalFileMiddleware:
    def __init__(self, stats: Any) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> LocalFileMiddleware:
        return cls(crawler.stats)

    def process_request(self, request: Any) -> Any:
        path = request.meta.get("newscrawl_file")
        if not path:
            return None
        body = read_saved_page(path)
        self.stats.inc_value("newscrawl/localfile/pages")
        return HtmlResponse(url=request.url, body=body, request=request, flags=["localfile"],
                            encoding=utf8_if_valid(body))


def utf8_if_valid(body: bytes) -> str | None:
    """"utf-8" when the bytes are valid UTF-8 with non-ASCII text, else None (let the page declare).

    Saved pages are often re-encoded to UTF-8 while their <meta charset> still says "gb2312" or
    "iso-8859-1"; decoding them as declared turns every character into mojibake. Text in a legacy
    multi-byte or 8-bit encoding is almost never valid UTF-8 by accident, so validity is decisive.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8" if not body.isascii() else None
