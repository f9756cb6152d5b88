"""Site layer: an outlet's own selectors, declared as data on its spider class.

An outlet spider declares, for example::

    selectors = {
        "headline": "h1.h1--page-title::text",
        "body": "section[data-title='Content'] div.text-long p",   # paragraph elements
        "images": "figure",                                         # figure elements
    }
    drop_selectors = (".block-ad-entity", ".referenced-card")       # removed before any layer runs
    boilerplate = (r"Also worth reading",)                         # whole-paragraph regexes

and optional ``clean_<field>`` static methods that receive the raw site value and return it cleaned.
A selector is CSS (parsel, ``::text``/``::attr()`` allowed) unless it starts with "/", "./" or "(",
which marks XPath. A field may list several selectors: the first that matches wins.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from parsel import Selector, SelectorList

from newscrawl.processors import clean_text

# Text inside these never belongs to a paragraph's text (inline scripts, ad slots, hidden labels).
_SKIP_TEXT = "self::script or self::style or self::noscript or self::template or self::button"
_TEXT_XPATH = f".//text()[not(ancestor::*[{_SKIP_TEXT}])]"


@dataclass(frozen=True)
class SiteRules:
    """What an outlet contributes to extraction; every attribute is plain data."""

    name: str = ""
    publisher: str | None = None
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drop_selectors: tuple[str, ...] = ()
    boilerplate: tuple[re.Pattern[str], ...] = ()
    timezone: str | None = None
    language: str | None = None
    hooks: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, spider: Any) -> SiteRules:
        """Rules of a spider class or instance (cached per class: built once, not per page)."""
        return _rules_for_class(spider if isinstance(spider, type) else type(spider))


@cache
def _rules_for_class(spidercls: type) -> SiteRules:
    raw = getattr(spidercls, "selectors", None) or {}
    selectors = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in raw.items()}
    hooks = {name[len("clean_"):]: getattr(spidercls, name) for name in dir(spidercls)
             if name.startswith("clean_") and callable(getattr(spidercls, name))}
    return SiteRules(
        name=getattr(spidercls, "name", "") or "",
        publisher=getattr(spidercls, "publisher", None),
        selectors=selectors,
        drop_selectors=tuple(getattr(spidercls, "drop_selectors", ()) or ()),
        boilerplate=tuple(re.compile(p, re.I) if isinstance(p, str) else p
                          for p in getattr(spidercls, "boilerplate", ()) or ()),
        timezone=getattr(spidercls, "timezone", None),
        language=getattr(spidercls, "language", None),
        hooks=hooks,
    )


def select(sel: Selector, query: str) -> SelectorList:
    if query.startswith(("/", "./", "(")):
        return sel.xpath(query)
    return sel.css(query)


_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "button"})
# Elements that start a new line when rendered: their text must not glue onto the previous word.
_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr",
                         "section", "article", "figure", "figcaption", "blockquote", "header", "footer", "dd", "dt"})


def element_text(el: Any, skip: frozenset[Any] | set[Any] = frozenset(), *, separate_elements: bool = False) -> str:
    """Text of an lxml element as rendered: inline elements join without spaces ("the <a>OBR</a>." ->
    "the OBR."; a drop cap "<span>T</span>he" -> "The"), block elements and <br> separate words; scripts,
    styles and ``skip`` elements are left out. ``separate_elements`` (for headings, whose kicker and title
    spans are styled as blocks) also puts a space where two elements would glue a word onto a word or
    onto a colon ("Police arrest two:" + "Theft solved")."""
    pieces: list[str] = []

    def walk(e: Any, top: bool) -> None:
        tag = e.tag if isinstance(e.tag, str) else ""
        if tag in _SKIP_TAGS or e in skip:
            if not top and e.tail:
                pieces.append(e.tail)
            return
        if tag in _BLOCK_TAGS:
            pieces.append(" ")
        if e.text and tag:
            pieces.append(e.text)
        for child in e:
            walk(child, False)
        if tag in _BLOCK_TAGS:
            pieces.append(" ")
        if not top and e.tail:
            pieces.append(e.tail)

    walk(el, True)
    if not separate_elements:
        return "".join(pieces)
    text = ""
    for piece in pieces:
        if text and piece and piece[0].isalnum() and (text[-1].isalnum() or text[-1] in ":;,.!?"):
            text += " "
        text += piece
    return text


def node_text(node: Selector) -> str:
    """Visible text of an element (or the string itself for ::text / ::attr results)."""
    if isinstance(node.root, str):
        return node.root
    return element_text(node.root)


def drop_nodes(sel: Selector, queries: tuple[str, ...]) -> int:
    """Remove boilerplate blocks from the parsed tree, in place, before any layer reads it."""
    removed = 0
    for q in queries:
        for node in select(sel, q):
            el = node.root
            parent = el.getparent() if hasattr(el, "getparent") else None
            if parent is not None:
                # keep the tail text (it belongs to the parent), drop the element
                if el.tail:
                    prev = el.getprevious()
                    if prev is not None:
                        prev.tail = (prev.tail or "") + el.tail
                    else:
                        parent.text = (parent.text or "") + el.tail
                parent.remove(el)
                removed += 1
    return removed


def first_match(sel: Selector, queries: tuple[str, ...]) -> SelectorList | None:
    for q in queries:
        found = select(sel, q)
        if found:
            return found
    return None


def site_values(sel: Selector, rules: SiteRules, base_url: str) -> dict[str, Any]:
    """Raw field values from the outlet's selectors (hooks applied)."""
    out: dict[str, Any] = {}
    for fieldname, queries in rules.selectors.items():
        found = first_match(sel, queries)
        if found is None:
            continue
        if fieldname == "body":
            value: Any = [t for t in (clean_text(node_text(n)) for n in found) if t]
        elif fieldname == "images":
            value = [img for img in (figure_image(n, base_url, rules.selectors.get("image_caption"),
                                                  rules.selectors.get("image_credit")) for n in found) if img]
        elif fieldname in ("image_caption", "image_credit"):
            continue  # read per figure by figure_image
        elif fieldname == "section":  # breadcrumbs "World > Europe": the top-level section
            value = next((t for t in (clean_text(node_text(n)) for n in found) if t), None)
        elif fieldname in ("authors", "tags"):
            value = [t for t in (clean_text(node_text(n)) for n in found) if t]
        else:
            value = clean_text(" ".join(node_text(n) for n in found))
        hook = rules.hooks.get(fieldname)
        if hook is not None:
            value = hook(value)
        if value:
            out[fieldname] = value
    return out


