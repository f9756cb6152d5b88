"""Outlets declared in a TOML file become spiders, without writing Python.

Each ``[[outlet]]`` entry turns into a :class:`~newscrawl.crawling.NewsSpider` subclass under its own name
(``scrapy list`` shows it), with the same extraction layers, pipelines, state and export as a dedicated
spider. Entries are validated field by field; a bad entry is skipped with an error naming the entry
and the field, and never stops the project from loading.

Example::

    [[outlet]]
    name = "yonhap"                      # spider name = item "source"
    publisher = "Yonhap News Agency"
    domains = ["en.yna.co.kr"]
    feeds = ["https://en.yna.co.kr/RSS/news.xml"]
    timezone = "Asia/Seoul"
    language = "en"
    article_allow = "/view/AEN\\\\d+"
    delay = 1.0                          # seconds between requests
    concurrency = 2                      # requests in flight
    [outlet.selectors]                   # optional: site layer, as in a dedicated spider
    headline = "h1.tit::text"
    body = "article.story-news p"
    boilerplate = ["\\\\(END\\\\)"]      # optional: whole-paragraph regexes
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomllib

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_FIELDS = {"name", "publisher", "domains", "sitemaps", "feeds", "start_pages", "timezone", "language",
           "article_allow", "article_deny", "delay", "concurrency", "selectors", "drop_selectors", "boilerplate"}
SELECTOR_FIELDS = {"headline", "description", "authors", "published_at", "modified_at", "section", "tags",
                   "language", "wire_source", "body", "images", "canonical_url", "publisher", "is_paywalled"}


class OutletError(ValueError):
    """A bad outlets-file entry; the message names the entry and the field."""


@dataclass(frozen=True)
class OutletConfig:
    name: str
    publisher: str | None = None
    domains: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ()
    timezone: str | None = None
    language: str | None = None
    article_allow: str | None = None
    article_deny: str | None = None
    delay: float | None = None
    concurrency: int | None = None
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drop_selectors: tuple[str, ...] = ()
    boilerplate: tuple[str, ...] = ()


def _urls(entry: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and re.match(r"^https?://\S+$", v) for v in value):
        raise OutletError(f"outlet {entry!r}: field {key!r} must be a list of http(s) URLs")
    return tuple(value)


def _strings(entry: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise OutletError(f"outlet {entry!r}: field {key!r} must be a list of non-empty strings")
    return tuple(value)


def _regex(entry: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise OutletError(f"outlet {entry!r}: field {key!r} must be a string (a regular expression)")
    try:
        re.compile(value)
    except re.error as exc:
        raise OutletError(f"outlet {entry!r}: field {key!r} is not a valid regular expression: {exc}") from None
    return value


def parse_entry(raw: Any, index: int) -> OutletConfig:
    """Validate one ``[[outlet]]`` table."""
    if not isinstance(raw, dict):
        raise OutletError(f"outlet #{index}: not a table")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise OutletError(f"outlet #{index}: field 'name' must be lower-case letters, digits and _ "
                          f"(2-41 characters, starting with a letter), got {name!r}")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise OutletError(f"outlet {name!r}: unknown field(s) {', '.join(sorted(unknown))}")
    sitemaps = _urls(name, "sitemaps", raw.get("sitemaps"))
    feeds = _urls(name, "feeds", raw.get("feeds"))
    starts = _urls(name, "start_pages", raw.get("start_pages"))
    if not (sitemaps or feeds or starts):
        raise OutletError(f"outlet {name!r}: needs at least one of 'sitemaps', 'feeds', 'start_pages'")
    domains = _strings(name, "domains", raw.get("domains"))
    tz = raw.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise OutletError(f"outlet {name!r}: field 'timezone' is not an IANA time zone: {tz!r}") from None
    for key, kind in (("publisher", str), ("language", str)):
        if raw.get(key) is not None and not isinstance(raw[key], kind):
            raise OutletError(f"outlet {name!r}: field {key!r} must be a string")
    delay, concurrency = raw.get("delay"), raw.get("concurrency")
    if delay is not None and (not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 60):
        raise OutletError(f"outlet {name!r}: field 'delay' must be a number of seconds from 0 to 60")
    if concurrency is not None and (not isinstance(concurrency, int) or isinstance(concurrency, bool)
                                    or not 1 <= concurrency <= 16):
        raise OutletError(f"outlet {name!r}: field 'concurrency' must be an integer from 1 to 16")
    selectors_raw = raw.get("selectors") or {}
    if not isinstance(selectors_raw, dict):
        raise OutletError(f"outlet {name!r}: field 'selectors' must be a table of field = selector(s)")
    selectors: dict[str, tuple[str, ...]] = {}
    for key, value in selectors_raw.items():
        if key not in SELECTOR_FIELDS:
            raise OutletError(f"outlet {name!r}: field 'selectors.{key}' is not an Article field with a selector")
        selectors[key] = _strings(name, f"selectors.{key}", value)
        _check_selectors(name, f"selectors.{key}", selectors[key])
    drop = _strings(name, "drop_selectors", raw.get("drop_selectors"))
    _check_selectors(name, "drop_selectors", drop)
    boilerplate = _strings(name, "boilerplate", raw.get("boilerplate"))
    for i, pattern in enumerate(boilerplate):
        _regex(name, f"boilerplate[{i}]", pattern)
    if not domains:  # default: the hosts of the discovery URLs
        from urllib.parse import urlsplit
        domains = tuple(sorted({(urlsplit(u).hostname or "").removeprefix("www.")
                                for u in sitemaps + feeds + starts} - {""}))
    return OutletConfig(name=name, publisher=raw.get("publisher"), domains=domains, sitemaps=sitemaps, feeds=feeds,
                        start_pages=starts, timezone=tz, language=raw.get("language"),
                        article_allow=_regex(name, "article_allow", raw.get("article_allow")),
                        article_deny=_regex(name, "article_deny", raw.get("article_deny")),
                        delay=delay, concurrency=concurrency, selectors=selectors, drop_selectors=drop,
                        boilerplate=boilerplate)


def _check_selectors(entry: str, key: str, queries: tuple[str, ...]) -> None:
    from parsel import Selector

    probe = Selector(text="<html><body></body></html>")
    for q in queries:
        try:
            probe.xpath(q) if q.startswith(("/", "./", "(")) else probe.css(q)
        except Exception as exc:  # noqa: BLE001 - cssselect/lxml raise several types
            raise OutletError(f"outlet {entry!r}: field {key!r} has an invalid selector {q!r}: {exc}") from None


def load_outlets(text: str, source: str = "outlets file") -> tuple[list[OutletConfig], list[str]]:
    """-> (valid outlets, error messages). Never raises for bad content."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [f"{source}: not valid TOML: {exc}"]
    entries = doc.get("outlet", [])
    if not isinstance(entries, list):
        return [], [f"{source}: 'outlet' must be an array of tables ([[outlet]])"]
    outlets, errors, names = [], [], set()
    for i, raw in enumerate(entries, 1):
        try:
            cfg = parse_entry(raw, i)
        except OutletError as exc:
            errors.append(f"{source}: {exc}")
            continue
        if cfg.name in names:
            errors.append(f"{source}: outlet {cfg.name!r}: field 'name' is used twice; the second entry is skipped")
            continue
        names.add(cfg.name)
        outlets.append(cfg)
    return outlets, errors


