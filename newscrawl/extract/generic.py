"""Generic article-body fallback: trafilatura plus DOM-aware post-filters.

Used when an outlet's own selectors and JSON-LD give no body. The pipeline is:

1. trafilatura's fast pass (comments off) on the page's tree gives body blocks; its full pass
   (which also consults readability and jusText, twice the cost) runs only when the fast
   result looks truncated;
2. each block is located in the ORIGINAL tree through a whitespace-free text index, so that
   structural facts trafilatura throws away (the block sits in an ``<a>``, a fact box, an
   author bio, a caption...) can be checked;
3. post-filters drop the headline, furniture, bylines and datelines;
4. ``<p>`` with the same markup as the body's own paragraphs but missed by trafilatura (an
   article split over several containers) are added back;
5. a standfirst that trafilatura skipped is put back when the meta description points at it;
6. when all that leaves nothing article-like, the largest cluster of ``<p>`` text is used.

Nothing here knows any outlet by name: every rule is about markup or wording many sites share.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from collections.abc import Iterable
from copy import deepcopy
from typing import Any

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
_FURNITURE_CLASS = re.compile(r"fact-?box|info-?box|author|biography|\bbio\b|sourcepoint|caption|social|comment|hidden")
# Lines that are page furniture in any article, whatever the outlet.
_FURNITURE_TEXT = re.compile(
    r"^(?:advertisement|anzeige|werbung|publicité|publicidad|pubblicità|reklama|advertentie"
    r"|read more|read next|more:|related:|see also|also read|lesen sie auch|mehr zum thema"
    r"|lire aussi|leggi anche|lee también|czytaj (?:też|także|więcej)"
    r"|share this( article| story)?|share on \w+|follow us|sign up|subscribe|click here"
    r"|skip to (?:main )?content|this is a modal window)\b",
    re.IGNORECASE,
)
# "By Jane Doe and John Roe, Reuters" alone on a line is a byline, not body text.
_BYLINE = re.compile(
    r"^(?i:by|von|par|por|di|door|av|af)\s+[A-ZÀ-Þ][\w'’.-]*\s+[A-ZÀ-Þ][\w'’.-]*(?:[\s,]+[\w'’.&-]+){0,8}$",
)
# "Updated 14 March 2024, 09:30 GMT" alone on a line is a dateline.
_DATE_WORDS = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember"
    r"|mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    r"|am|pm|gmt|utc|[a-z]{1,2}st|[a-z]{1,2}dt|updated|published|posted|last|aktualisiert|veröffentlicht"
    r"|stand|um|uhr|at|on|mis à jour|publié le|le|actualizado|publicado|el|de)\b",
    re.IGNORECASE,
)
_NOT_DATE = re.compile(r"[\W\d_年月日時分秒更新]+")
_WS = re.compile(r"\s+")

# A body shorter than this with no real paragraph is a listing, not an article.
_MIN_ARTICLE_CHARS = 200
_MIN_PARAGRAPH_CHARS = 80
# When the fast trafilatura pass is trusted (see _looks_truncated).
_MIN_FAST_BLOCKS = 3
_MIN_FAST_MEAN_CHARS = 40
_FAST_SHARE_OF_CLUSTER = 0.5
# Share of the extracted text the article container must hold (see _container).
_CONTAINER_SHARE = 0.7


def generic_body(root: HtmlElement, url: str | None = None, *, html: str | None = None) -> list[str]:
    """Return the article's body paragraphs in document order, or [] when none is found.

    ``root`` is the page's parsed tree; it is never modified. ``html`` is accepted for symmetry
    with the other layers but not needed: copying the tree is faster than parsing the string.
    """
    if root is None:
        return []
    scores = _cluster_scores(root)
    blocks = _run_trafilatura(root, url, fast=True)
    if _looks_truncated(blocks, scores):
        blocks = _run_trafilatura(root, url, fast=False) or blocks
    try:
        paragraphs = _post_process(root, blocks)
    except Exception as exc:  # a post-filter bug must cost precision, never the page
        logger.warning("generic body: post-processing failed on %s: %r", url, exc)
        paragraphs = [text for _, text in blocks]
    if not _is_article(paragraphs):
        paragraphs = _paragraph_cluster(root, scores)
        if not _is_article(paragraphs):
            return []
    return paragraphs


def _post_process(root: HtmlElement, blocks: list[tuple[str, str]]) -> list[str]:
    index = _TextIndex(root)
    located = _drop_headline(root, index.locate_all(blocks))
    kept = _filter_blocks(located)
    kept = _add_template_siblings(root, index, kept)
    return _add_lead(root, index, [text for _, text, _ in kept])


def generic_metadata(root: HtmlElement, url: str | None = None, *, html: str | None = None) -> dict[str, Any]:
    """Return fallback metadata found by trafilatura and htmldate.

    Keys: headline, authors (list), published (raw string), language, description, section,
    tags; missing values are None or []. It costs about a third of a trafilatura extraction
    (author, category and licence searches over the whole tree, then htmldate), so callers
    should reach for it only when JSON-LD and meta tags gave nothing. ``html`` is unused.
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


