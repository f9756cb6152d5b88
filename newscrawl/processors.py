"""Pure normalisers for Article fields, shared by item loaders and pipelines.

Nothing here imports Scrapy or knows an outlet by name. Every function takes plain values, returns plain
values and never raises on bad input: it returns None (or an empty list) instead, so loaders can chain them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ftfy
from dateutil import parser as _du_parser
from w3lib.html import remove_comments, remove_tags, remove_tags_with_content, replace_entities
from w3lib.url import safe_url_string, url_query_cleaner

from newscrawl.mojibake import is_bad

__all__ = [
    "AGENCY_NAMES",
    "BOILERPLATE_PATTERNS",
    "canonicalize_url",
    "clean_paragraphs",
    "clean_text",
    "content_hash",
    "join_paragraphs",
    "normalize_language",
    "parse_dateline",
    "parse_datetime",
    "split_authors",
    "split_caption_credit",
    "split_paragraphs",
    "strip_boilerplate",
    "wire_from_credit",
    "word_count",
]

logger = logging.getLogger(__name__)

_MONTHS = (
    "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|"
    "sep|sept|september|oct|october|nov|november|dec|december"
)
_WEEKDAYS = "mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday"
_MONTH_OR_WEEKDAY = frozenset(f"{_MONTHS}|{_WEEKDAYS}".split("|"))


# --------------------------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------------------------

_FTFY_CONFIG = ftfy.TextFixerConfig(
    # Entities are decoded once by w3lib first; a second pass would turn a literal "&amp;lt;" into "<".
    unescape_html=False,
    # Keep the publisher's typography: the default would turn "don’t" into "don't" and “ ” into ".
    uncurl_quotes=False,
    # The default maps CJK full-width punctuation ("，" -> ",") and so rewrites Chinese/Japanese text.
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)
# ftfy costs ~0.3 ms a paragraph and is the largest cost per item; it only changes text that has control,
# C1 or ligature characters, or that its own mojibake detector (is_bad, the gate ftfy itself applies before
# re-decoding) flags. Plain ASCII and clean Unicode text skip it. The detector is newscrawl.mojibake's windowed
# version of ftfy's (same answers; ftfy's full regex search alone cost ~0.1 ms a non-ASCII paragraph).
# Character classes, each written once: the regexes below combine them.
_CONTROL_HINTS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls but tab, newline, carriage return
_LIGATURES = "\ufb00-\ufb06"
_SURROGATES = "\ud800-\udfff"
_FTFY_HINT_RE = re.compile(f"[{_CONTROL_HINTS}{_LIGATURES}]")
# Only strip "markup" that looks like a real tag, so "a < b and c > d" survives.
_TAG_HINT_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>|<!--")
# Block-level tags become a space ("one<br>two" -> "one two"); inline ones vanish ("Jo<b>h</b>n" -> "John").
_BLOCK_TAG_RE = re.compile(
    r"</?(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|table|section|article|blockquote|figure|figcaption|hr)\b[^<>]*>",
    re.I,
)
_SURROGATE_PAIR_RE = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_LONE_SURROGATE_RE = re.compile(f"[{_SURROGATES}]")
# Invisible characters that only break matching and hashing: soft hyphen, zero-width space, word joiner,
# invisible math operators, BOM. ZWJ/ZWNJ (U+200D/U+200C) are kept: they are spelling in Persian and Indic
# scripts ("می‌خواهم") and glue emoji sequences.
_INVISIBLES = "\u00ad\u200b\u2060-\u2064\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLES}]")
_WS_RE = re.compile(r"\s+")  # str patterns: \s also matches NBSP, U+2000-U+200A, U+202F, U+3000, U+2028 ...


def _fix_surrogates(text: str) -> str:
    """Join UTF-16 surrogate pairs left by bad JSON decoders and replace lone halves with U+FFFD.

    A lone "\\ud800" cannot be encoded to UTF-8, so it would crash the JSONL writer much later.
    """
    # isascii() is O(1) and isprintable() one fast pass (a surrogate is not printable); a regex scan is ~5 ns a char
    if text.isascii() or text.isprintable() or not _LONE_SURROGATE_RE.search(text):
        return text
    text = _SURROGATE_PAIR_RE.sub(
        lambda m: chr(0x10000 + ((ord(m.group()[0]) - 0xD800) << 10) + (ord(m.group()[1]) - 0xDC00)), text
    )
    return _LONE_SURROGATE_RE.sub("\ufffd", text)


# clean_text is pure, and a value is usually cleaned several times on its way to the feed (the site layer, the
# loader's input processor, clean_paragraphs, the clean pipeline). Results are remembered by input; an output
# proven to be its own cleaned form is remembered too, so the later passes are lookups. Bounded by characters
# held (a few MB), cleared when full.
_CLEANED: dict[str, str | None] = {}
_CLEANED_MAX_CHARS = 2_000_000
_cleaned_chars = 0
_MISSING = object()


def clean_text(value: str | None) -> str | None:
    """Return one line of clean text (tags, entities, mojibake, odd spaces fixed) or None when empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif type(value) is not str:
        value = str.__str__(value) if isinstance(value, str) else str(value)  # lxml's smart strings pin their tree
    known = _CLEANED.get(value, _MISSING)
    if known is not _MISSING:
        return known  # type: ignore[return-value]
    text, plain = _clean(value)
    global _cleaned_chars
    if _cleaned_chars > _CLEANED_MAX_CHARS:
        _CLEANED.clear()
        _cleaned_chars = 0
    _CLEANED[value] = text
    _cleaned_chars += len(value)
    # a plain output only differs from its input by NFC and spacing: of _is_clean's checks, only mojibake is open
    if text is not None and text != value and (
            (text.isascii() or not is_bad(text)) if plain else _is_clean(text)):
        _CLEANED[text] = text
        _cleaned_chars += len(text)
    return text


def clear_clean_text_cache() -> None:
    """Forget remembered clean_text results (bench scripts measure first passes with it)."""
    global _cleaned_chars
    _CLEANED.clear()
    _cleaned_chars = 0


def _is_clean(text: str) -> bool:
    """Whether _clean_text(text) == text, for an output of _clean_text (so: no odd whitespace or invisible
    characters left). Each check is the condition under which one step of _clean_text leaves text as it is."""
    if "<" in text or "&" in text or _has_ftfy_hint(text):
        return False
    if text.isascii():  # no surrogate, mojibake or non-NFC text
        return True
    if not text.isprintable() and _LONE_SURROGATE_RE.search(text):  # a surrogate is never printable
        return False
    return not is_bad(text) and unicodedata.is_normalized("NFC", text)