def widest_candidate(srcset: str) -> str | None:
    """The largest image of a srcset ("a.jpg 800w, b.jpg 1600w" -> "b.jpg"); the first one carries the
    thumbnail on many sites (DW's 50-pixel "..._800.jpg" first)."""
    best, best_w = None, -1.0
    for candidate in srcset.split(","):
        parts = candidate.strip().split()
        if not parts or parts[0].startswith("data:"):
            continue
        width = 0.0
        if len(parts) > 1 and parts[1][-1:] in ("w", "x"):
            try:
                width = float(parts[1][:-1]) * (1000 if parts[1].endswith("x") else 1)
            except ValueError:
                width = 0.0
        if width > best_w:
            best, best_w = parts[0], width
    return best


def figure_image(node: Selector, base_url: str, caption_q: tuple[str, ...] | None = None,
                 credit_q: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """{url, caption, credit} from a <figure> (or an <img> itself). An outlet may name where the caption and
    the credit live inside its figures (``image_caption`` / ``image_credit`` selectors, relative to the figure),
    e.g. NPR's ``div.caption`` or BBC's bare credit ``<span>``."""
    src = None
    for q in ("./@src", "./@data-src", ".//img/@src", ".//img/@data-src"):
        src = node.xpath(q).get()
        if src and not src.startswith("data:"):
            break
        src = None
    if not src:  # lazy-loaded pictures: only a srcset; take its widest image, not the first (a thumbnail)
        for q in (".//img/@srcset", ".//source/@srcset", "./@srcset"):
            srcset = node.xpath(q).get()
            src = widest_candidate(srcset) if srcset else None
            if src:
                break
    if not src:
        return None
    found = first_match(node, caption_q) if caption_q else None
    caption = clean_text(" ".join(node_text(n) for n in found)) if found else None
    figcaption = node.xpath(".//figcaption")
    # only the first figcaption: some pages print the same caption twice (a visible one and a hidden one)
    caption = caption or (clean_text(element_text(figcaption[0].root)) if figcaption else None) \
        or clean_text(node.xpath(".//img/@alt | ./@alt").get())
    found = first_match(node, credit_q) if credit_q else None
    credit = clean_text(" ".join(node_text(n) for n in found)) if found else None
    credit = credit or clean_text(" ".join(node.xpath(
        ".//*[contains(@class, 'credit') or contains(@class, 'copyright')]//text()").getall()))
    if caption and credit and caption.endswith(credit):
        caption = caption[: -len(credit)].rstrip() or None
    return {"url": src, "caption": caption, "credit": credit, "base": base_url}