def _run_trafilatura(root: HtmlElement, url: str | None, *, fast: bool) -> list[tuple[str, str]]:
    try:
        return _trafilatura_blocks(root, url, fast=fast)
    except Exception as exc:  # trafilatura bugs on odd markup must not kill the crawl
        logger.warning("generic body: trafilatura failed on %s: %r", url, exc)
        return []


def _looks_truncated(blocks: list[tuple[str, str]], scores: Counter) -> bool:
    """Whether trafilatura's fast pass probably missed the article.

    The fast pass stops at the first ad slot on some layouts ("<p>…</p><div class=ad>…</div>
    <p>…</p>" gives three paragraphs of thirty), or returns menu crumbs when it finds no text
    block at all. The full pass (which also consults readability and jusText) costs twice as
    much, so it runs only when the fast result is empty, has fewer than three blocks, is made of
    crumbs, or is much shorter than the page's largest cluster of <p> text.
    """
    if len(blocks) < _MIN_FAST_BLOCKS:
        return True
    total = sum(len(t) for _, t in blocks)
    if total / len(blocks) < _MIN_FAST_MEAN_CHARS:
        return True
    biggest = scores.most_common(1)[0][1] if scores else 0
    return total < _FAST_SHARE_OF_CLUSTER * biggest


def _trafilatura_blocks(root: HtmlElement, url: str | None, *, fast: bool) -> list[tuple[str, str]]:
    """Run trafilatura on the tree and flatten its XML body into (kind, text) blocks."""
    # bare_extraction copies an lxml input before working on it, so ``root`` stays untouched.
    doc = trafilatura.bare_extraction(root, url=url, fast=fast, prune_xpath=_PRUNE_XPATH, **_TRAFILATURA_OPTIONS)
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


def _visible_text(el: etree._Element) -> str:
    """Whitespace-normalised text of ``el`` without inline <script>/<style> code.

    ``<p>Text<script>(adsbygoogle = window.adsbygoogle || []).push({});</script></p>`` is "Text".
    """
    if next(el.iter(*_SKIP_TEXT), None) is None:
        return _norm(el.text_content())
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text and node.tag not in _SKIP_TEXT:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return _norm("".join(parts))


def _link_ratio(el: etree._Element) -> float:
    total = len(_compact(el.text_content())) or 1
    linked = sum(len(_compact(a.text_content())) for a in el.iter("a"))
    return linked / total