# What isprintable() (one fast pass, no regex) rules out: every control character (Cc), surrogate (Cs) and
# invisible format character (Cf: soft hyphen, zero-width space, word joiner, BOM), and every whitespace
# character but " " (tab, newline, NBSP, U+2000-U+200A, U+3000, U+2028 ...). Most paragraphs are printable.
_LIGATURE_RE = re.compile(f"[{_LIGATURES}]")  # the only ftfy hints that are printable
# Every unprintable character some step of _clean_text changes: the ftfy hints but ligatures, surrogates and
# invisible characters (whitespace is unprintable too, but only the spacing step changes it).
_SPECIAL_RE = re.compile(f"[{_CONTROL_HINTS}{_SURROGATES}{_INVISIBLES}]")


def _has_ftfy_hint(text: str) -> bool:
    """_FTFY_HINT_RE.search(text), with printable text (no control character) checked for ligatures only."""
    if text.isprintable():
        return not text.isascii() and _LIGATURE_RE.search(text) is not None
    return _FTFY_HINT_RE.search(text) is not None


def _single_spaced(text: str) -> str:
    """Whitespace runs as one space, none at the ends (" ".join(text.split())), without splitting text that
    already is (printable text's only whitespace is " ")."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())  # str.split() splits on what \s matches: 3x faster than _WS_RE.sub


def _clean_text(value: str) -> str | None:
    """clean_text's answer, computed (no memo)."""
    return _clean(value)[0]


def _clean(value: str) -> tuple[str | None, bool]:
    """(the cleaned text, whether the value was plain: no markup, entity, control, surrogate, invisible or
    ligature character, and no mojibake). Plain text only needs NFC and spacing, and its output is NFC and
    holds none of those characters either (NFC never composes them)."""
    if "<" not in value and "&" not in value and not _has_special(value) and (
            value.isascii() or not (_LIGATURE_RE.search(value) or is_bad(value))):
        text = value if value.isascii() else unicodedata.normalize("NFC", value)
        return _single_spaced(text) or None, True
    return _clean_general(value), False


def _has_special(text: str) -> bool:
    """Whether text holds a control (but whitespace), surrogate or invisible character: one regex scan, none for
    printable text (all those are unprintable)."""
    return not text.isprintable() and _SPECIAL_RE.search(text) is not None


def _clean_general(value: str) -> str | None:
    """Every step, in order: surrogates, markup, entities, mojibake and ftfy's other fixes, NFC, invisible
    characters, spacing (each skipped where it provably changes nothing)."""
    text = _fix_surrogates(value)
    if "<" in text and _TAG_HINT_RE.search(text):
        text = remove_tags_with_content(text, ("script", "style"))
        text = remove_comments(text)
        text = _BLOCK_TAG_RE.sub(" ", text)
        text = remove_tags(text)
    if "&" in text:
        # remove_illegal=False keeps unknown "&foo;" as written instead of deleting it.
        text = replace_entities(text, remove_illegal=False)
    if _has_ftfy_hint(text) or (not text.isascii() and is_bad(text)):
        text = ftfy.fix_text(text, _FTFY_CONFIG)  # "donâ€™t" -> "don’t", "CopyrightÂ©" -> "Copyright©"
    if not text.isascii():  # NFC and the invisible characters only concern non-ASCII text
        text = unicodedata.normalize("NFC", text)
        if not text.isprintable():  # NFC of printable text is printable, and invisible characters are not
            text = _INVISIBLE_RE.sub("", text)
    return _single_spaced(text) or None


def clean_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """clean_text each paragraph, dropping empties and consecutive exact duplicates."""
    if paragraphs is None:
        return []
    if isinstance(paragraphs, str):  # a bare string would otherwise be cleaned character by character
        paragraphs = [paragraphs]
    out: list[str] = []
    for paragraph in paragraphs:
        text = clean_text(paragraph)
        if text and (not out or out[-1] != text):
            out.append(text)
    return out


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Join paragraphs with a blank line (the Article body format), skipping blank ones."""
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    return "\n\n".join(p.strip() for p in paragraphs or () if p and p.strip())


_BLANK_LINE_RE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n")


def split_paragraphs(body: str) -> list[str]:
    """Split a body on blank lines; the inverse of join_paragraphs."""
    if not body:
        return []
    return [p.strip() for p in _BLANK_LINE_RE.split(body) if p.strip()]


# --------------------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------------------

_MIN_YEAR, _MAX_YEAR = 1990, 2100
_TS_MIN = datetime(_MIN_YEAR, 1, 1, tzinfo=timezone.utc).timestamp()
_TS_MAX = datetime(_MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()


def _fixed(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# Abbreviations seen on news pages. Ambiguous ones take the reading common in English-language news:
# CST = US Central (not China), IST = India (not Israel/Ireland), BST = British Summer Time (not Bangladesh).
# ET/CT/MT/PT carry no DST flag, so they map to the real zone and zoneinfo picks EST or EDT from the date.
_TZ_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": timezone.utc, "UT": timezone.utc, "GMT": timezone.utc, "Z": timezone.utc,
    "EST": _fixed(-5), "EDT": _fixed(-4), "CST": _fixed(-6), "CDT": _fixed(-5),
    "MST": _fixed(-7), "MDT": _fixed(-6), "PST": _fixed(-8), "PDT": _fixed(-7),
    "AKST": _fixed(-9), "AKDT": _fixed(-8), "HST": _fixed(-10),
    "ET": ZoneInfo("America/New_York"), "CT": ZoneInfo("America/Chicago"),
    "MT": ZoneInfo("America/Denver"), "PT": ZoneInfo("America/Los_Angeles"),
    "WET": _fixed(0), "WEST": _fixed(1), "BST": _fixed(1), "IST": _fixed(5.5),
    "CET": _fixed(1), "CEST": _fixed(2), "EET": _fixed(2), "EEST": _fixed(3), "MSK": _fixed(3),
    "SGT": _fixed(8), "HKT": _fixed(8), "PHT": _fixed(8), "MYT": _fixed(8), "AWST": _fixed(8),
    "WIB": _fixed(7), "ICT": _fixed(7), "JST": _fixed(9), "KST": _fixed(9),
    "ACST": _fixed(9.5), "AEST": _fixed(10), "AEDT": _fixed(11), "NZST": _fixed(12), "NZDT": _fixed(13),
}


def _tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil tzinfos callback; a callable also stops dateutil from trusting this machine's local zone names."""
    if name and name.upper() in _TZ_ABBREVIATIONS:
        return _TZ_ABBREVIATIONS[name.upper()]
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name:
        logger.debug("parse_datetime: unknown timezone abbreviation %r treated as no offset", name)
    return None


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        logger.debug("parse_datetime: unknown default_tz %r ignored", name)
        return None


