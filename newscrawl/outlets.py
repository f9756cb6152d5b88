"""Routing pages to outlets by domain, from the spiders Scrapy's loader finds (no registry to maintain)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.spiderloader import get_spider_loader


def host_of(url: str | None) -> str:
    if not url:
        return ""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class OutletRouter:
    """Maps a URL to the spider class whose ``allowed_domains`` cover its host (longest match wins)."""

    def __init__(self, spider_loader: Any) -> None:
        self.by_domain: dict[str, type] = {}
        for name in spider_loader.list():
            cls = spider_loader.load(name)
            if not getattr(cls, "selectors", None):
                continue  # generic spiders have no site layer to route to
            for domain in getattr(cls, "allowed_domains", None) or ():
                self.by_domain.setdefault(domain.lower().lstrip("."), cls)

    def route(self, url: str | None) -> type | None:
        host = host_of(url)
        while host:
            cls = self.by_domain.get(host) or self.by_domain.get("www." + host)
            if cls is not None:
                return cls
            if "." not in host:
                break
            host = host.split(".", 1)[1]
        return None


def outlet_class(settings: Any, name: str | None) -> type | None:
    """The spider class of an outlet name, or None (generic extraction, or an unknown name)."""
    if not name:
        return None
    try:
        return _loader(settings).load(name)
    except KeyError:
        return None


_loaders: dict[int, Any] = {}


def _loader(settings: Any) -> Any:
    # one loader per settings object: building it imports every spider module
    key = id(settings)
    if key not in _loaders:
        _loaders[key] = get_spider_loader(settings)
    return _loaders[key]
