"""Structured-data layer: JSON-LD (schema.org) and <meta> tags.

Both return *raw* values keyed by Article field name; the loader's processors normalise them.
Parsing is deliberately lenient: publishers ship JSON-LD with raw newlines in strings, trailing
commas, HTML comments and several objects per page (``@graph``, lists, ``mainEntity``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from lxml import etree
from parsel import Selector

ARTICLE_TYPES = {
    "newsarticle", "reportagenewsarticle", "reportagenews", "article", "blogposting",
    "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle",
    "askpublicnewsarticle", "satiricalarticle", "scholarlyarticle", "techarticle", "report",
    "socialmediaposting", "liveblogposting",
}
LIVE_TYPES = {"liveblogposting"}
VIDEO_TYPES = {"videoobject"}
NON_ARTICLE_PAGE_TYPES = {"collectionpage", "searchresultspage", "profilepage", "itemlist"}

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CONTROL = re.compile(r"[\x00-\x1f]")
_LEADING_MARKER = re.compile(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)")
_TRAILING_MARKER = re.compile(r"(?:-->|//\s*\]\]>|\]\]>)\s*$")


def _loads(text: str) -> Any:
    text = text.strip()
    # Some CMSs wrap the JSON in <!-- --> or CDATA markers, e.g. "<!--//--><![CDATA[//><!-- {...} //--><!]]>".
    # (each marker test only where the stripped text can start or end with one: an unanchored "...$" pattern
    # is tried at every position of a 10-100 kB JSON text)
    if text.startswith(("<", "/")):
        text = _LEADING_MARKER.sub("", text)
    if text.endswith(">"):
        text = _TRAILING_MARKER.sub("", text)
    text = text.strip().rstrip(";")
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines/tabs inside strings
    except ValueError:
        pass
    for attempt in (_TRAILING_COMMA.sub(r"\1", text), _TRAILING_COMMA.sub(r"\1", _CONTROL.sub(" ", text))):
        try:
            return json.loads(attempt, strict=False)
        except ValueError:
            continue
    return None


def _walk(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON-LD document: @graph members, list members and nested mainEntity."""
    if depth > 6:
        return
    if isinstance(node, list):
        for x in node:
            yield from _walk(x, depth + 1)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"):
            child = node.get(key)
            if isinstance(child, (dict, list)):
                yield from _walk(child, depth + 1)


_JSONLD_TEXT = etree.XPath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]/text()',
                           regexp=False, smart_strings=False)
_META = etree.XPath("//meta[@content]", regexp=False)
_TITLE = etree.XPath("//head/title/text() | //title/text()", regexp=False, smart_strings=False)
_HTML_LANG = etree.XPath("/html/@lang | /html/@xml:lang", regexp=False, smart_strings=False)
_CANONICAL = etree.XPath('//link[translate(@rel, "CANONICAL", "canonical")="canonical"]/@href', regexp=False,
                        smart_strings=False)


def _root(sel: Any) -> Any:
    """The lxml tree of a parsel Selector (the layers accept either)."""
    return sel.root if isinstance(sel, Selector) else sel


def _first(query: etree.XPath, root: Any) -> Any:
    found = query(root)
    return found[0] if found else None


_LDJSON = str.maketrans("LDJSON", "ldjson")
_CANONICAL_CASE = str.maketrans("CANONICAL", "canonical")


def _text_nodes(el: Any) -> list[str]:
    """An element's text() children, in order."""
    return [t for t in (el.text, *(child.tail for child in el)) if t]