def _class_blob(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _headline_texts(root: HtmlElement) -> set[str]:
    found = set()
    for x in root.xpath("//head/title | //meta[@property='og:title' or @name='twitter:title']/@content | //h1"):
        t = _compact(x if isinstance(x, str) else x.text_content())
        if t:
            found.add(t)
    return found


def _drop_headline(root: HtmlElement, located: list) -> list:
    """Trafilatura often keeps the <h1>; the body must not repeat the headline."""
    titles = _headline_texts(root)
    return [b for b in located if _compact(b[1]) not in titles]


def _is_furniture_line(text: str) -> bool:
    """Short lines that are furniture whatever the page: ads labels, share prompts, bylines, datelines."""
    if len(text) >= 120:
        return False
    if _FURNITURE_TEXT.match(text) or _BYLINE.match(text):
        return True
    # a dateline has digits and nothing but date words around them
    return any(c.isdigit() for c in text) and not _NOT_DATE.sub("", _DATE_WORDS.sub("", text))


def _filter_blocks(located: list) -> list:
    container = _container(located)
    kept = []
    for kind, text, el in located:
        if _is_furniture_line(text):
            continue
        if el is not None:
            path = _path_below(_block_of(el), container)
            tags = {x.tag for x in path}
            # A paragraph wrapped in a link is a teaser card ("<a><div><p>Other story…</p></div></a>").
            if "a" in tags or tags & _FURNITURE_TAGS:
                continue
            if any(_FURNITURE_CLASS.search(_class_blob(x)) for x in path):
                continue
            # Lists of links below an article are "related stories", not body lists; a paragraph
            # that is all link is a teaser ("<h2><a>Other story</a></h2><p><a>Its summary</a></p>").
            if kind == "item":
                li = next((x for x in path if x.tag == "li"), None)
                if li is not None and _link_ratio(li) > 0.5:
                    continue
            elif _link_ratio(_block_of(el)) > 0.8:
                continue
        kept.append((kind, text, el))
    return kept


def _p_signature(p: etree._Element) -> tuple:
    parent = p.getparent()
    return (
        p.get("class"),
        parent.tag if parent is not None else None,
        parent.get("class") if parent is not None else None,
    )


def _add_template_siblings(root: HtmlElement, index: _TextIndex, kept: list) -> list:
    """Add <p> that share the markup of the body's own paragraphs but that trafilatura missed.

    Some layouts split one article over several containers ("<div class=body-part><p
    class=para>…" repeated between ad slots) and trafilatura keeps only one of them. A <p>
    whose own class and parent (tag, class) match at least two kept paragraphs is the same
    template, so it is body text too, unless it is a link line or sits in furniture.
    """
    signatures: Counter = Counter()
    for _, _, el in kept:
        if el is not None and (block := _block_of(el)).tag == "p":
            signatures[_p_signature(block)] += 1
    # an unclassed <p> in an unclassed <div> is no template: teasers look the same
    templates = {sig for sig, n in signatures.items() if n >= 2 and (sig[0] or sig[2])}
    if not templates:
        return kept
    have = _compact(" ".join(t for _, t, _ in kept))
    extra = []
    for p in root.iter("p"):
        if _p_signature(p) not in templates:
            continue
        text = _visible_text(p)
        key = _compact(text)
        if not key or key[:60] in have:
            continue
        if any(x.tag in _FURNITURE_TAGS or x.tag == "a" for x in p.iterancestors()):
            continue
        # same markup is not enough for "Read also: <a>Other story</a>" or a photo credit line
        if _link_ratio(p) > 0.5 or any(_FURNITURE_CLASS.search(_class_blob(x)) for x in (p, p.getparent())):
            continue
        extra.append((index.find(text)[0], ("p", text, p)))
    if not extra:
        return kept
    positioned = []
    pos = 0
    for block in kept:
        i, end = index.find(block[1], pos)
        if i >= 0:
            pos = end
        positioned.append((i, block))
    positioned.extend(extra)
    positioned.sort(key=lambda x: x[0])
    return [block for _, block in positioned]


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
        lead = _visible_text(_block_of(owner))
        lead_key = _compact(lead)
        # a whole header or page wrapper is not a lead
        if len(lead_key) > 3 * len(_compact(desc)) + 50:
            continue
        rest = [p for p in paragraphs if _compact(p) not in lead_key]
        return [lead, *rest]
    return paragraphs


# --------------------------------------------------------------------------- fallback


_CLUSTER_SKIP = frozenset({"a", "nav", "aside", "footer", "header", "figure", "figcaption", "form", "button"})


def _cluster_scores(root: HtmlElement) -> Counter:
    """Characters of real <p> text (not links, not page chrome) directly under each element."""
    score: Counter = Counter()
    for p in root.iter("p"):
        text = _visible_text(p)
        if len(text) < 40 or _link_ratio(p) > 0.5:
            continue
        if any(a.tag in _CLUSTER_SKIP for a in p.iterancestors()):
            continue
        parent = p.getparent()
        if parent is not None:
            score[parent] += len(text)
    return score


def _paragraph_cluster(root: HtmlElement, scores: Counter | None = None) -> list[str]:
    """Text of the container holding the most <p> text (used when trafilatura finds nothing)."""
    scores = _cluster_scores(root) if scores is None else scores
    if not scores:
        return []
    best, _ = scores.most_common(1)[0]
    out = []
    for el in best.iter("p", "h2", "h3", "h4", "li", "blockquote"):
        if el.tag != "p" and any(True for _ in el.iter("p")):
            continue  # its paragraphs come on their own
        if any(a.tag in _CLUSTER_SKIP for a in el.iterancestors() if a is not best):
            continue
        text = _visible_text(el)
        if text and not _is_furniture_line(text):
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
