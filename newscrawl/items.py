"""The Article item: one JSON object per news article.

Field names, types and order are a contract with everyone who loads the JSONL; the JSON Schema that
enforces it ships beside this module (``newscrawl/schema/article.schema.json``) and is read through
package resources, so it works from a scrapyd egg too.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import scrapy

# Layers that can supply a field, in priority order (recorded per field in ``provenance``).
LAYERS = ("site", "jsonld", "meta", "generic")


class Article(scrapy.Item):
    """A news article. Every value is JSON-typed; absent values are null (or [] for lists)."""

    url = scrapy.Field()            # str: the URL fetched (after redirects)
    canonical_url = scrapy.Field()  # str: <link rel=canonical>/og:url, tracking params dropped
    source = scrapy.Field()         # str: outlet key = spider name, e.g. "cna"
    publisher = scrapy.Field()      # str | null: e.g. "CNA"
    headline = scrapy.Field()       # str: e.g. "Russian troops not withdrawing but regrouping"
    description = scrapy.Field()    # str | null: standfirst / summary
    authors = scrapy.Field()        # list[str]: person names only, e.g. ["Jane Doe"]
    published_at = scrapy.Field()   # str | null: ISO 8601 with offset, "2022-03-31T16:05:00+08:00"
    modified_at = scrapy.Field()    # str | null: same format
    section = scrapy.Field()        # str | null: e.g. "World"
    tags = scrapy.Field()           # list[str]
    language = scrapy.Field()       # str | null: BCP 47, e.g. "en", "pt-BR"
    dateline = scrapy.Field()       # str | null: e.g. "BRUSSELS"
    wire_source = scrapy.Field()    # str | null: credited agency, "Reuters", "AP", "AFP", ...
    body = scrapy.Field()           # str: paragraphs joined by a blank line
    images = scrapy.Field()         # list[{"url", "caption", "credit"}]
    word_count = scrapy.Field()     # int: \w+ tokens in body
    is_paywalled = scrapy.Field()   # bool | null
    content_hash = scrapy.Field()   # str: "sha1:..." of the normalised body
    duplicate_of = scrapy.Field()   # str | null: URL of the first-seen same/near-same article
    revision = scrapy.Field()       # int: 1 for the first record of an article, 2.. for edits
    previous_hash = scrapy.Field()  # str | null: content_hash of the previous revision
    fetched_at = scrapy.Field()     # str: ISO 8601 UTC time of the fetch
    provenance = scrapy.Field()     # dict[field, layer]: which layer supplied each field
    # Batch extraction (``scrapy extract``) only: the manifest id echoed, and an error message.
    id = scrapy.Field()
    error = scrapy.Field()


#: Stable export order (Article.fields is a dict in declaration order).
FIELD_ORDER: tuple[str, ...] = tuple(Article.fields)
LIST_FIELDS = ("authors", "tags", "images")


def empty_article(**values: Any) -> dict[str, Any]:
    """A dict with every contract field present: null, or [] for list fields."""
    out: dict[str, Any] = {}
    for name in FIELD_ORDER:
        if name in ("id", "error"):
            continue
        out[name] = [] if name in LIST_FIELDS else None
    out["provenance"] = {}
    out.update(values)
    return out


@lru_cache(maxsize=1)
def article_schema() -> dict[str, Any]:
    """The Article JSON Schema, read from package data."""
    text = resources.files("newscrawl").joinpath("schema/article.schema.json").read_text("utf-8")
    return json.loads(text)
