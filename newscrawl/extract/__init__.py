"""Extraction core: site selectors -> JSON-LD -> meta -> generic, field by field.

Each page is parsed once (parsel/lxml); every layer reads that one tree. The first layer whose value
survives the field's input processor wins, and the winning layer is recorded in ``provenance``.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector

from newscrawl import processors as p
from newscrawl.extract.drop import drop_nodes
from newscrawl.extract.pagetype import classify_page
from newscrawl.extract.site import PageQueries, SiteRules, element_text, site_values
from newscrawl.extract.structured import (
    PageTags,
    article_object,
    jsonld_fields,
    jsonld_objects,
    meta_fields,
    meta_index,
    types_of,
)
from newscrawl.items import Article
from newscrawl.loaders import ArticleBuilder, ArticleLoader

logger = logging.getLogger(__name__)

GENERIC_RULES = SiteRules()

# Fields filled layer by layer, in this order (body is handled on its own).
LAYERED_FIELDS = ("canonical_url", "publisher", "headline", "description", "authors", "published_at",
                  "modified_at", "section", "tags", "language", "dateline", "wire_source", "images", "is_paywalled")

GENERIC_FIELDS = ("headline", "authors", "published_at", "language", "description", "section", "tags")


@dataclass
class Extraction:
    """The outcome for one page: an Article, or why there is none."""

    item: Article                  # built even for non-articles (batch extraction reports it)
    kind: str = "article"          # article | index | video | not_found | empty
    reason: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def is_article(self) -> bool:
        return self.kind == "article"


def _now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _strip_site_suffix(title: str | None, site_names: list[str]) -> str | None:
    """'Headline | Outlet' -> 'Headline' (og:title and <title> often carry the outlet's name).

    Also the "Headline_Channel_Site" form of Chinese portals ("..._教育频道_中国青年网"): underscore-
    separated short trailing segments after a long first one."""
    if not title:
        return title
    parts = title.split("_")
    if len(parts) >= 3 and len(parts[0]) >= 8 and all(len(x) <= 12 for x in parts[1:]):
        return parts[0].strip()
    for name in site_names:
        if not name:
            continue
        stripped = _without_name(title, name)
        if stripped is not None:
            return stripped
    return title


_TITLE_SEPARATORS = frozenset("|-–—:·•")


def _without_name(title: str, name: str) -> str | None:
    """The title without "<sep> name" at its end, else without "name <sep>" at its start, else None.

    Exactly what re.match(rf"^(.*\\S)\\s+[|\\-–—:·•]\\s+{re.escape(name)}\\s*$", title, re.I), then
    re.match(rf"^{re.escape(name)}\\s+[|\\-–—:·•]\\s+(\\S.*)$", title, re.I) capture. ASCII text (nearly every
    title) is matched with string operations: compiling those two patterns for each outlet name cost more than
    the rest of the headline work on the first page of every outlet."""
    if not (title.isascii() and name.isascii()) or name != name.strip():
        m = re.match(rf"^(.*\S)\s+[|\-–—:·•]\s+{re.escape(name)}\s*$", title, re.I) or \
            re.match(rf"^{re.escape(name)}\s+[|\-–—:·•]\s+(\S.*)$", title, re.I)
        return m.group(1) if m else None
    lowered, key = title.lower(), name.lower()
    end = len(title.rstrip())
    if end > len(key) and lowered[end - len(key):end] == key:
        before = title[:end - len(key)]
        head = before.rstrip()
        if len(head) < len(before) and head and head[-1] in _TITLE_SEPARATORS:
            rest = head[:-1]
            headline = rest.rstrip()
            if len(headline) < len(rest) and headline and "\n" not in headline:
                return headline
    if lowered.startswith(key):
        after = title[len(key):]
        tail = after.lstrip()
        if len(tail) < len(after) and tail and tail[0] in _TITLE_SEPARATORS:
            rest = tail[1:]
            headline = rest.lstrip()
            if len(headline) < len(rest) and headline:
                cut = headline.find("\n")
                if cut == -1:
                    return headline
                if cut == len(headline) - 1:  # "$" also matches just before a final newline
                    return headline[:-1]
    return None


_VISIBLE_PARAGRAPH_TEXT = etree.XPath(
    "//p[not(ancestor::nav or ancestor::footer or ancestor::header or ancestor::aside)]", regexp=False,
    smart_strings=False)
_ALL_TEXT = etree.XPath(".//text()", regexp=False, smart_strings=False)
_ARTICLE_H1 = etree.XPath("//article//h1 | //main//h1", regexp=False)
_H1 = etree.XPath("//h1", regexp=False)


def _body_is_complete(body: str | None, root: Any) -> bool:
    """A JSON-LD articleBody is usually a teaser cut at N characters: trust it only when it does not
    end in an ellipsis and is at least as long as the visible text of the page's <p> elements."""
    if not body or len(body) < 200:
        return False
    tail = body.rstrip()[-3:]
    if tail.endswith(("…", "...", "[…]")):
        return False
    visible = sum(len(" ".join(_ALL_TEXT(x))) for x in _VISIBLE_PARAGRAPH_TEXT(root))
    return len(body) >= 0.7 * visible


_TOKENS = re.compile(r"\w+")
_CODE = re.compile(r"^[A-Z0-9_:-]{2,12}$")


def _is_code_list(value: Any) -> bool:
    """A keyword list made only of short upper-case codes (Reuters' "AER,AERO,INDG08,...")."""
    tags = value if isinstance(value, list) else [value]
    tags = [t.strip() for t in tags if isinstance(t, str) and t.strip()]
    return len(tags) >= 3 and all(_CODE.match(t) for t in tags)
_BRAND_TAILS = {"de", "com", "net", "online", "news", "nachrichten", "tv", "digital"}


def _alnum_key(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _brand_keys(site_names: list[str], url: str) -> set[str]:
    """The outlet's own name in comparable form: og:site_name, publisher, and the host's main label
    ("n-tv.de" -> "ntv", "www.lesothotimes.com" -> "lesothotimes")."""
    keys = {_alnum_key(n) for n in site_names}
    host = (urlsplit(url).hostname or "").lower()
    labels = [x for x in host.split(".") if x not in ("www", "m", "amp")]
    if len(labels) >= 2:
        keys.add(_alnum_key(labels[-3] if len(labels) >= 3 and len(labels[-2]) <= 3 else labels[-2]))
    return {k for k in keys if len(k) >= 2}


def _is_brand(name: str, brands: set[str]) -> bool:
    """Whether a byline is the outlet itself ("n-tv NACHRICHTEN", "Lesotho Times", "Mdr De"), not a person."""
    key = _alnum_key(name)
    for brand in brands:
        if key == brand or (brand.startswith(key) and len(key) >= max(3, 0.6 * len(brand))):
            return True
        if key.startswith(brand) and (key[len(brand):] in _BRAND_TAILS or len(key) - len(brand) <= 2):
            return True
    return False


def _visible_headline(root: Any, structured: list[str | None]) -> str | None:
    """The page's own <h1>, when structured data corroborates it.

    SEO titles in JSON-LD/og:title often differ from what readers see ("Kollaps der Silicon Valley
    Bank: US-Notenbank räumt ..." vs the visible "Silicon Valley Bank: Federal Reserve räumt ...").
    The visible h1 wins when it shares at least half its words with a structured title (so a logo or
    section name in an <h1> never does)."""
    titles = [t for t in structured if t]
    if not titles:
        return None
    h1s = _ARTICLE_H1(root) or _H1(root)
    if not h1s:
        return None
    text = _heading_text(h1s[0])
    if not text or not 10 <= len(text) <= 300:
        return None
    words = {w.casefold() for w in _TOKENS.findall(text)}
    for title in titles:
        other = {w.casefold() for w in _TOKENS.findall(title)}
        if words and len(words & other) >= 0.5 * len(words):
            return text
    return None


_KICKER = re.compile(r"kicker|topline|overline|dachzeile|eyebrow|roofline|spitzmarke", re.I)


def _heading_text(h1: Any) -> str | None:
    """Text of a heading element, read the way it is shown.

    - A kicker and its separator element read "LTE-Patent: Samsung ..." (not "LTE-Patent : Samsung ...").
    - A kicker element followed by no separator (``<span class="topline">Premier League</span>
      <span>Liverpool lose ...</span>``) is a label, not part of the headline, and is dropped.
    """
    if not hasattr(h1, "iter"):
        return None
    children = [c for c in h1 if isinstance(c.tag, str)]
    skip = set()
    for i, child in enumerate(children):
        if _KICKER.search(child.get("class", "")):
            nxt = children[i + 1] if i + 1 < len(children) else None
            sep = (child.tail or "").strip() or (nxt is not None and (nxt.text_content() or "").strip() in (":", "-", "–", "|"))
            if not sep and nxt is not None:
                skip.add(child)
    text = element_text(h1, skip, separate_elements=True)
    return p.clean_text(re.sub(r"\s+([:,])", r"\1", text))


def _fill_date(loader: ArticleBuilder, name: str, layers: list[tuple[str, Callable[[str], Any]]],
               rules: SiteRules, provenance: dict[str, str]) -> None:
    """Dates: the first layer with a full timestamp (time and offset) wins; a bare date only when no
    layer has better. E.g. JSON-LD "2023-04-28 18:11:01.0" (no zone: only a date) loses to the meta
    tag "2023-04-28T18:11:01+02:00" of the same page."""
    fallback: tuple[str, str] | None = None
    for layer, get in layers:
        if layer == "generic" and rules.selectors:
            continue
        value = get(name)
        if not value:
            continue
        parsed = _parse_date(value, rules.timezone)
        if not parsed:
            continue
        if "T" in parsed:
            loader.add_value(name, parsed)
            provenance[name] = layer
            return
        fallback = fallback or (parsed, layer)
    if fallback:
        loader.add_value(name, fallback[0])
        provenance[name] = fallback[1]


def _parse_date(value: Any, tz: str | None) -> str | None:
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
    return p.parse_datetime(value, tz)


# lxml.html's class lookup picks a Python class per element tag in Python (FormElement, InputElement...): ~1 µs
# for every element lxml hands to Python (each XPath result, each iterated element), ~200 times a page.
# Extraction needs none of those form helpers, so the page's parser gets lxml's C-level lookup to the same
# HtmlElement class for every element. Only a parser of this one document (parsel makes one per page): lxml.html's
# module-level parsers, which lxml.html.fromstring shares across a process, are left alone.
_FAST_LOOKUP = etree.ElementDefaultClassLookup(element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
                                               pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity)


def _fast_element_proxies(root: Any) -> None:
    try:
        parser = root.getroottree().parser
    except AttributeError:  # not an lxml element
        return
    if isinstance(parser, lxml_html.HTMLParser) and parser is not lxml_html.html_parser:
        parser.set_element_class_lookup(_FAST_LOOKUP)


def extract_article(
    sel: Selector,
    url: str,
    rules: SiteRules = GENERIC_RULES,
    *,
    hint: dict[str, Any] | None = None,
    fetched_at: str | None = None,
    html: str | None = None,
    loader_class: type[ArticleLoader] = ArticleLoader,
    source: str | None = None,
) -> Extraction:
    """Extract one page that was parsed once into ``sel``. Mutates ``sel``'s tree (drop_selectors)."""
    hint = hint or {}
    root = sel.root
    _fast_element_proxies(root)
    tags = PageTags.of(root)
    objs = jsonld_objects(root, tags)
    ld = article_object(objs)
    ld_values = jsonld_fields(ld) if ld else {}
    idx = meta_index(root, tags)
    meta_values = meta_fields(root, idx, tags)
    page = PageQueries(root)
    if rules.drop_selectors:
        drop_nodes(root, rules.drop_selectors, page)
    site = site_values(root, rules, url, page) if rules.selectors else {}
    if rules.publisher:
        # the outlet's own name, not whatever its JSON-LD says this week ("AP News" vs "Associated Press")
        site.setdefault("publisher", rules.publisher)

    generic_cache: dict[str, Any] = {}

    def generic(key: str) -> Any:
        if "meta" not in generic_cache:
            from newscrawl.extract.generic import generic_metadata
            generic_cache["meta"] = generic_metadata(root, url, html=html) or {}
        return generic_cache["meta"].get({"published_at": "published"}.get(key, key))

    site_names = [n for n in (meta_values.get("publisher"), ld_values.get("publisher"), rules.publisher) if n]
    brands = _brand_keys(site_names, url)
    meta_values["headline"] = _strip_site_suffix(meta_values.get("headline"), site_names)

    loader = ArticleBuilder(loader_class, item=Article(), selector=sel, base_url=url, timezone=rules.timezone)
    provenance: dict[str, str] = {}

    layers: list[tuple[str, Callable[[str], Any]]] = [
        ("site", site.get),
        ("jsonld", ld_values.get),
        ("meta", meta_values.get),
        ("hint", {"headline": hint.get("title"), "published_at": hint.get("published"),
                  "language": hint.get("language"), "tags": hint.get("keywords")}.get),
        ("generic", generic),
    ]
    if not site.get("headline"):
        visible = _visible_headline(root, [ld_values.get("headline"), meta_values.get("headline")])
        if visible:
            loader.add_value("headline", visible)
            provenance["headline"] = "generic"
    for name in LAYERED_FIELDS:
        if name == "headline" and "headline" in provenance:
            continue
        if name in ("published_at", "modified_at"):
            _fill_date(loader, name, layers, rules, provenance)
            continue
        for layer, get in layers:
            # Outlets with their own selectors skip the generic metadata pass: it costs several ms a page
            # and guesses where the outlet's markup and structured data are authoritative.
            if layer == "generic" and (rules.selectors or name not in GENERIC_FIELDS):
                continue
            value = get(name)
            if value is None or value == [] or value == "":
                continue
            if name == "tags" and layer in ("meta", "jsonld") and _is_code_list(value):
                continue  # "AER,AERO,INDG08,TRN": internal topic codes, not tags
            if name == "authors":
                loader.add_value("authors", [a for a in p.split_authors(value) if not _is_brand(a, brands)])
            else:
                loader.add_value(name, value)
            if loader.get_collected_values(name):
                provenance[name] = layer
                break
    # Outlet defaults, recorded as the site layer: a CNA page is CNA's, in English, in Singapore time.
    for name, default in (("language", rules.language),):
        if default and not loader.get_collected_values(name):
            loader.add_value(name, default)
            provenance[name] = "site"

    # Body: site paragraphs, else a complete JSON-LD articleBody, else the generic extractor.
    body_layer, paragraphs = None, []
    if site.get("body"):
        body_layer, paragraphs = "site", site["body"]
    elif _body_is_complete(ld_values.get("body"), root):
        body_layer, paragraphs = "jsonld", p.split_paragraphs(ld_values["body"].replace("\r", ""))
    else:
        from newscrawl.extract.generic import generic_body
        paragraphs = generic_body(root, url, html=html)
        body_layer = "generic" if paragraphs else None
    paragraphs = p.clean_paragraphs(paragraphs)

    loader.add_value("url", url)
    if source:
        loader.add_value("source", source)
    item = loader.load_item()
    if paragraphs:
        item["body"] = p.join_paragraphs(paragraphs)
        provenance["body"] = body_layer or "generic"
    else:
        item.pop("body", None)
    for name in ("authors", "tags", "images"):
        item.setdefault(name, [])
    item["fetched_at"] = fetched_at or _now_iso()
    item["provenance"] = provenance

    kind, reason = classify_page(item, objs=objs, ld=ld, meta=idx, url=url,
                                 types=set().union(*(types_of(o) for o in objs)) if objs else set())
    return Extraction(item=item, kind=kind, reason=reason,
                      values={"site": site, "jsonld": ld_values, "meta": meta_values})


def build_article(response: Any, spider: Any) -> Article | None:
    """Spider callback helper: the Article of a response, or None (with a stat) for non-articles."""
    from scrapy.http import TextResponse

    stats = getattr(getattr(spider, "crawler", None), "stats", None)
    if not isinstance(response, TextResponse):
        if stats:
            stats.inc_value("newscrawl/extract/skipped/not_text")
        logger.warning("Not a text response, no article extracted: %s", response.url)
        return None
    try:
        sel = response.selector
    except Exception as exc:  # noqa: BLE001 - broken markup must never kill the crawl
        if stats:
            stats.inc_value("newscrawl/extract/errors/parse")
        logger.warning("Could not parse %s: %r", response.url, exc)
        return None
    rules = SiteRules.of(spider)
    loader_class = getattr(spider, "loader_class", ArticleLoader)
    result = extract_article(sel, response.url, rules, hint=response.meta.get("newscrawl_hint"),
                             html=response.text, loader_class=loader_class,
                             source=getattr(spider, "source_name", None) or getattr(spider, "name", None))
    if not result.is_article:
        if stats:
            stats.inc_value(f"newscrawl/extract/not_article/{result.kind}")
        logger.info("Not an article (%s: %s): %s", result.kind, result.reason, response.url)
        return None
    if stats:
        stats.inc_value("newscrawl/extract/articles")
    return result.item
