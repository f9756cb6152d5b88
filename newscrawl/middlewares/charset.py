"""Decode HTML with the charset the bytes are actually in, not the first one declared.

Scrapy trusts, in order: a BOM, the Content-Type charset, ``<meta charset>``, then a guess. Real pages
break each step:

- a UTF-8 page behind a server that stamps ``Content-Type: text/html; charset=iso-8859-1`` on
  everything: header wins, every "ç" becomes "Ã§";
- a windows-1252 page declared ``charset=utf-8`` in the header (``<meta charset=windows-1252>``): every
  accented letter becomes U+FFFD, unrecoverable;
- no declaration at all: charset-normalizer picks among Latin code pages it cannot tell apart on short
  text, and calls Portuguese "cp1250" (measured: "não" -> "năo", "coração" -> "coraçăo").

Rules here (first that applies):

1. a BOM: keep Scrapy's choice (the BOM wins there already);
2. bytes that are valid UTF-8 with non-ASCII text: UTF-8, whatever is declared
   (:func:`newscrawl.middlewares.localfile.utf8_if_valid`; legacy 8-bit text is practically never
   valid UTF-8 by accident);
3. a declared charset that decodes the bytes without error, header before meta, except that a header
   saying iso-8859-1/windows-1252 (the classic server default, Apache's ``AddDefaultCharset``) yields
   to a different ``<meta charset>`` that decodes cleanly;
4. nothing usable declared: the legacy code page of the ``<html lang>`` language (windows-1250 for
   "cs", windows-1251 for "ru", ...), else charset-normalizer on the first 64 KiB, except that when it
   guesses a Latin single-byte code page (it cannot tell them apart on short text) the choice is
   windows-1252 (the WHATWG default) unless letters only Central European text has say windows-1250.

Mojibake already inside the text (a CMS that double-encoded "Ã§") is valid UTF-8 and stays as is here:
the clean stage's ftfy pass repairs it.

Enable with::

    DOWNLOADER_MIDDLEWARES = {"newscrawl.middlewares.charset.CharsetMiddleware": 585}

Why 585: process_response runs in descending order: after decompression (590) and the binary sniffer
(587), before MetaRefreshMiddleware (580), the first to read the text.

Stats: ``newscrawl/charset/<rule>`` for every page where the result differs from what Scrapy would
have used by declaration: ``utf8_over_declared``, ``meta_over_header``, ``declared_invalid``,
``guessed``, ``guessed_lang``, ``guessed_latin``.
"""
from __future__ import annotations

import codecs
import logging
import re
from typing import TYPE_CHECKING

from charset_normalizer import from_bytes
from scrapy.http import HtmlResponse, Request, Response
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from newscrawl.middlewares.localfile import utf8_if_valid

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

STAT = "newscrawl/charset/"
SNIFF_BYTES = 64 * 1024

# Servers' default charset, often stamped on pages that are really in something else.
SERVER_DEFAULTS = frozenset({"cp1252", "iso8859-1", "latin-1"})
# Latin single-byte code pages charset-normalizer confuses with each other on short text.
LATIN_SINGLE_BYTE = frozenset({
    "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin-1", "iso8859-1", "iso8859-2", "iso8859-3",
    "iso8859-4", "iso8859-9", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16",
    "mac-latin2", "mac-roman", "mac-iceland", "mac-turkish", "hp-roman8", "cp437", "cp850", "cp852", "cp858",
})
# The legacy code page of languages whose text no Western page would be in (WHATWG's locale defaults).
# CJK is left to detection: gb18030 or cp932 decode almost any bytes, so "decodes" proves nothing there.
LANG_CODEPAGES = {
    **dict.fromkeys(("pl", "cs", "sk", "hu", "hr", "sl", "ro", "bs", "sq"), "cp1250"),
    **dict.fromkeys(("ru", "uk", "bg", "be", "mk", "sr"), "cp1251"),
    "el": "cp1253", "tr": "cp1254", "az": "cp1254", "he": "cp1255", "iw": "cp1255",
    **dict.fromkeys(("ar", "fa", "ur"), "cp1256"),
    **dict.fromkeys(("lt", "lv", "et"), "cp1257"),
    "vi": "cp1258", "th": "cp874",
}
_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})\b", re.I)


