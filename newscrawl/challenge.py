"""Recognise bot walls, challenge interstitials, consent walls and empty JavaScript shells.

A naive crawler parses Cloudflare's "Just a moment..." page (status 200 or 503) as a very short
article, or drops a DataDome 403 as an ordinary HTTP error and never learns that the outlet blocks
it. :func:`detect` tells such answers apart from articles, so the crawl can count them
(``newscrawl/challenge/<kind>``), never export them, and optionally fetch them once more through the
browser (see :mod:`newscrawl.middlewares.challenge`).

Rules, in order:

1. ``status`` 403/429/503 with a vendor marker (page, title or header, e.g. ``cf-mitigated:
   challenge``) -> that vendor's kind. A bare 403 without any marker stays an ordinary HTTP error.
2. ``status`` 2xx with a marker, and the page carries no article (no JSON-LD ``articleBody``, fewer
   than :data:`ARTICLE_WORDS` words in paragraphs) -> that kind. *Weak* markers (DataDome's tag
   ``js.datadome.co``, a TCF ``sp_message_iframe``, "verify you are human") sit on top of complete
   articles too, so they also need a thin page (under :data:`THIN_WORDS` visible words): a short
   bild.de story with a consent iframe is an article, Google's "Before you continue" page is not.
3. ``status`` 2xx on an article request whose visible text is under ``shell_max_words`` words while the
   page runs scripts -> ``empty_shell``: a client-rendered app (``<div id="root"></div><script ...>``,
   or a Next.js page whose story is only in ``self.__next_f.push(...)`` script data).

Markers are matched on the first :data:`SCAN_CHARS` characters, lower-cased once, as plain
substrings (a case-insensitive regex per marker cost ~50 ms on a 350 kB page; substrings cost well
under 1 ms): every interstitial puts them in its ``<head>`` or first screen, and an article that merely
*mentions* Cloudflare does so in its body, not in its ``<title>``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

#: Statuses bot walls answer with (rule 1).
CHALLENGE_STATUSES = frozenset({403, 429, 503})
#: Characters of the decoded page searched for markers. Interstitials are small pages (Cloudflare's, DataDome's and
#: consent walls are 5-40 KB) with their markers in the head; scanning a 100 KB article to its end for ~30
#: needles cost ~1 ms a page (py-spy: 10% of a crawl's CPU) and found nothing more.
SCAN_CHARS = 48_000
#: Words in <p> elements from which a 2xx page counts as carrying an article (rule 2).
ARTICLE_WORDS = 120
#: Visible words under which a page with only a weak marker is a wall (rule 2).
THIN_WORDS = 150
#: Default for rule 3 (NEWSCRAWL_CHALLENGE_SHELL_MAX_WORDS).
SHELL_MAX_WORDS = 40


@dataclass(frozen=True)
class Markers:
    """One vendor's signs, all lower-case: a ``<title>`` regex, strong and weak page substrings."""

    title: re.Pattern[str] | None = None
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None  # strong, for the rare sign a substring cannot say


# Order matters: a Cloudflare page also says "enable javascript and cookies".
MARKERS: dict[str, Markers] = {
    "cloudflare": Markers(
        title=re.compile(r"^\s*(?:just a moment(?:\.\.\.|…)|attention required! \| cloudflare)"),
        strong=("_cf_chl_opt", "cf-chl-", "cf_chl_", "challenge-platform/h/b/orchestrate",  # /jsd/: normal pages
                "challenge-platform/h/g/orchestrate", "checking if the site connection is secure",
                "checking your browser before accessing"),
        weak=("enable javascript and cookies to continue",)),
    "datadome": Markers(strong=("captcha-delivery.com", "please enable js and disable any ad blocker"),
                        weak=("datadome",)),
    "perimeterx": Markers(strong=("px-captcha", "captcha.px-cdn.net"),
                          weak=("_pxappid", "press &amp; hold", "press & hold")),
    "imperva": Markers(title=re.compile(r"^\s*pardon our interruption"),
                       strong=("incapsula incident id", "_incapsula_resource")),
    # Akamai's own error page: "Access Denied" ... "Reference&#32;&#35;18.5e1c1002.1764000000.1a2b3c"
    "akamai": Markers(strong=("errors.edgesuite.net",),
                      pattern=re.compile(r"<title>\s*access denied\s*</title>.*?reference(?:\s|&#32;)*(?:#|&#35;)"
                                         r"\d+\.[0-9a-f]+", re.S)),
    "consent": Markers(title=re.compile(r"^\s*before you continue"),
                       strong=("consent.google.com", "consent.youtube.com", "consent.yahoo.com"),
                       weak=("sp_message_iframe", "sp_message_container")),
    "captcha": Markers(title=re.compile(r"are you a robot|robot check|verify you are (?:a )?human|security check|"
                                        r"captcha"),
                       weak=("verifying you are human", "verify you are human", "verify you are a human")),
}