_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")
_ISO_DATETIME_RE = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}:?\d{2}")
_NUMBER_RE = re.compile(r"\d{9,13}(?:\.\d+)?")
_RFC2822_RE = re.compile(r"(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
# "Updated 5:03 AM EST, March 31, 2022", "Published: ...", "Posted on ..."
_DATE_LABEL_RE = re.compile(
    r"^(?:(?:first|originally|last)\s+)?(?:published|posted|updated|modified|created|released|dated?|on)\b"
    r"(?:\s+(?:on|at))?\s*[:\-–—|]?\s*",
    re.I,
)
# "Mar 31, 2022 04:05PM (Updated: Apr 1 ...)" -> keep the first date only.
_DATE_UPDATE_CUT_RE = re.compile(
    r"\s*[(\[|·•,;]?\s*\b(?:last\s+)?(?:updated|modified|edited|aktualisiert|actualizado)\b.*$", re.I | re.S
)
# dateutil reads "GMT+3" POSIX-style as UTC-3; news sites mean UTC+3.
_GMT_OFFSET_RE = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")
# Two defaults that differ in every field: a field that comes out different was not in the text.
_DEFAULT_A = datetime(1904, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(1908, 2, 2, 1, 1, 1)  # both leap years, so "Feb 29" parses under either


def _in_range(d: date) -> bool:
    return _MIN_YEAR <= d.year <= _MAX_YEAR


def _finish(dt: datetime, has_time: bool, default_tz: str | None) -> str | None:
    if not _in_range(dt):
        return None
    if not has_time:
        return dt.date().isoformat()
    if dt.tzinfo is None or dt.utcoffset() is None:
        zone = _zone(default_tz) if default_tz else None
        if zone is None:
            # "2022-03-31 16:05" names no instant: it is 08:05Z in Singapore but 20:05Z in New York. Emitting
            # a fake "+00:00" would mislead; the calendar date is the honest part.
            return dt.date().isoformat()
        dt = dt.replace(tzinfo=zone)  # zoneinfo: the offset follows DST for that date (fold=0 on overlaps)
    return dt.replace(microsecond=0).isoformat(timespec="seconds")


def _from_timestamp(number: float) -> datetime | None:
    if number != number:  # NaN
        return None
    for scale in (1, 1000):  # seconds, then milliseconds
        seconds = number / scale
        if _TS_MIN <= seconds <= _TS_MAX:
            return datetime.fromtimestamp(seconds, timezone.utc)
    return None


def _parse_human(text: str) -> tuple[datetime, bool] | None:
    text = _DATE_LABEL_RE.sub("", text, count=1)
    text = _DATE_UPDATE_CUT_RE.sub("", text)
    text = _GMT_OFFSET_RE.sub(lambda m: f" {m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}", text)
    text = text.strip(" ,;|-–—·•()[]")
    if not text or len(text) > 120 or not any(c.isdigit() for c in text):
        return None
    a = _du_parser.parse(text, default=_DEFAULT_A, fuzzy=True, tzinfos=_tzinfos)
    b = _du_parser.parse(text, default=_DEFAULT_B, fuzzy=True, tzinfos=_tzinfos)
    # dateutil fills what is missing from the default (normally today): "Advertisement 12" would become the
    # 12th of this month. Demand an explicit year, month and day.
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    return a, a.hour == b.hour


def _parse_datetime(value: object, default_tz: str | None) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _finish(value, True, default_tz)
    if isinstance(value, date):
        return value.isoformat() if _in_range(value) else None
    if isinstance(value, (int, float)):
        dt = _from_timestamp(float(value))
        return _finish(dt, True, None) if dt else None
    if isinstance(value, (list, tuple)):
        for item in value:
            result = _parse_datetime(item, default_tz)
            if result:
                return result
        return None
    if not isinstance(value, str):
        return None
    text = _WS_RE.sub(" ", value).strip()
    if not text or len(text) > 300:
        return None
    if _NUMBER_RE.fullmatch(text):
        dt = _from_timestamp(float(text))
        return _finish(dt, True, None) if dt else None
    if _ISO_DATE_RE.fullmatch(text):
        try:
            parsed_date = datetime.strptime(text.replace("-", ""), "%Y%m%d").date()
        except ValueError:
            return None
        return parsed_date.isoformat() if _in_range(parsed_date) else None
    if _ISO_DATETIME_RE.match(text):
        try:  # 3.11 fromisoformat takes "Z", "+0800", "+08", fractions of any length
            return _finish(datetime.fromisoformat(text), True, default_tz)
        except ValueError:
            pass
    if _RFC2822_RE.match(text):
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            # RFC 2822 "-0000" means "UTC, sender's zone unknown": Python returns it naive, yet it is an instant.
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            return _finish(dt, True, default_tz)
    parsed = _parse_human(text)
    if parsed is None:
        return None
    return _finish(parsed[0], parsed[1], default_tz)


def parse_datetime(value: object, default_tz: str | None = None) -> str | None:
    """Normalise a publication date to ISO 8601 ("2022-03-31T16:05:00+08:00") or a date ("2022-03-31").

    A wall-clock time without an offset is localised in `default_tz` (IANA name) when given, else reduced to
    its date, because without a zone it is not an instant. Junk and years outside 1990..2100 give None.
    """
    try:
        return _parse_datetime(value, default_tz)
    except Exception:  # dateutil raises ParserError, OverflowError, ValueError, TypeError... on junk
        logger.debug("parse_datetime: unparseable %r", value)
        return None


# --------------------------------------------------------------------------------------------------------------
# Agencies, authors, datelines, credits
# --------------------------------------------------------------------------------------------------------------

AGENCY_NAMES: dict[str, str] = {
    "reuters": "Reuters",
    "thomson reuters": "Reuters",
    "associated press": "AP",
    "the associated press": "AP",
    "ap": "AP",
    "afp": "AFP",
    "agence france-presse": "AFP",
    "agence france presse": "AFP",
    "anadolu agency": "Anadolu",
    "anadolu ajansı": "Anadolu",
    "anadolu": "Anadolu",
    "aa": "Anadolu",
    "yonhap": "Yonhap",
    "yonhap news agency": "Yonhap",
    "bernama": "Bernama",
    "xinhua": "Xinhua",
    "xinhua news agency": "Xinhua",
    "kyodo": "Kyodo",
    "kyodo news": "Kyodo",
    "pti": "PTI",
    "press trust of india": "PTI",
    "ani": "ANI",
    "asian news international": "ANI",
    "ians": "IANS",
    "dpa": "dpa",
    "deutsche presse-agentur": "dpa",
    "efe": "EFE",
    "agencia efe": "EFE",
    "upi": "UPI",
    "united press international": "UPI",
    "bloomberg": "Bloomberg",
    "bloomberg news": "Bloomberg",
    "aap": "AAP",
    "australian associated press": "AAP",
    "pa media": "PA Media",
    "press association": "PA Media",
    "ansa": "ANSA",
    "tass": "TASS",
    "interfax": "Interfax",
    "keystone-sda": "Keystone-SDA",
    "sda": "Keystone-SDA",
    "apa": "APA",
    "canadian press": "The Canadian Press",
    "the canadian press": "The Canadian Press",
}
"""Lower-case alias -> canonical credit of a news agency."""

# Short aliases are everyday words or syllables in another case ("Ani" is a first name, "ap" a Welsh
# patronymic, "Efe" a Turkish name), so they only count in capitals or in their canonical spelling ("dpa").
_SHORT_ALIAS_LEN = 4


def _build_agency_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    long_aliases = sorted((a for a in AGENCY_NAMES if len(a) > _SHORT_ALIAS_LEN), key=len, reverse=True)
    short_forms: dict[str, str] = {}
    for alias, canonical in AGENCY_NAMES.items():
        if len(alias) <= _SHORT_ALIAS_LEN:
            short_forms[alias.upper()] = canonical
            if canonical.lower() == alias:
                short_forms[canonical] = canonical
    long_re = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, long_aliases)) + r")(?!\w)", re.I)
    short_re = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(short_forms, key=len, reverse=True))) + r")(?![\w-])"
    )
    return long_re, short_re, short_forms