def codec_name(encoding: str | None) -> str | None:
    """Python's canonical codec name ("ISO-8859-1" -> "iso8859-1", "latin1" -> "iso8859-1"), or None."""
    if not encoding:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def decodes(body: bytes, encoding: str | None) -> bool:
    if not encoding:
        return False
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def guess_encoding(body: bytes, lang: str | None = None) -> tuple[str, str]:
    """(encoding, rule) for bytes that declare nothing usable and are not UTF-8.

    ``lang`` is the page's ``<html lang>`` ("pt", "cs"): its legacy code page when it has one that
    decodes the bytes; else charset-normalizer's guess, except that a Latin single-byte guess is settled
    between windows-1252 and windows-1250 by :func:`latin_tiebreak` (always 1252 for a Western language).
    """
    sample = body[:SNIFF_BYTES]
    by_lang = LANG_CODEPAGES.get(lang or "")
    if by_lang and decodes(sample, by_lang):
        return by_lang, "guessed_lang"
    names = [n for n in (codec_name(m.encoding) for m in from_bytes(sample)) if n]
    best = names[0] if names else None
    if best is None:
        return "cp1252", "guessed_latin"
    if best in LATIN_SINGLE_BYTE:
        if lang is not None and lang not in LANG_CODEPAGES:
            return "cp1252", "guessed_latin"  # a Western language: the WHATWG default
        return latin_tiebreak(sample), "guessed_latin"
    return best, "guessed"


# Read as windows-1250, Western text shows "năo"/"ações" -> "ăo"/"ő" + vowel (Portuguese ã, õ) and
# word-final "ŕ", "ů", "ě", "ň", "č" (Italian/French à, ù, ì, ò, è: "città", "più", "così", "può");
# Central European text shows "ř", "ł", "ż", "ą", "ű", "ľ", "ť", those letters inside words ("město",
# "kůň") and Romanian "ş", "ţ" after a letter (after a digit it is an ordinal: "1º" -> "1ş").
_WESTERN = re.compile(r"[ăőĂŐ][oeOE]|[ŕůěňčŔŮĚŇČ](?![^\W\d_])")
_CENTRAL = re.compile(r"[řłżąűľťŘŁŻĄŰĽŤ]|[ůěňŮĚŇ](?=[^\W\d_])|(?<=[^\W\d_])[şţŞŢ]")


def latin_tiebreak(sample: bytes) -> str:
    """windows-1250 or windows-1252 for undeclared Latin text charset-normalizer cannot separate."""
    if not decodes(sample, "cp1252"):
        return "cp1250"  # bytes 0x81 0x8D 0x8F 0x90 0x9D are unassigned in windows-1252 ("ť" is 0x9D)
    text = sample.decode("cp1250", "replace")
    return "cp1250" if len(_CENTRAL.findall(text)) > len(_WESTERN.findall(text)) else "cp1252"


def choose_encoding(body: bytes, header: str | None, meta: str | None) -> tuple[str | None, str | None]:
    """(encoding to force, rule) for an HTML body, or (None, None) when Scrapy's own choice is right.

    ``header``/``meta`` are the declared charsets as written ("ISO-8859-1", "utf8", ...).
    """
    if not body or read_bom(body)[0]:
        return None, None
    h = codec_name(resolve_encoding(header) if header else None)
    m = codec_name(resolve_encoding(meta) if meta else None)
    declared = h or m  # what Scrapy would use
    if utf8_if_valid(body) == "utf-8":
        if declared == "utf-8":
            return None, None
        return "utf-8", ("utf8_over_declared" if declared else None)
    if body.isascii():
        return None, None
    if h and decodes(body, h):
        if h in SERVER_DEFAULTS and m and m != h and m not in SERVER_DEFAULTS and m != "utf-8" and decodes(body, m):
            return m, "meta_over_header"
        return None, None
    if m and decodes(body, m):
        return (m, "meta_over_header") if h else (None, None)
    match = _HTML_LANG.search(body[:4096])
    lang = match.group(1).decode("ascii").lower() if match else None
    encoding, rule = guess_encoding(body, lang)
    return encoding, ("declared_invalid" if declared else rule)


def with_encoding(response: HtmlResponse, encoding: str) -> HtmlResponse:
    """A copy of ``response`` decoded as ``encoding``.

    Built from the attributes directly: ``response.replace()`` would first work out the current
    encoding (charset detection over the whole body) only to discard it.
    """
    attrs = {name: getattr(response, name) for name in Response.attributes}
    return type(response)(**attrs, encoding=encoding)


class CharsetMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """An HtmlResponse pinned to the charset its bytes are in (see the module docstring)."""
        if not isinstance(response, HtmlResponse):
            return response
        body = response.body
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        header = http_content_type_encoding(content_type)
        meta = html_body_declared_encoding(body[:4096]) if body else None
        encoding, rule = choose_encoding(body, header, meta)
        if encoding is None:
            return response
        if rule:
            self.stats.inc_value(STAT + rule)
            logger.debug("Charset of %s: %s (%s; header %s, meta %s)", response.url, encoding, rule, header, meta)
        return with_encoding(response, encoding)