@dataclass
class PageTags:
    """What the structured layers read from a page, gathered in one pass over its script/meta/link/title
    elements (lxml's tag filter runs in C) instead of one XPath walk of the whole tree each. Each field equals
    what the XPath named in its comment returns."""

    jsonld: list[str] = dataclass_field(default_factory=list)  # //script[contains(translate(@type, ...), "ld+json")]/text()
    metas: list[Any] = dataclass_field(default_factory=list)  # //meta[@content]
    canonical: str | None = None  # (//link[translate(@rel, ...)="canonical"]/@href)[1]
    title: str | None = None  # (//head/title/text() | //title/text())[1]

    @classmethod
    def of(cls, sel: Selector | Any) -> PageTags:
        tags = cls()
        for el in _root(sel).iter("script", "meta", "link", "title"):
            tag = el.tag
            if tag == "meta":
                if el.get("content") is not None:
                    tags.metas.append(el)
            elif tag == "script":
                if "ld+json" in (el.get("type") or "").translate(_LDJSON):
                    tags.jsonld.extend(_text_nodes(el))
            elif tag == "link":
                if tags.canonical is None and (el.get("rel") or "").translate(_CANONICAL_CASE) == "canonical":
                    tags.canonical = el.get("href")
            elif tags.title is None:
                texts = _text_nodes(el)
                tags.title = texts[0] if texts else None
        return tags


def jsonld_objects(sel: Selector | Any, tags: PageTags | None = None) -> list[dict[str, Any]]:
    """All JSON-LD objects on the page, flattened."""
    out: list[dict[str, Any]] = []
    for text in tags.jsonld if tags is not None else _JSONLD_TEXT(_root(sel)):
        doc = _loads(text)
        if doc is not None:
            out.extend(_walk(doc))
    return out


def types_of(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.rsplit("/", 1)[-1].lower()}
    if isinstance(t, list):
        return {x.rsplit("/", 1)[-1].lower() for x in t if isinstance(x, str)}
    return set()


def article_object(objs: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The page's main article object: the first article-typed object with a headline, preferring
    ones that carry a body or a date (a page may also describe related articles)."""
    best, best_score = None, -1
    for obj in objs:
        if not types_of(obj) & ARTICLE_TYPES:
            continue
        score = (4 if obj.get("headline") or obj.get("name") else 0) + (2 if obj.get("articleBody") else 0) \
            + (2 if obj.get("datePublished") else 0) + (1 if obj.get("author") else 0)
        if score > best_score:
            best, best_score = obj, score
    return best


def _text(v: Any) -> str | None:
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, dict):
        return _text(v.get("name") or v.get("@value") or v.get("text"))
    if isinstance(v, list):
        for x in v:
            t = _text(x)
            if t:
                return t
    return None


def _names(v: Any, *, persons_only: bool = True) -> list[str]:
    """Author names from str | dict | list; organisations are skipped when persons_only."""
    out: list[str] = []
    if isinstance(v, str):
        out.append(v)
    elif isinstance(v, dict):
        if persons_only and types_of(v) & {"organization", "newsmediaorganization", "corporation"}:
            return []
        name = v.get("name")
        if isinstance(name, list):
            out.extend(x for x in name if isinstance(x, str))
        elif isinstance(name, str):
            out.append(name)
        elif isinstance(v.get("byline"), str):  # Reuters: {"@type": "Person", "byline": "Jane Doe"}
            out.append(v["byline"])
        elif v.get("givenName") or v.get("familyName"):
            out.append(" ".join(x for x in (v.get("givenName"), v.get("familyName")) if isinstance(x, str)))
    elif isinstance(v, list):
        for x in v:
            out.extend(_names(x, persons_only=persons_only))
    return [x.strip() for x in out if x and x.strip()]


def _list(v: Any) -> list[str]:
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            t = _text(x)
            if t:
                out.append(t)
        return out
    return []


def _images(v: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    items = v if isinstance(v, list) else [v]
    for x in items:
        if isinstance(x, str):
            out.append({"url": x, "caption": None, "credit": None})
        elif isinstance(x, dict):
            url = x.get("url") or x.get("contentUrl") or x.get("@id")
            if isinstance(url, list):
                url = url[0] if url else None
            if isinstance(url, str):
                out.append({"url": url, "caption": _text(x.get("caption") or x.get("description")),
                            "credit": _text(x.get("creditText") or x.get("copyrightHolder") or x.get("author"))})
    return out


def jsonld_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Raw Article values from a schema.org article object."""
    free = obj.get("isAccessibleForFree")
    if isinstance(free, str):
        free = {"true": True, "false": False}.get(free.strip().lower())
    main = obj.get("mainEntityOfPage")
    canonical = obj.get("url") or (main.get("@id") if isinstance(main, dict) else main)
    return {
        "headline": _text(obj.get("headline")) or _text(obj.get("name")) or _text(obj.get("alternativeHeadline")),
        "description": _text(obj.get("description")),
        "authors": _names(obj.get("author")) or _names(obj.get("creator")),
        "published_at": _text(obj.get("datePublished")) or _text(obj.get("dateCreated")),
        "modified_at": _text(obj.get("dateModified")),
        "section": _text(obj.get("articleSection")),
        "tags": _list(obj.get("keywords")),
        "language": _text(obj.get("inLanguage")),
        "images": _images(obj.get("image")),
        "body": _text(obj.get("articleBody")),
        "publisher": _text(obj.get("publisher")) or _text(obj.get("sourceOrganization")),
        "is_paywalled": (not free) if isinstance(free, bool) else None,
        "canonical_url": canonical if isinstance(canonical, str) else None,
    }


# ----------------------------------------------------------------------------------- meta tags
# (field, [(attribute, value), ...]) in priority order; values are matched case-insensitively.
META_KEYS: dict[str, tuple[str, ...]] = {
    "headline": ("og:title", "twitter:title", "parsely-title", "sailthru.title", "dc.title", "title"),
    "description": ("og:description", "description", "twitter:description", "dc.description"),
    "authors": ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl",
                "cxenseparse:author", "dcterms.creator"),
    "published_at": ("article:published_time", "og:article:published_time", "parsely-pub-date",
                     "sailthru.date", "dc.date.issued", "dcterms.created", "dc.date", "date", "pubdate",
                     "publish-date", "publishdate", "article.published", "cxenseparse:recs:publishtime",
                     "datepublished", "article:published"),
    "modified_at": ("article:modified_time", "og:updated_time", "dcterms.modified", "last-modified",
                    "article.updated", "datemodified"),
    "section": ("article:section", "parsely-section", "sailthru.section", "section", "og:section"),
    "tags": ("article:tag", "news_keywords", "parsely-tags", "sailthru.tags", "keywords"),
    "language": ("og:locale", "content-language", "language", "dc.language"),
    "publisher": ("og:site_name", "application-name", "publisher", "article:publisher"),
    "canonical_url": ("og:url",),
    "images": ("og:image", "twitter:image"),
}
_MULTI = {"authors", "tags", "images"}