def read_outlets_file(path: str | None) -> tuple[list[OutletConfig], list[str]]:
    """The outlets of a file path, or of the shipped example file when path is empty."""
    if path:
        p = Path(path)
        if not p.is_file():
            return [], [f"outlets file not found: {p}"]
        return load_outlets(p.read_text("utf-8"), str(p))
    text = resources.files("newscrawl").joinpath("data/outlets.toml").read_text("utf-8")
    return load_outlets(text, "newscrawl/data/outlets.toml")


def spider_class(cfg: OutletConfig) -> type:
    """A NewsSpider subclass that declares the entry's data."""
    from newscrawl.crawling import NewsSpider

    custom: dict[str, Any] = {}
    if cfg.delay is not None:
        custom["DOWNLOAD_DELAY"] = cfg.delay
    if cfg.concurrency is not None:
        custom["CONCURRENT_REQUESTS_PER_DOMAIN"] = cfg.concurrency
    attrs = {
        "__doc__": f"{cfg.publisher or cfg.name}, declared in the outlets file.",
        "__module__": "newscrawl.outlets_file",
        "name": cfg.name,
        "publisher": cfg.publisher,
        "allowed_domains": list(cfg.domains),
        "sitemap_urls": list(cfg.sitemaps),
        "feed_urls": list(cfg.feeds),
        "section_urls": list(cfg.start_pages),
        "article_allow": cfg.article_allow,
        "article_deny": cfg.article_deny,
        "timezone": cfg.timezone,
        "language": cfg.language,
        "selectors": dict(cfg.selectors),
        "drop_selectors": cfg.drop_selectors,
        "boilerplate": cfg.boilerplate,
        "custom_settings": custom,
    }
    return type(f"Outlet_{cfg.name}", (NewsSpider,), attrs)
