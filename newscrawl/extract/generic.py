"""Generic article-body fallback: trafilatura plus DOM-aware post-filters.

Used when an outlet's own selectors and JSON-LD give no body. The pipeline is:

1. trafilatura (balanced mode, comments off) on the page's tree gives body blocks;
2. each block is located in the ORIGINAL tree through a whitespace-free text index,
   so that structural facts trafilatura throws away (the block sits in an ``<a>``,
   a fact box, an author bio, a caption...) can be checked;
3. post-filters drop the headline, furniture and duplicated blocks;
4. a standfirst (lead) that trafilatura skipped is put back when the page's own
   meta description points at it;
5. when trafilatura finds nothing, the largest cluster of ``<p>`` in one container
   is used instead.

Nothing here knows any outlet by name: every rule is about markup or wording that
many sites share.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from copy import deepcopy
from typing import Any, Iterable

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

__all__ = ["generic_body", "generic_metadata"]

# Trafilatura drops reader comments itself only when asked; comment threads are never body.
_TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "with_metadata": False,
}
# The caller's tree comes from parsel, which keeps HTML comments; trafilatura's own parser drops
# them. Left in, "<p>Half a sentence<!-- ad slot --> and the rest</p>" loses "and the rest" in
# trafilatura's text handling, so the comments go from trafilatura's private copy of the tree.
_PRUNE_XPATH = ["//comment()", "//processing-instruction()"]

_SKIP_TEXT = frozenset({"script", "style", "noscript", "template"})
_BLOCK_TAGS = frozenset(
    "p li h1 h2 h3 h4 h5 h6 div td th blockquote section article dd dt figcaption pre header footer "
    "main aside nav figure ul ol dl table body form address center details summary caption".split()
)
# Structural containers that never hold body text when they sit inside the article.
_FURNITURE_TAGS = frozenset({"nav", "aside", "footer", "figure", "figcaption", "dl"})
# class/id fragments of boxes that sit inside the article container but are not its body:
# fact boxes ("metro-factbox"), info boxes, author bios, consent placeholders ("sourcepoint"),
# captions, share bars, comment prompts, and things the page itself hides.
_FURNITURE_CLASS = re.compile(
    r"fact-?box|info-?box|author|biography|\bbio\b|sourcepoint|caption|social|comment|hidden"
)
# Lines that are page furniture in any article, whatever the outlet.
_FURNITURE_TEXT = re.compile(
    r"^(?:advertisement|anzeige|werbung|publicité|publicidad|pubblicità|reklama|advertentie"
    r"|read more|read next|more:|related:|see also|also read|lesen sie auch|mehr zum thema"
    r"|lire aussi|leggi anche|lee también|czytaj (?:też|także|więcej)"
    r"|share this( article| story)?|share on \w+|follow us|sign up|subscribe|click here"
    r"|skip to (?:main )?content|this is a modal window)\b",
    re.IGNORECASE,
)
_WS = re.compile(r"\s+")

# A body shorter than this with no real paragraph is a listing, not an article.
_MIN_ARTICLE_CHARS = 200
_MIN_PARAGRAPH_CHARS = 80
# Share of the extracted text the article container must hold (see _container).
_CONTAINER_SHARE = 0.7


def generic_body(root: HtmlElement, url: str | None = None, *, html: str | None = None) -> list[str]:
    """Return the article's body paragraphs in document order, or [] when none is found.

    ``root`` is the page's parsed tree; it is never modified. ``html`` is accepted for symmetry
    with the other layers but not needed: copying the tree is faster than parsing the string.
    """
    if root is None:
        return []
    try:
        blocks = _trafilatura_blocks(root, url)
    except Exception as exc:  # trafilatura bugs on odd markup must not kill the crawl
        logger.warning("generic body: trafilatura failed on %s: %r", url, exc)
        blocks = []

    index = _TextIndex(root)
    located = index.locate_all(blocks)
    located = _drop_headline(root, located)
    kept = _filter_blocks(located)
    paragraphs = [text for _, text, _ in kept]
    paragraphs = _add_lead(root, index, paragraphs)

    if not _is_article(paragraphs):
        paragraphs = _paragraph_cluster(root)
        if not _is_article(paragraphs):
            return []
    return paragraphs


def generic_metadata(root: HtmlElement, url: str | None = None, *, html: str | None = None) -> dict[str, Any]:
    """Return fallback metadata found by trafilatura and htmldate.

    Keys: headline, authors (list), published (raw string), language, description, section,
    tags. Costs a few milliseconds (htmldate's date search dominates): call it only when
    structured data has nothing.
    """
    out: dict[str, Any] = {
        "headline": None,
        "authors": [],
        "published": None,
        "language": None,
        "description": None,
        "section": None,
        "tags": [],
    }
    if root is None:
        return out
    try:
        doc = trafilatura.extract_metadata(deepcopy(root), default_url=url)
    except Exception as exc:
        logger.warning("generic metadata: trafilatura failed on %s: %r", url, exc)
        doc = None
    if doc is not None:
        out["headline"] = doc.title or None
        if doc.author:
            out["authors"] = [a.strip() for a in doc.author.split(";") if a.strip()]
        out["published"] = doc.date or None
        out["description"] = doc.description or None
        if doc.categories:
            out["section"] = doc.categories[0]
        out["tags"] = list(doc.tags or [])
    out["language"] = _page_language(root)
    return out


# --------------------------------------------------------------------------- trafilatura


def _trafilatura_blocks(root: HtmlElement, url: str | None) -> list[tuple[str, str]]:
    """Run trafilatura on the tree and flatten its XML body into (kind, text) blocks."""
    # bare_extraction copies an lxml input before working on it, so ``root`` stays untouched.
    doc = trafilatura.bare_extraction(root, url=url, prune_xpath=_PRUNE_XPATH, **_TRAFILATURA_OPTIONS)
    if doc is None or doc.body is None:
        return []
    out: list[tuple[str, str]] = []
    _walk_body(doc.body, out)
    return out


def _walk_body(parent: etree._Element, out: list[tuple[str, str]]) -> None:
    # Loose text sits in .text/.tail: "<head>Deal</head>The price has dropped..." keeps the
    # paragraph as the heading's tail when the page had no <p> around it.
    if parent.text and parent.text.strip():
        out.extend(("p", line) for line in _split_lines(parent.text))
    for child in parent:
        _walk_child(child, out)
        if child.tail and child.tail.strip():
            out.extend(("p", line) for line in _split_lines(child.tail))


def _split_lines(text: str) -> list[str]:
    return [t for t in (_norm(x) for x in text.split("\n")) if t]


def _walk_child(child: etree._Element, out: list[tuple[str, str]]) -> None:
    tag = child.tag
    if tag == "list":
        _walk_list(child, out)
    elif tag == "table":
        for row in child.iter("row"):
            cells = (" ".join(_lines(cell)) for cell in row if cell.tag == "cell")
            text = _norm(" ".join(c for c in cells if c))
            if text:
                out.append(("row", text))
    elif tag in ("quote", "div") and any(x.tag in _NESTED_BLOCKS for x in child):
        _walk_body(child, out)
    elif tag != "graphic":
        out.extend((tag, line) for line in _lines(child))


def _walk_list(lst: etree._Element, out: list[tuple[str, str]]) -> None:
    """Each list item is a paragraph; a nested list's items follow their parent item."""
    for item in lst:
        if item.tag != "item":
            continue
        nested = [x for x in item if x.tag == "list"]
        out.extend(("item", line) for line in _lines(item, skip=nested))
        for sub in nested:
            _walk_list(sub, out)


_NESTED_BLOCKS = frozenset({"p", "list", "head", "quote", "table"})


def _lines(el: etree._Element, skip: Iterable[etree._Element] = ()) -> list[str]:
    """Text of a trafilatura element split at its line breaks (<lb/>) and nested blocks."""
    parts: list[str] = []
    skipped = set(skip)

    def flat(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for c in node:
            if c in skipped:
                pass
            elif c.tag == "lb":
                parts.append("\n")
            elif c.tag in _NESTED_BLOCKS:
                parts.append("\n")
                flat(c)
                parts.append("\n")
            else:
                flat(c)
            if c.tail:
                parts.append(c.tail)

    flat(el)
    return [t for t in (_norm(x) for x in "".join(parts).split("\n")) if t]


# --------------------------------------------------------------------------- text index


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _compact(s: str) -> str:
    return "".join(s.split())


class _TextIndex:
    """The tree's visible text without whitespace, with the element owning each piece.

    Whitespace is dropped so that trafilatura's re-spaced text ("foo bar" for
    ``foo<b>bar</b>``) still matches the source.
    """

    def __init__(self, root: HtmlElement) -> None:
        parts: list[str] = []
        starts: list[int] = []
        owners: list[etree._Element] = []
        pos = 0
        skip = 0
        body = root.find("body")
        start = body if body is not None else root
        for event, el in etree.iterwalk(start, events=("start", "end")):
            tag = el.tag
            if not isinstance(tag, str):  # comment or processing instruction: only its tail counts
                if event == "end" and skip == 0 and el.tail:
                    t = _compact(el.tail)
                    if t:
                        starts.append(pos), owners.append(el.getparent()), parts.append(t)
                        pos += len(t)
                continue
            if event == "start":
                if tag in _SKIP_TEXT:
                    skip += 1
                elif skip == 0 and el.text:
                    t = _compact(el.text)
                    if t:
                        starts.append(pos), owners.append(el), parts.append(t)
                        pos += len(t)
            else:
                if tag in _SKIP_TEXT:
                    skip -= 1
                if skip == 0 and el.tail and el is not start:
                    t = _compact(el.tail)
                    if t:
                        starts.append(pos), owners.append(el.getparent()), parts.append(t)
                        pos += len(t)
        self.text = "".join(parts)
        self._starts = starts
        self._owners = owners

    def owner_at(self, offset: int) -> etree._Element | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        return self._owners[i] if i >= 0 else None

    def find(self, text: str, start: int = 0) -> tuple[int, int]:
        """Offset of ``text`` (searched from ``start`` first, then from the top) and its end; -1 if absent."""
        key = _compact(text)
        for n in (80, 30, 12):
            k = key[:n]
            if not k:
                break
            i = self.text.find(k, start)
            if i < 0 and start:
                i = self.text.find(k)
            if i >= 0:
                return i, i + len(key)
        return -1, start

    def locate_all(self, blocks: list[tuple[str, str]]) -> list[tuple[str, str, etree._Element | None]]:
        """Pair each block with the source element holding its first character."""
        out = []
        pos = 0
        for kind, text in blocks:
            i, end = self.find(text, pos)
            el = None
            if i >= 0:
                pos = end
                el = self.owner_at(i)
            out.append((kind, text, el))
        return out


# --------------------------------------------------------------------------- filters


def _block_of(el: etree._Element) -> etree._Element:
    x = el
    while x is not None and x.tag not in _BLOCK_TAGS:
        x = x.getparent()
    return x if x is not None else el


def _container(located: list[tuple[str, str, etree._Element | None]]) -> etree._Element | None:
    """Deepest element holding most of the extracted text: the article container."""
    total = 0
    weight: Counter = Counter()
    for _, text, el in located:
        if el is None:
            continue
        n = len(text)
        total += n
        weight[el] += n
        for anc in el.iterancestors():
            weight[anc] += n
    best, best_depth = None, -1
    for el, w in weight.items():
        if w >= _CONTAINER_SHARE * total:
            depth = sum(1 for _ in el.iterancestors())
            if depth > best_depth:
                best, best_depth = el, depth
    return best


def _path_below(el: etree._Element, container: etree._Element | None) -> list[etree._Element]:
    """``el`` and its ancestors up to (not including) the container or their common ancestor.

    Page-wide wrappers above the article often carry words like "comments" or "hidden"
    ("js-comments-enabled"); only the boxes between the block and the article count.
    """
    if container is None:
        return [el]
    stop = set(container.iterancestors())
    stop.add(container)
    out = []
    x = el
    while x is not None and x not in stop:
        out.append(x)
        x = x.getparent()
    return out


def _link_ratio(el: etree._Element) -> float:
    total = len(_compact(el.text_content())) or 1
    linked = sum(len(_compact(a.text_content())) for a in el.iter("a"))
    return linked / total


def _class_blob(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _headline_texts(root: HtmlElement) -> set[str]:
    found = set()
    for x in root.xpath(
        "//head/title | //meta[@property='og:title' or @name='twitter:title']/@content | //h1"
    ):
        t = _compact(x if isinstance(x, str) else x.text_content())
        if t:
            found.add(t)
    return found


def _drop_headline(root: HtmlElement, located: list) -> list:
    """Trafilatura often keeps the <h1>; the body must not repeat the headline."""
    titles = _headline_texts(root)
    return [b for b in located if _compact(b[1]) not in titles]


def _filter_blocks(located: list) -> list:
    container = _container(located)
    kept = []
    for kind, text, el in located:
        if _FURNITURE_TEXT.match(text) and len(text) < 120:
            continue
        if el is not None:
            path = _path_below(_block_of(el), container)
            tags = {x.tag for x in path}
            # A paragraph wrapped in a link is a teaser card ("<a><div><p>Other story…</p></div></a>").
            if "a" in tags or tags & _FURNITURE_TAGS:
                continue
            if any(_FURNITURE_CLASS.search(_class_blob(x)) for x in path):
                continue
            # Lists of links below an article are "related stories", not body lists.
            if kind == "item":
                li = next((x for x in path if x.tag == "li"), None)
                if li is not None and _link_ratio(li) > 0.5:
                    continue
        kept.append((kind, text, el))
    return kept


# --------------------------------------------------------------------------- lead


def _descriptions(root: HtmlElement) -> list[str]:
    out = []
    for x in root.xpath(
        "//meta[@property='og:description' or @name='description' or @name='twitter:description']/@content"
    ):
        x = x.strip().rstrip(".…").strip()
        if len(x) >= 30:
            out.append(x)
    return out


def _add_lead(root: HtmlElement, index: _TextIndex, paragraphs: list[str]) -> list[str]:
    """Put back a standfirst that trafilatura skipped because it sits in the article header.

    The page's meta description is usually the standfirst, or its start; when that text is
    visible before the first body paragraph, the whole element holding it is the lead.
    """
    if not paragraphs:
        return paragraphs
    joined = _compact(" ".join(paragraphs))
    first, _ = index.find(paragraphs[0])
    for desc in _descriptions(root):
        key = _compact(desc)[:40]
        if key in joined:
            return paragraphs
        i = index.text.find(key)
        if i < 0 or (first >= 0 and i > first):
            continue
        owner = index.owner_at(i)
        if owner is None:
            continue
        lead = _norm(_block_of(owner).text_content())
        lead_key = _compact(lead)
        # a whole header or page wrapper is not a lead
        if len(lead_key) > 3 * len(_compact(desc)) + 50:
            continue
        rest = [p for p in paragraphs if _compact(p) not in lead_key]
        return [lead, *rest]
    return paragraphs


# --------------------------------------------------------------------------- fallback


_CLUSTER_SKIP = frozenset({"a", "nav", "aside", "footer", "header", "figure", "figcaption", "form", "button"})


def _paragraph_cluster(root: HtmlElement) -> list[str]:
    """Text of the container holding the most <p> text (used when trafilatura finds nothing)."""
    score: Counter = Counter()
    for p in root.iter("p"):
        if any(a.tag in _CLUSTER_SKIP for a in p.iterancestors()):
            continue
        text = _norm(p.text_content())
        if len(text) < 40 or _link_ratio(p) > 0.5:
            continue
        parent = p.getparent()
        if parent is not None:
            score[parent] += len(text)
    if not score:
        return []
    best, _ = score.most_common(1)[0]
    out = []
    for el in best.iter("p", "h2", "h3", "h4", "li", "blockquote"):
        if el.tag != "p" and any(True for _ in el.iter("p")):
            continue  # its paragraphs come on their own
        if any(a.tag in _CLUSTER_SKIP for a in el.iterancestors() if a is not best):
            continue
        text = _norm(el.text_content())
        if text and not (_FURNITURE_TEXT.match(text) and len(text) < 120):
            out.append(text)
    return out


def _is_article(paragraphs: list[str]) -> bool:
    """A section index yields a few short teaser lines; an article has real paragraphs."""
    if not paragraphs:
        return False
    total = sum(len(p) for p in paragraphs)
    return total >= _MIN_ARTICLE_CHARS and max(len(p) for p in paragraphs) >= _MIN_PARAGRAPH_CHARS


# --------------------------------------------------------------------------- metadata helpers


def _page_language(root: HtmlElement) -> str | None:
    lang = root.get("lang") or root.get("xml:lang")
    if not lang:
        found = root.xpath("//meta[@http-equiv='content-language' or @property='og:locale']/@content")
        lang = found[0] if found else None
    if not lang:
        return None
    lang = lang.strip().replace("_", "-")
    return lang or None