def meta_index(sel: Selector | Any, tags: PageTags | None = None) -> dict[str, list[str]]:
    """All <meta> name/property/itemprop/http-equiv keys (lower-cased) -> contents, in page order."""
    idx: dict[str, list[str]] = {}
    for m in tags.metas if tags is not None else _META(_root(sel)):
        content = (m.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = m.get(attr)
            if key:
                idx.setdefault(key.strip().lower(), []).append(content)
    return idx


def meta_fields(sel: Selector | Any, idx: dict[str, list[str]] | None = None,
                tags: PageTags | None = None) -> dict[str, Any]:
    """Raw Article values from meta tags, <link rel=canonical> and <html lang>."""
    root = _root(sel)
    idx = meta_index(root, tags) if idx is None else idx
    out: dict[str, Any] = {}
    for field, keys in META_KEYS.items():
        for key in keys:
            vals = idx.get(key)
            if not vals:
                continue
            if field in _MULTI:
                if field == "tags" and len(vals) == 1:
                    vals = [x.strip() for x in re.split(r"[,;]", vals[0]) if x.strip()]
                if field == "authors":
                    # article:author is often a profile URL, never a name
                    vals = [v for v in vals if not re.match(r"https?://", v)]
                    if not vals:
                        continue
                out[field] = [{"url": v, "caption": None, "credit": None} for v in vals[:1]] \
                    if field == "images" else vals
            else:
                out[field] = vals[0]
            break
    if "headline" not in out:
        title = tags.title if tags is not None else _first(_TITLE, root)
        if title and title.strip():
            out["headline"] = title.strip()  # last resort; the caller strips the outlet's name
    lang = _first(_HTML_LANG, root)
    if lang and lang.strip():
        out["language"] = lang.strip()  # the document's own declaration beats og:locale
    canonical = tags.canonical if tags is not None else _first(_CANONICAL, root)
    if canonical and canonical.strip():
        out["canonical_url"] = canonical.strip()
    return out