_AGENCY_LONG_RE, _AGENCY_SHORT_RE, _AGENCY_SHORT_FORMS = _build_agency_patterns()


def wire_from_credit(text: str | None) -> str | None:
    """Canonical agency named in a credit/byline/source string ("Source: Reuters/fh" -> "Reuters"), first wins."""
    if not text or not isinstance(text, str):
        return None
    best: tuple[int, str] | None = None
    m = _AGENCY_LONG_RE.search(text)
    if m:
        best = (m.start(), AGENCY_NAMES[m.group().lower()])
    m = _AGENCY_SHORT_RE.search(text)
    if m and (best is None or m.start() < best[0]):
        best = (m.start(), _AGENCY_SHORT_FORMS[m.group()])
    return best[1] if best else None


# Words that make a byline segment a job title, desk or brand rather than a person.
_TITLE_WORDS = frozenset(
    """reporter reporters correspondent correspondents editor editors writer writers columnist columnists
    contributor contributors contributing journalist journalists producer producers photographer photographers
    photojournalist videographer analyst staff desk newsroom bureau team redaktion redaction rédaction redacción
    redazione redactie editorial board wire wires agency agencies agentur presse-agentur ajansı intern
    freelancer freelance anchor presenter commentator blogger""".split()
)
_NON_PERSON_SUFFIXES = ("staff", "desk", "news", "newsroom", "team", "reporters", "editors", "bureau")
_NON_PERSON_NAMES = frozenset(
    {
        "staff", "staff writer", "staff reporter", "editorial board", "news desk", "wire services", "wire service",
        "wires", "cna", "bbc", "bbc news", "agencies", "our correspondent", "our reporter",
        "special correspondent", "admin", "administrator", "guest", "guest author", "anonymous", "unknown",
        "getty images", "press release", "sponsored", "partner content",
    }
)
_DEGREES = frozenset("ma md phd mba ms msc bsc mph rn dds pharmd".split())
_ROMAN_SUFFIXES = frozenset({"II", "III", "IV"})

_AUTHOR_URL_RE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|(?<!\S)@\w+", re.I)  # URLs, e-mails, @handles
_AUTHOR_LEADING_CONJ_RE = re.compile(r"^(?:and|with|et|und|&)\s+", re.I)
_NAME_ABBREVIATIONS = frozenset({"jr", "sr", "jnr", "snr", "st", "dr", "mr", "mrs", "ms", "prof"})
_AUTHOR_PAREN_WITH_RE = re.compile(r"\(\s*(?:with|avec|mit|con|and|et|und)\s+([^()]*)\)", re.I)
# "(Reuters)", "(@handle)" at the end of a name; a paren inside a name ("Bruno (Henrique) Rodrigues") stays.
_AUTHOR_PAREN_TRAIL_RE = re.compile(
    r"\s*[(\[][^()\[\]]*[)\]](?=\s*(?:$|[,;|/&•·\n]|\s(?:and|with)\s))", re.I
)
# "Martin Luther King, Jr." must not be split at its comma.
_AUTHOR_SUFFIX_RE = re.compile(r",\s*(Jr|Sr|Jnr|Snr|II|III|IV)\b\.?(?=\s*(?:$|[,;|/&\n]|\s(?:and|with)\s))", re.I)
_AUTHOR_SEP_RE = re.compile(
    r"\s*[,;|/•·\n\r]\s*|\s+(?:and|with|et|und|&)\s+|\s+[-–—]+\s+|\s*[–—]\s*", re.I
)
_AUTHOR_PREFIX_RE = re.compile(
    r"^(?:(?:story|text|words|reporting|written|report(?:ed)?)\s+)?(?:by|por|par)\b[:\s]*", re.I
)
# "di"/"von" bylines ("di Mario Rossi"), but "Di Maio" and "Von Miller" are surnames: capitalised forms are
# only stripped when at least two more words follow.
_AUTHOR_PREFIX_CASED_RE = re.compile(r"^(?:von|di)\s+|^(?:Von|VON|Di|DI)\s+(?=\S+\s+\S)")
_AUTHOR_DROP_PREFIX_RE = re.compile(
    r"^(?:edit(?:ed|ing)|compiled|photos?|photographs?|graphics|video|illustrations?|produced|fact-checked)"
    r"\s+by\b",
    re.I,
)
_AUTHOR_UPDATED_RE = re.compile(
    r"\b(?:updated|published|posted|last modified|modified|aktualisiert)\b.*$", re.I | re.S
)
_AUTHOR_PLACE_RE = re.compile(r"\s+(?:in|at|from|for)\s+[A-Z].*$", re.S)  # "Jane Doe in Brussels"
_AUTHOR_DATE_WORD_RE = re.compile(rf"(?:^|\s+)(?:{_MONTHS}|{_WEEKDAYS}|at|on|am|pm)\.?,?\s*$", re.I)
_DOMAIN_RE = re.compile(r"\b[\w-]{2,}\.(?:[a-z]{2,})\b")
_AUTHOR_CJK_ROLE_RE = re.compile(r"\s*(?:기자|특파원|선임기자|記者|特派員|编辑|編集委員|通讯员)$")
_EDGE_PUNCT = " \t:;,|-–—·•*\"'“”‘’«»"