# Response headers that only bot walls send (lower-case name -> kind, required value substring).
HEADER_MARKERS: dict[str, tuple[str, str]] = {
    "cf-mitigated": ("cloudflare", "challenge"),
    "x-datadome": ("datadome", ""),
    "x-dd-b": ("datadome", ""),
    "x-px-blocked": ("perimeterx", ""),
}

_TITLE = re.compile(r"<title[^>]*>([^<]{0,300})")
_ARTICLE_BODY = re.compile(r"\"articleBody\"\s*:\s*\"(?:[^\"\\]|\\.){200}", re.S)
_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_VISIBLE = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
_PARAGRAPHS = ("//p[not(ancestor::nav or ancestor::footer or ancestor::form or ancestor::*[@role='dialog'])]"
               "//text()")
_PARAGRAPH_TEXT = etree.XPath(_PARAGRAPHS, regexp=False, smart_strings=False)


@dataclass(frozen=True)
class Challenge:
    """A page that is a bot wall, not content: ``kind`` names the stat, ``reason`` goes to the log."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Marker:
    kind: str
    text: str
    strong: bool


def count_words(text: str) -> int:
    """Words for the size guards; a CJK character counts as half a word (no spaces to split on)."""
    return len(_WORD.findall(_CJK.sub(" ", text))) + len(_CJK.findall(text)) // 2


# Substrings shared by several markers: the page head is scanned for each gate once, and a marker only where its
# gate was found (16 scans of 48 kB instead of 27, ~0.15 ms a page; a short gate scans slower than a long needle,
# so a gate is kept only where it replaces more than two scans' worth). A marker without a gate is its own gate.
_GATE_WORDS = ("chl", "challenge-platform/h/", "captcha", "incapsula", "consent.", "sp_message_", "you are")


def _gates() -> dict[str, tuple[str, ...]]:
    gates: dict[str, list[str]] = {}
    for markers in MARKERS.values():
        for needle in (*markers.strong, *markers.weak):
            gate = next((g for g in _GATE_WORDS if g in needle), needle)
            gates.setdefault(gate, []).append(needle)
    return {gate: tuple(needles) for gate, needles in gates.items()}


_GATES = _gates()


def _needles_in(head: str) -> set[str]:
    """The marker substrings present in ``head`` (lower-cased page head)."""
    return {n for gate, needles in _GATES.items() if gate in head for n in needles if n in head}


def vendor_marker(html: str, headers: Mapping[str, str] | None = None, *,
                  skip: tuple[str, ...] = (), low: str | None = None) -> Marker | None:
    """The first challenge marker in headers, title or page head, else None (``low``: html lower-cased)."""
    for name, (kind, needle) in HEADER_MARKERS.items():
        value = (headers or {}).get(name)
        if value is not None and needle in value.lower():
            return Marker(kind, f"header {name}: {value[:40]}", True)
    head = (low if low is not None else html[:SCAN_CHARS].lower())[:SCAN_CHARS]
    present = _needles_in(head)
    m = _TITLE.search(head)
    title = " ".join(m.group(1).split()) if m else ""
    weak: Marker | None = None
    for kind, markers in MARKERS.items():
        if kind in skip:
            continue
        if title and markers.title is not None and markers.title.search(title):
            return Marker(kind, f"<title>{title[:50]}", True)
        for needle in markers.strong:
            if needle in present:
                return Marker(kind, needle, True)
        if markers.pattern is not None and (found := markers.pattern.search(head)):
            return Marker(kind, " ".join(found.group(0).split())[:60], True)
        if weak is None:
            needle = next((n for n in markers.weak if n in present), None)
            if needle is not None:
                weak = Marker(kind, needle, False)
    return weak


def _selector(html: str, selector: Any = None) -> Any:
    """``selector`` may be a parsed Selector, a zero-argument callable returning one (parse on demand), or None."""
    if callable(selector):
        selector = selector()
    if selector is not None:
        return selector
    from parsel import Selector  # noqa: PLC0415 - only pages that reach a size guard pay for a parse

    return Selector(text=html or "<html></html>")


_P_TAG = re.compile(r"<p[\s>]", re.I)


def _paragraph_tags(html: str, enough: int = 5) -> int:
    """``<p>`` tags in the page, counted up to ``enough``: callers only ask "at least n?", and stopping early
    spares a full scan of a 100 kB article page (3 counts of the whole page cost ~0.25 ms)."""
    n = 0
    for _ in _P_TAG.finditer(html):
        n += 1
        if n >= enough:
            break
    return n


def visible_words(html: str, selector: Any = None) -> int:
    """Words of text a reader would see (script, style, noscript and template content excluded)."""
    return count_words(" ".join(_selector(html, selector).xpath(_VISIBLE).getall()))


def has_article(html: str, selector: Any = None) -> bool:
    """A real story is on the page (JSON-LD articleBody, or enough paragraph text)."""
    if _ARTICLE_BODY.search(html):
        return True
    if _paragraph_tags(html, 2) < 2:
        return False
    return _paragraph_words_at_least(_selector(html, selector).root, ARTICLE_WORDS)


def _paragraph_words_at_least(root: Any, enough: int) -> bool:
    """count_words(paragraph text) >= enough, reading paragraphs only until it is (lxml directly: parsel's
    getall() and a whole-page count cost ~0.35 ms on a long article, this ~0.07 ms)."""
    words = cjk = 0
    for text in _PARAGRAPH_TEXT(root):
        # count_words of the joined text, summed node by node: \w+ runs never span nodes (joined by " "),
        # and the CJK characters are halved only at the end, as count_words does
        words += len(_WORD.findall(_CJK.sub(" ", text)))
        cjk += len(_CJK.findall(text))
        if words + cjk // 2 >= enough:
            return True
    return False


def is_empty_shell(html: str, *, max_words: int = SHELL_MAX_WORDS, selector: Any = None,
                   low: str | None = None) -> bool:
    """A script-driven page whose visible text is nearly nothing: the article arrives by JavaScript.

    Cheap first: five or more ``<p`` tags or a JSON-LD articleBody mean there is text to extract.
    """
    low = low if low is not None else html.lower()
    if "<script" not in low or _paragraph_tags(html) >= 5 or _ARTICLE_BODY.search(html):
        return False
    return visible_words(html, selector) < max_words


def detect(status: int, html: str, headers: Mapping[str, str] | None = None, *, article: bool = False,
           shell_max_words: int = SHELL_MAX_WORDS, selector: Any = None) -> Challenge | None:
    """Classify one answer; None means "treat it as an ordinary page or HTTP error".

    ``headers`` are lower-case names -> values; ``article`` says the request expects an article
    (rule 3 applies only then: a sitemap or a feed is no shell); ``selector`` is a parsel Selector of
    ``html`` to reuse, or a callable returning one (called only when a size guard needs the tree).
    """
    # Only the page head is lower-cased for the marker scan (in vendor_marker): lower-casing and searching a whole
    # 100 KB page for every response cost ~1.5 ms a page (10% of a crawl's CPU in py-spy). The rest works on the
    # raw text and is reached only for pages that are candidates.
    if status in CHALLENGE_STATUSES:
        # A consent banner on an outlet's own 403 page is not what blocked us.
        marker = vendor_marker(html, headers, skip=("consent",))
        if marker is not None:
            return Challenge(marker.kind, f"HTTP {status}, {marker.text!r}")
        return None
    if not 200 <= status < 300:
        return None
    if (not article or shell_max_words <= ARTICLE_WORDS) and has_article(html, selector):
        # A story is on the page (a JSON-LD articleBody, or paragraphs of 120+ words): rule 2 needs its absence
        # and rule 3 a page under shell_max_words visible words, so neither can fire and the marker scan of the
        # page head (~0.3 ms on a 100 kB page) is skipped. The tree parsed here is the one extraction reads.
        return None
    marker = vendor_marker(html, headers)
    if marker is not None and not has_article(html, selector):
        if marker.strong or visible_words(html, selector) < THIN_WORDS:
            return Challenge(marker.kind, f"HTTP {status} without an article, {marker.text!r}")
    if article and shell_max_words > 0 and _paragraph_tags(html) < 5 and \
            is_empty_shell(html, max_words=shell_max_words, selector=selector):
        return Challenge("empty_shell", f"HTTP {status}, under {shell_max_words} visible words and scripts")
    return None


def response_headers(response: Any) -> dict[str, str]:
    """Scrapy ``Headers`` -> {lower-case name: first value} for :func:`detect`."""
    out: dict[str, str] = {}
    for name, values in response.headers.items():
        key = name.decode("latin-1").lower() if isinstance(name, bytes) else str(name).lower()
        value = values[0] if values else b""
        out[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return out


def is_html(response: Any) -> bool:
    """Only HTML can be an interstitial; a sitemap, a feed or an image never is."""
    ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if "html" in ctype:
        return True
    if ctype and not ctype.startswith("text/plain"):
        return False
    head = response.body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))
