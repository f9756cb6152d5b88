"""Binary bodies served as text/html become plain (binary) Responses, with a stat.

A CDN error placeholder (a JPEG), a PDF behind an article URL, a double-gzipped page: all arrive with
``Content-Type: text/html``, so Scrapy builds an HtmlResponse and the extractor happily turns JPEG bytes
into an "article" (measured: a 20 KB JPEG served as text/html came out as an Article). As a plain
Response it is skipped by the spider's text check instead (``newscrawl/discovery/article_non_text``).

Detection is by magic number (PDF, JPEG, PNG, GIF, WebP/RIFF, zip/docx, gzip, fonts, MP4, Ogg, MP3) or
NUL bytes in the first KiB, which text in an ASCII-compatible charset never has (UTF-16/32 pages, with a
BOM or declared in Content-Type, are left alone).

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.sniff.BinarySniffMiddleware": 587}

Why 587: process_response runs in descending order: after decompression (590) has produced the real
bytes, before the charset decision (585) and meta-refresh handling (580) look at them as text.

Stat: ``newscrawl/sniff/binary_as_html/<kind>``; the response gets the flag ``binary_as_html``.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.http import HtmlResponse, Request, Response

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/sniff/binary_as_html/"
FLAG = "binary_as_html"

MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"RIFF", "riff"),  # WebP, WAV, AVI
    (b"PK\x03\x04", "zip"),  # also docx/xlsx/epub
    (b"\x1f\x8b", "gzip"),  # compressed twice, or a .gz without Content-Encoding
    (b"wOFF", "font"),
    (b"wOF2", "font"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)


def binary_kind(body: bytes, content_type: bytes = b"") -> str | None:
    """"pdf", "jpeg", ..., "nul_bytes" when ``body`` is not text, else None."""
    head = body[:1024]
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        return "mp4"
    if b"\x00" in head:
        wide = head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))
        if not wide and b"utf-16" not in content_type.lower() and b"utf-32" not in content_type.lower():
            return "nul_bytes"
    return None


class BinarySniffMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """An HtmlResponse whose bytes are not text -> a plain Response flagged ``binary_as_html``."""
        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        content_type = response.headers.get(b"Content-Type") or b""
        kind = binary_kind(response.body, content_type)
        if kind is None:
            return response
        self.stats.inc_value(STAT + kind)
        logger.warning("%s is served as %s but its body is %s (%d bytes): handled as binary",
                       response.url[:300], content_type.decode("latin-1")[:60] or "text/html", kind,
                       len(response.body))
        attrs = {name: getattr(response, name) for name in Response.attributes}
        attrs["flags"] = [*response.flags, FLAG]
        return Response(**attrs)