def _iter_author_values(value: object, depth: int = 0) -> Iterator[str]:
    if value is None or depth > 6:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        types = value.get("@type")
        types = {types} if isinstance(types, str) else set(types or ())
        if types & {"Organization", "NewsMediaOrganization", "Corporation", "Brand"}:
            return  # JSON-LD publisher-as-author is a brand, not a person
        yield from _iter_author_values(value.get("name"), depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _iter_author_values(item, depth + 1)


def _clean_author_segment(segment: str) -> str | None:
    seg = segment.strip(_EDGE_PUNCT)
    seg = _AUTHOR_LEADING_CONJ_RE.sub("", seg, count=1)  # Oxford comma: "King, Jr., and Jane Doe"
    seg = _AUTHOR_PREFIX_RE.sub("", seg, count=1)
    seg = _AUTHOR_PREFIX_CASED_RE.sub("", seg, count=1)
    if not seg or _AUTHOR_DROP_PREFIX_RE.match(seg):
        return None
    # Dates glued to names: "Lucas Nolan22 Dec 2016", "GILLIAN MOHNEY March 11, 2015 3:46 PM".
    digit = re.search(r"\d", seg)
    if digit:
        seg = seg[: digit.start()]
    seg = _AUTHOR_UPDATED_RE.sub("", seg)
    if digit:
        while True:  # only after a cut date, so "Theresa May" keeps her surname
            shorter = _AUTHOR_DATE_WORD_RE.sub("", seg)
            if shorter == seg:
                break
            seg = shorter
    seg = _AUTHOR_PLACE_RE.sub("", seg)
    seg = _AUTHOR_CJK_ROLE_RE.sub("", seg)  # "신현주 기자" (reporter), "山田太郎記者" -> the name
    seg = _WS_RE.sub(" ", seg).strip(_EDGE_PUNCT)
    # A trailing full stop is punctuation ("Jane Doe."), except after initials ("Nelson D.", "J.R.R.") and "Jr.".
    last = seg.rsplit(" ", 1)[-1][:-1]
    if seg.endswith(".") and len(last) > 1 and "." not in last and last.lower() not in _NAME_ABBREVIATIONS:
        seg = seg[:-1].rstrip()
    return seg or None


def _is_agency_or_desk(name: str) -> bool:
    key = name.casefold().strip(". ")
    key_no_the = key[4:] if key.startswith("the ") else key
    if key in AGENCY_NAMES or key_no_the in AGENCY_NAMES or key in _NON_PERSON_NAMES:
        return True
    words = key.split()
    if len(words) > 1 and words[-1] in _NON_PERSON_SUFFIXES:
        return True
    return any(w in _TITLE_WORDS for w in re.split(r"[\s-]+", key))


def _looks_like_person(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 5 or not any(c.isalpha() for c in name):
        return False
    if "@" in name or "://" in name or _DOMAIN_RE.search(name):
        return False
    if name.casefold().replace(".", "") in _DEGREES:
        return False
    # One lower-case token is a handle or initials ("ssi", "kesm"), not a name.
    return not (len(words) == 1 and name.islower())


def _fix_caps(name: str) -> str:
    if not name.isupper():  # "Bill MCCARTHY" is left alone: only whole-caps names are recased
        return name
    return " ".join(w if w in _ROMAN_SUFFIXES else w.title() for w in name.split())


def _suffix_repl(m: re.Match[str]) -> str:
    suffix = m.group(1)
    return f" {suffix.upper()}" if suffix.upper() in _ROMAN_SUFFIXES else f" {suffix.capitalize()}."


def _split_author_string(raw: str) -> list[str]:
    text = _fix_surrogates(raw)
    text = replace_entities(text, remove_illegal=False) if "&" in text and ";" in text else text
    text = _AUTHOR_URL_RE.sub(",", text)
    text = _AUTHOR_PAREN_WITH_RE.sub(r", \1", text)
    text = _AUTHOR_PAREN_TRAIL_RE.sub("", text)
    text = _AUTHOR_SUFFIX_RE.sub(_suffix_repl, text)
    text = _WS_RE.sub(lambda m: "\n" if "\n" in m.group() else " ", text.replace("\u00a0", " "))
    names: list[tuple[str, bool]] = []
    saw_agency = False
    for segment in _AUTHOR_SEP_RE.split(text):
        name = _clean_author_segment(segment)
        if not name:
            continue
        if _is_agency_or_desk(name):
            saw_agency = saw_agency or wire_from_credit(name) is not None
            continue
        if _looks_like_person(name):
            names.append((name, len(name.split()) == 1 and name.isupper()))
    # "AFP, MANILA": next to an agency a lone capitalised word is the dateline city, not a person.
    return [_fix_caps(n) for n, lone_caps in names if not (saw_agency and lone_caps)]


def split_authors(value: object) -> list[str]:
    """Person names from a byline value (str, list, JSON-LD dicts, nested), without agencies, titles, dates."""
    out: list[str] = []
    seen: set[str] = set()
    try:
        for raw in _iter_author_values(value):
            for name in _split_author_string(raw):
                key = name.casefold()
                if key not in seen:
                    seen.add(key)
                    out.append(name)
    except Exception:  # defensive: a byline must never crash an item
        logger.debug("split_authors: failed on %r", value, exc_info=True)
    return out


# Datelines ---------------------------------------------------------------------------------------------------

_DL_WORD_RE = re.compile(r"[^\W\d_]+(?:['’./-][^\W\d_]+)*\.?")
_DL_REGION_WORD = r"[^\W\d_](?:[^\W\d_]|[.'’\-])*"
_DL_TAIL_RE = re.compile(
    # ", Ukraine" / ", Calif." / ", New York" -- but not ", March 31", which is the date
    rf"(?P<region>,\s*(?![^\W\d_]+\.?\s+\d){_DL_REGION_WORD}(?:\s+{_DL_REGION_WORD}){{0,2}})?"
    # ", March 31" / ", Aug. 20" / ", 31 March" (any language's month word), optional year
    r"(?P<date>,?\s*(?:[^\W\d_]{3,10}\.?\s+\d{1,2}(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)?\.?\s+[^\W\d_]{3,10}\.?)"
    r"(?:,?\s+\d{4})?)?"
    r"\s*(?:\((?P<wire>[^()]{1,40})\))?"
    r"\s*(?P<sep>--|[-–—:|])?"
)
_DL_LEADING_WIRE_RE = re.compile(r"\((?P<wire>[^()]{1,40})\)\s*(?:--|[-–—:])?")
# Uppercase kickers that look like datelines but are labels.
_DL_LABELS = frozenset(
    """watch analysis exclusive breaking live update updated updates opinion editorial review photos photo video
    videos listen read note correction corrections fact check factbox explainer new advertisement related warning
    spoiler spoilers podcast poll quiz sponsored comment commentary column breakingviews recap preview insight
    graphic graphics timeline obituary profile feature interview important background context urgent alert flash
    sport sports tech business politics world""".split()
)
_DL_MULTI_LABELS = frozenset({"breaking news", "editor's note", "editor’s note", "fact check", "special report",
                              "instant view", "read more", "also read", "see also", "live updates", "just in"})


def _mostly_upper(word: str) -> bool:
    cased = [c for c in word if c.isupper() or c.islower()]
    return bool(cased) and sum(c.isupper() for c in cased) >= 0.75 * len(cased)


def _is_dl_label(place: str) -> bool:
    key = place.casefold().replace(".", "").strip()
    if key in _DL_MULTI_LABELS or key in _DL_LABELS:
        return True
    # "EXCLUSIVE-UKRAINE ..." is one hyphenated word; "NEW YORK" and "NEW DELHI" must stay places.
    return " " not in key and key.split("-")[0] in _DL_LABELS


def parse_dateline(text: str) -> tuple[str | None, str | None]:
    """(dateline, wire) from a first paragraph's opening: "KYIV, Ukraine (AP) — ..." -> ("KYIV, Ukraine", "AP").

    The body is not modified: the dateline stays part of the text.
    """
    if not text or not isinstance(text, str):
        return None, None
    t = _WS_RE.sub(" ", text[:300]).lstrip(" \"'“‘«")
    lead = _DL_LEADING_WIRE_RE.match(t)
    if lead:  # "(Reuters) - Shares fell ..."
        return None, wire_from_credit(lead.group("wire"))
    words: list[tuple[str, int]] = []
    pos = 0
    while len(words) < 4:
        m = _DL_WORD_RE.match(t, pos)
        if not m:
            break
        words.append((m.group(), m.end()))
        if t[m.end() : m.end() + 1] == " " and t[m.end() + 1 : m.end() + 2].isalpha():
            pos = m.end() + 1
        else:
            break
    for n in range(len(words), 0, -1):
        place_words = [w for w, _ in words[:n]]
        end = words[n - 1][1]
        tail = _DL_TAIL_RE.match(t, end)
        if tail is None or tail.end() == end:
            continue
        place = t[:end]
        wire_raw, sep, region = tail.group("wire"), tail.group("sep"), tail.group("region")
        wire = wire_from_credit(wire_raw) if wire_raw else None
        if region:
            region_words = region.strip(", ").split()
            if any(not w[0].isupper() or w.casefold().strip(".") in _MONTH_OR_WEEKDAY for w in region_words):
                continue
        if _is_dl_label(place):
            return None, wire
        letters = sum(c.isalpha() for c in place)
        upper_mode = letters >= 2 and all(_mostly_upper(w) for w in place_words)
        title_mode = all(w[0].isupper() for w in place_words)
        if upper_mode and (sep or wire_raw):
            if sep == ":" and not t[tail.end() :].strip():
                continue
        elif not (title_mode and wire and (sep or tail.group("date"))):
            # "Brussels, 31 March (dpa)" / "Kabul (AFP) -": title case needs a known wire plus a date or dash,
            # so "The Associated Press (AP) reported" is not a dateline.
            continue
        dateline = place + (", " + " ".join(region.strip(", ").split()) if region else "")
        return dateline, wire
    return None, None


# Captions ----------------------------------------------------------------------------------------------------

_CREDIT_HINT_RE = re.compile(
    r"\b(?:photo(?:graph)?s?|fotos?|images?|pictures?|pic|credits?|courtesy|handout|getty|shutterstock"
    r"|alamy|epa|via)\b|/",
    re.I,
)
_PHOTO_AGENCY_RE = re.compile(r"\b(?:getty images|shutterstock|alamy|epa(?:-efe)?|handout)\b", re.I)
_CREDIT_LABEL = (
    r"(?:file\s+)?(?:photo(?:graph)?s?|images?|pictures?|pics?|credits?|fotos?|bild|source|illustration)"
    r"(?:\s+credit)?"
)
_TRAILING_BRACKET_RE = re.compile(r"\s*[(\[](?P<credit>[^()\[\]]{1,120})[)\]]\s*\.?\s*$")
_LABELED_CREDIT_RE = re.compile(
    rf"(?P<label>{_CREDIT_LABEL})\s*[:：|]\s*(?P<credit>[^:：]{{1,100}}?)\s*\.?\s*$", re.I
)
_BY_CREDIT_RE = re.compile(
    r"(?P<label>(?:photo(?:graph)?s?|images?|pictures?|video)\s+by)\s+(?P<credit>[^:：]{1,100}?)\s*\.?\s*$", re.I
)
_CREDIT_LABEL_PREFIX_RE = re.compile(
    rf"^(?:{_CREDIT_LABEL}\s*[:：]\s*|(?:photo(?:graph)?s?|images?|pictures?)\s+by\s+)", re.I
)
_SENTENCE_END_RE = re.compile(r"[.!?”\"’)\]|]\s+")
_CREDIT_CONNECTORS = frozenset({"via", "for", "and", "of", "de", "von", "van", "&"})


def _strip_credit_label(credit: str) -> str:
    return _CREDIT_LABEL_PREFIX_RE.sub("", credit.strip()).strip() or credit.strip()


def _caption_rest(text: str) -> str | None:
    rest = text.rstrip(" |-–—,;:·•")
    return rest or None


def _ends_sentence(before: str) -> bool:
    before = before.rstrip()
    return not before or before[-1] in ".!?”\"’)]|"


def _is_slash_credit(tail: str) -> bool:
    if "/" not in tail or "://" in tail or len(tail.split()) > 12 or tail[-1] in "?!":
        return False
    parts = [p.strip() for p in tail.split("/")]
    return all(p and len(p.split()) <= 6 and p[0].isupper() for p in parts)


def _is_bare_credit(tail: str) -> bool:
    words = tail.rstrip(".").split()
    if not 1 <= len(words) <= 6:
        return False
    if not all(w[0].isupper() or w.lower() in _CREDIT_CONNECTORS for w in words):
        return False
    return bool(wire_from_credit(tail) or _PHOTO_AGENCY_RE.search(tail))


def split_caption_credit(caption: str | None) -> tuple[str | None, str | None]:
    """Split the trailing photo credit off a caption.

    "... 2022. REUTERS/Jane Doe" -> ("... 2022.", "REUTERS/Jane Doe"); no credit -> (caption, None).
    """
    text = clean_text(caption)
    if not text:
        return None, None
    m = _TRAILING_BRACKET_RE.search(text)
    if m:
        inner = m.group("credit").strip()
        if _CREDIT_HINT_RE.search(inner) or wire_from_credit(inner):
            return _caption_rest(text[: m.start()]), _strip_credit_label(inner)
    for regex in (_LABELED_CREDIT_RE, _BY_CREDIT_RE):
        m = regex.search(text)
        if not m or len(m.group("credit").split()) > 10:
            continue
        before = text[: m.start()]
        # "... in Kyiv. Photo: AFP" or "... in Kyiv Photo: AFP"; not "the photo: a ..." mid-sentence.
        if _ends_sentence(before) or before.rstrip()[-1:] in "-–—" or m.group("label")[0].isupper():
            return _caption_rest(before), m.group("credit").strip()
    ends = list(_SENTENCE_END_RE.finditer(text))
    for end in reversed(ends):
        # "Nelson D. Schwartz/NYT": the full stop after an initial does not end a sentence.
        start = end.start()
        initial = start >= 1 and text[start - 1].isupper() and (start == 1 or not text[start - 2].isalpha())
        if text[start] == "." and initial:
            continue
        tail = text[end.end() :].strip()
        if tail and (_is_slash_credit(tail) or _is_bare_credit(tail)):
            return _caption_rest(text[: end.start() + 1]), tail
        break
    return text, None


# --------------------------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------------------------

# Campaign and referral tags: one article must not look like many ("?utm_source=rss", DW's "?maca=...").
_TRACKING_PARAMS = frozenset(
    """fbclid gclid dclid gbraid wbraid msclkid yclid mc_cid mc_eid ocid cmpid ncid ito mkt_tok spm taid ref_src
    smid cmp at_medium at_campaign guccounter _ga _gl igshid maca""".split()
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# An absolute http(s) URL that urljoin (same scheme: a round trip through urlparse) and safe_url_string leave as
# it is: a lowercase ASCII host without port or credentials, a path and query of the characters w3lib keeps
# unquoted in them ("%" included: it keeps escapes as they are), no ";" path parameters, no "'" in the query of
# a special scheme, no fragment, no query without a path.
_SAFE_ABSOLUTE_URL = re.compile(
    r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9!$&()*+,\-./:=@_~%']*(?:\?[A-Za-z0-9!$&()*+,\-./:;=?@_~%]+)?)?\Z")


def is_tracking_param(key: str) -> bool:
    """Whether a query parameter name is a campaign/referral tag (utm_*, fbclid, ...)."""
    key = unquote_plus(key).strip().lower()
    return key.startswith("utm_") or key in _TRACKING_PARAMS


def canonicalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment, tracking parameters, credentials or default port; else None.

    Not w3lib.url.canonicalize_url: it sorts query arguments, and some CMSs route on the first argument
    ("?p=123&preview=1"), so the original order is kept. w3lib's safe_url_string still does the
    percent-encoding and IDNA work ("https://Bücher.de/ä" -> "https://xn--bcher-kva.de/%C3%A4").
    """
    if not isinstance(url, str):
        return None
    if "\t" in url or "\n" in url or "\r" in url:
        url = re.sub(r"[\t\n\r]", "", url)  # browsers drop these inside href values
    url = url.strip()
    if not url:
        return None
    try:
        # An absolute http(s) URL of safe characters only is what urljoin and safe_url_string return it as
        # (they cost ~15 µs, most of this function; tested against them)
        if _SAFE_ABSOLUTE_URL.match(url) is None:
            url = safe_url_string(urljoin(base, url) if base else url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
    except ValueError:  # bad port, bad IPv6 literal, IDNA failure
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    query = parts.query
    if query:
        drop = [p.partition("=")[0] for p in query.split("&") if p and is_tracking_param(p.partition("=")[0])]
        query = url_query_cleaner("?" + query, drop, remove=True, unique=False).lstrip("?")
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


# --------------------------------------------------------------------------------------------------------------
# Boilerplate
# --------------------------------------------------------------------------------------------------------------

_BOILERPLATE_SOURCES = (
    r"advertisement|advertising|sponsored(?: content)?|anzeige|publicité|publicidad",
    r"scroll (?:down )?to continue(?: reading)?(?: with content)?",
    r"(?:story|article) continues below(?: (?:this )?advertisement)?|continue reading(?: below| the main story)?",
    r"follow (?:us|our (?:[\w-]+ ){0,3}?(?:news|coverage|updates|channel|page|account)s?)\b.{0,100}",
    r"also worth reading",
    r"(?:read|see|watch) (?:more|also|next)(?:\s*[:|»›>-].{0,200})?",
    r"also (?:read|see|watch)(?:\s*[:|»›>-].{0,200})?",
    r"related(?: (?:articles?|stories|story|coverage|content|reading|news|links?|topics?|videos?))?"
    r"(?:\s*[:|»›>-].{0,200})?",
    r"sign up (?:for|to)\b.{0,100}\bnewsletters?\b.{0,150}",
    r"subscribe(?: (?:to|for|now|today|here)\b.{0,150})?",
    r"(?:stay informed|get the latest|never miss)\b.{0,120}\bnewsletters?\b.{0,150}",
    r"by (?:clicking|signing up|subscribing|submitting|entering|continuing)\b.{0,80}"
    r"\b(?:i|you) (?:agree|accept|acknowledge|consent)\b.{0,300}",
    r"(?:we|this (?:web)?site|our (?:web)?site) uses? cookies\b.{0,300}",
    r"(?:accept|allow|manage|reject) (?:all )?cookies\b.{0,100}",
    r"cookie (?:policy|settings|preferences|consent|notice)\b.{0,200}",
    r"by (?:continuing to (?:use|browse)|using) (?:this|our) (?:web)?site\b.{0,300}",
    r"this browser is no longer supported\b.{0,300}",
    r"we know it['’]?s a hassle to switch browsers\b.{0,400}",
    r"share(?: (?:this|the) (?:article|story|page|post))?(?: (?:on|via) [\w ]{1,30})?",
    r"share on (?:facebook|twitter|x|whatsapp|linkedin|email|reddit|telegram)",
    r"click here (?:to|for)\b.{0,150}",
    r"(?:copyright\s*)?(?:©|\(c\)|copyright)\s*.{0,150}?\ball rights reserved\b.{0,80}",
    r"our standards:\s*the thomson reuters trust principles",
    r"(?:please )?enable javascript\b.{0,200}",
    r"skip (?:to (?:main )?content|advertisement|ad)",
    r"loading(?:\.{3}|…)?",
    r"listen to (?:this )?(?:article|story)(?:\s*\d+\s*min(?:ute)?s?)?",
)
BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(rf"(?:{src})[\s.!:…]*", re.I | re.S) for src in _BOILERPLATE_SOURCES
)
"""Generic boilerplate paragraphs; each must match the WHOLE paragraph (re.fullmatch), case-insensitively."""


@lru_cache(maxsize=256)
def _compile_extra(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.S)


_INLINE_FLAGS = ((re.I, "i"), (re.S, "s"), (re.M, "m"), (re.X, "x"))


@lru_cache(maxsize=64)
def _boilerplate_matcher(patterns: tuple[str | re.Pattern[str], ...]) -> tuple[re.Pattern[str], ...]:
    """The generic patterns and an outlet's, as few regexes as possible: one alternation of every pattern that
    uses the common flags (one fullmatch call per paragraph instead of ~25), and any other pattern on its own."""
    merged, alone = [rx.pattern for rx in BOILERPLATE_PATTERNS], []
    for pat in patterns:
        if not isinstance(pat, re.Pattern):
            merged.append(pat)
        elif pat.flags & (re.ASCII | re.LOCALE) or not isinstance(pat.pattern, str):
            alone.append(pat)
        else:  # its own flags, scoped: (?x-s:...) inside the re.I | re.S alternation
            on = "".join(c for flag, c in _INLINE_FLAGS if pat.flags & flag)
            off = "".join(c for flag, c in _INLINE_FLAGS[:2] if not pat.flags & flag)
            merged.append(f"(?{on}-{off}:{pat.pattern})" if off else f"(?{on}:{pat.pattern})")
    try:
        combined = re.compile("|".join(f"(?:{src})" for src in merged), re.I | re.S)
    except re.error:  # e.g. two outlet patterns reuse a group name: keep them apart
        return (*BOILERPLATE_PATTERNS, *(_compile_extra(p) if isinstance(p, str) else p for p in patterns))
    return (combined, *alone)


def strip_boilerplate(paragraphs: Iterable[str], patterns: Iterable[str | re.Pattern] = ()) -> list[str]:
    """Drop paragraphs that are entirely boilerplate (generic list plus the caller's whole-paragraph patterns)."""
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    compiled = _boilerplate_matcher(tuple(patterns or ()))
    out: list[str] = []
    for paragraph in paragraphs or ():
        if not paragraph or not paragraph.strip():
            continue
        probe = " ".join(paragraph.split())
        if not any(rx.fullmatch(probe) for rx in compiled):
            out.append(paragraph)
    return out


# --------------------------------------------------------------------------------------------------------------
# Language, counts, hashes
# --------------------------------------------------------------------------------------------------------------

_LANGUAGE_NAMES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "russian": "ru", "ukrainian": "uk", "polish": "pl", "czech": "cs", "slovak": "sk",
    "swedish": "sv", "danish": "da", "norwegian": "no", "finnish": "fi", "icelandic": "is", "greek": "el",
    "turkish": "tr", "arabic": "ar", "hebrew": "he", "persian": "fa", "farsi": "fa", "hindi": "hi",
    "urdu": "ur", "bengali": "bn", "chinese": "zh", "japanese": "ja", "korean": "ko", "vietnamese": "vi",
    "thai": "th", "indonesian": "id", "malay": "ms", "romanian": "ro", "hungarian": "hu", "catalan": "ca",
    "deutsch": "de", "français": "fr", "francais": "fr", "español": "es", "espanol": "es", "italiano": "it",
    "português": "pt", "nederlands": "nl",
}
# Withdrawn ISO 639 codes still emitted by old CMSs (Java's Locale long wrote "iw" for Hebrew).
_DEPRECATED_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}


def normalize_language(value: str | None) -> str | None:
    """BCP 47 tag with canonical case ("en_us" -> "en-US", "zh-hans-cn" -> "zh-Hans-CN"), or None for junk."""
    if not value or not isinstance(value, str):
        return None
    # Accept-Language leaking into <html lang> ("en-US,en;q=0.9") and POSIX locales ("de_DE.UTF-8@euro").
    text = re.split(r"[,;]", value.strip(), maxsplit=1)[0]
    text = re.split(r"[.@]", text, maxsplit=1)[0].strip().replace("_", "-").lower()
    if text in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text]
    if not text.isascii():
        return None
    subtags = text.split("-")
    primary = subtags[0]
    if not (2 <= len(primary) <= 3 and primary.isalpha()) or primary in {"und", "zxx"}:
        return None
    out = [_DEPRECATED_LANGUAGES.get(primary, primary)]
    stage = 0  # 0: extlang allowed, 1: script allowed, 2: region allowed, 3: variants only
    for sub in subtags[1:]:
        if stage == 0 and len(sub) == 3 and sub.isalpha():  # extlang: "zh-yue"
            out.append(sub)
            stage = 1
        elif stage <= 1 and len(sub) == 4 and sub.isalpha():
            out.append(sub.title())
            stage = 2
        elif stage <= 2 and ((len(sub) == 2 and sub.isalpha()) or (len(sub) == 3 and sub.isdigit())):
            out.append(sub.upper())
            stage = 3
        elif (5 <= len(sub) <= 8 and sub.isalnum()) or (len(sub) == 4 and sub[0].isdigit() and sub.isalnum()):
            out.append(sub)
            stage = 3
        else:
            break  # extensions ("-u-ca-..."), private use ("-x-...") and junk are dropped
    return "-".join(out)


_WORD_TOKEN_RE = re.compile(r"\w+")


def word_count(body: str | None) -> int:
    """Number of Unicode \\w+ tokens (a run of CJK characters counts as one)."""
    return len(_WORD_TOKEN_RE.findall(body)) if body else 0


def has_words(body: str | None, n: int) -> bool:
    """``word_count(body) >= n``, reading only as far as the n-th word (a threshold check need not count 5 kB)."""
    if n <= 0:
        return True
    for i, _ in enumerate(_WORD_TOKEN_RE.finditer(body or ""), 1):
        if i >= n:
            return True
    return False


_HASH_DROP_RE = re.compile(r"[^\w\s]|_")


def content_hash(body: str | None) -> str | None:
    """Return "sha1:<hex>" of the casefolded body minus punctuation, whitespace collapsed; None if empty.

    So "It’s a “test”." and "its a test" hash alike (curly vs straight quotes, re-wrapped lines).
    """
    if not body or not isinstance(body, str):
        return None
    text = unicodedata.normalize("NFKC", body).casefold()
    text = " ".join(_HASH_DROP_RE.sub("", text).split())
    if not text:
        return None
    return "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
