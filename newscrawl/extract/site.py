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
from functools import cache, cached_property
from typing import Any

from cssselect import parse as css_parse
from cssselect import parser as css_parser
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

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
    boilerplate_patterns: tuple[str | re.Pattern[str], ...] = ()  # as the outlet declares them
    timezone: str | None = None
    language: str | None = None
    hooks: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    @cached_property
    def boilerplate(self) -> tuple[re.Pattern[str], ...]:
        """The outlet's whole-paragraph boilerplate regexes, compiled (case-insensitive) on first use: only the
        clean pipeline reads them, so extraction does not pay for compiling them (~3 ms an outlet)."""
        return tuple(re.compile(p, re.I) if isinstance(p, str) else p for p in self.boilerplate_patterns)

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
        boilerplate_patterns=tuple(getattr(spidercls, "boilerplate", ()) or ()),
        timezone=getattr(spidercls, "timezone", None),
        language=getattr(spidercls, "language", None),
        hooks=hooks,
    )


_XPATH_NAMESPACES = {"re": "http://exslt.org/regular-expressions"}  # as parsel registers them
_CSS = HTMLTranslator()


def is_xpath(query: str) -> bool:
    return query.startswith(("/", "./", "("))


class SiteQuery:
    """One outlet selector: what a page must contain for each of its alternatives to match, and (built on first
    use) its lxml XPath for the alternatives a page may match.

    ``needs`` lists, per alternative of the query (CSS groups "a, b", XPath unions "a | b"), attribute-value
    substrings without which that alternative cannot match (".share" needs "share" in some attribute value).
    Alternatives a page cannot match are not run, and a query none of whose alternatives can match is not run
    at all: on a real page most fallback and drop selectors match nothing, and each alternative walks the whole
    tree (an outlet's body query lists one alternative per page layout; a page has one layout). ``needs`` is None
    when the query cannot be read that way. CSS is parsed once for both; an XPath is translated and compiled only
    when a page may match it (a process's first pages of an outlet pay for that, ~0.2 ms a selector, so unused
    fallbacks cost nothing), once per set of alternatives a page may match.
    """

    __slots__ = ("query", "needs", "_branches", "_compiled")

    def __init__(self, query: str) -> None:
        self.query = query
        self._compiled: dict[Any, Any] = {}  # per set of alternatives: its XPath, and its plan
        # CSS: the parsed groups; XPath: the top-level union branches; None: the query is compiled whole
        self._branches: list[Any] | None = None
        self.needs: tuple[frozenset[str], ...] | None = None
        if is_xpath(query):
            self._branches = _split_union(query)
            self.needs = _xpath_needs(self._branches) if self._branches is not None else None
        else:
            try:
                self._branches = css_parse(query)
            except Exception:  # noqa: BLE001 - the translator reports bad CSS when the query is compiled
                self._branches = None
            else:
                self.needs = tuple(frozenset(_tree_needs(g.parsed_tree)) for g in self._branches)

    def _paths(self, branches: list[Any]) -> list[str]:
        if is_xpath(self.query):
            return merge_sibling_steps([b.strip() for b in branches])
        # as HTMLTranslator.css_to_xpath, from the groups parsed above
        return merge_sibling_steps(
            [_CSS.selector_to_xpath(g, "descendant-or-self::", translate_pseudo_elements=True) for g in branches])

    def _source(self, branches: list[Any]) -> str:
        return " | ".join(self._paths(branches))

    def plan(self, alive: tuple[int, ...] | None) -> tuple[tuple[str, etree.XPath | None], ...] | None:
        """The paths of the alternatives ``alive`` grouped by their first location step: per group (the first
        step, the compiled rest of the group's paths under it, or None when the step is the whole path). None when
        the query cannot be read that way (it then runs whole).

        A location path "A/rest" is the union over each node of A of "rest" evaluated from it, so a query's answer
        is the union, in document order, of each group's rests under each of its first step's nodes. "#main h1",
        "#main p.intro" and "#main figure, aside figure" start from the same "#main", found once a page."""
        key = ("plan", alive)
        if key not in self._compiled:
            plan = None
            if self._branches is not None and not _uses_regex(self.query):
                paths = self._paths(self._branches if alive is None else [self._branches[i] for i in alive])
                groups: dict[str, list[str | None]] = {}
                for path in paths:
                    parts = _path_steps(path)
                    if parts is None:
                        break
                    groups.setdefault(_page_step(attribute_first(parts[0])), []).append(parts[1])
                else:
                    plan = tuple((first, _rest_xpath(rests)) for first, rests in groups.items())
            self._compiled[key] = plan  # type: ignore[assignment]
        return self._compiled[key]  # type: ignore[return-value]

    def compiled(self, alive: tuple[int, ...] | None = None) -> etree.XPath:
        """The XPath of the alternatives numbered ``alive`` (None: all of them)."""
        found = self._compiled.get(alive)
        if found is None:
            if self._branches is None:
                source = self.query if is_xpath(self.query) else _CSS.css_to_xpath(self.query)  # raises for bad CSS
            elif alive is None:
                source = self._source(self._branches)
            else:
                source = self._source([self._branches[i] for i in alive])
            source = attribute_first(source)
            # EXSLT regular expressions (re:test...) only where a selector uses them: registering them costs
            # ~2 µs on every call of a compiled XPath, a fifth of a small query's time
            found = self._compiled[alive] = (
                etree.XPath(source, namespaces=_XPATH_NAMESPACES, smart_strings=False) if _uses_regex(source)
                else etree.XPath(source, regexp=False, smart_strings=False))
        return found

    @property
    def xpath(self) -> etree.XPath:
        return self.compiled(None)

    def __call__(self, node: Any, alive: tuple[int, ...] | None = None) -> list[Any]:
        result = self.compiled(alive)(node)
        return result if isinstance(result, list) else [result]


# An outlet's body selector lists what a body block holds: "div.wsw > p, div.wsw > h2, div.wsw > ul > li, ...".
# Each alternative walks the tree again (the whole tree to find the block, the block's subtree for a descendant
# step); alternatives that are the same path but for the element name of one step are one path:
# "div.wsw/*[self::p or self::h2]", "div.wsw/*[self::ul or self::ol]/li" (the same elements, in document order,
# for one walk).
_NAME_STEP = re.compile(r"(?P<axis>(?:child|descendant|descendant-or-self)::)?"
                        r"(?:(?P<name>[A-Za-z_][\w-]*)|\*\[(?P<names>self::[A-Za-z_][\w-]*(?: or self::[A-Za-z_][\w-]*)*)\])\Z")


def _path_steps(xpath: str) -> tuple[str, str | None] | None:
    """(first location step, the rest or None when the step is the whole path) of a relative or "//" path
    ("A//p": "A" and "/p"); None for other XPath (absolute paths, parenthesised expressions, unions, open
    literals)."""
    if xpath.startswith(("(", "/", "//@")) and not _DOUBLE_SLASH_NAME.match(xpath):
        return None
    steps = _top_steps(xpath)
    if not steps or not steps[-1]:
        return None
    head = 3 if xpath.startswith("//") else 1  # "//div/p": "", "", "div", "p"
    return "/".join(steps[:head]), "/".join(steps[head:]) or None


def _page_step(step: str) -> str:
    """A first step as evaluated from the page's root element: "//div[...]" and "descendant-or-self::div[...]"
    select the same elements there, and are found once."""
    return "descendant-or-self::" + step[2:] if _DOUBLE_SLASH_NAME.match(step) else step


_DOUBLE_SLASH_NAME = re.compile(r"//(?:\*|[A-Za-z_])")


def _rest_xpath(rests: list[str | None]) -> etree.XPath | None:
    """The compiled union of a group's rests, relative to a node of their first step ("self::node()" for a path
    that is the first step itself); None when every path is."""
    if all(rest is None for rest in rests):
        return None
    branches = ["self::node()" if rest is None else "./" + rest if rest.startswith("/") else rest for rest in rests]
    return etree.XPath(attribute_first(" | ".join(dict.fromkeys(branches))), regexp=False, smart_strings=False)


_REGEX_PREFIX = re.compile(r"(?<![\w.-])re:")


def _uses_regex(xpath: str) -> bool:
    """Whether an XPath calls EXSLT regular expressions ("re:test(...)", not the "re:" of "figure:has")."""
    return _REGEX_PREFIX.search(xpath) is not None


def merge_sibling_steps(branches: list[str]) -> list[str]:
    """Union branches that are one path but for the element name of one step merged into one (see above); the
    others as given."""
    # (branch, its steps); a branch that cannot be read has no steps and is never merged
    paths = [(branch, _top_steps(branch) or []) for branch in branches]
    position = max(len(steps) for _, steps in paths) - 1 if paths else -1
    while position >= 0:  # from the last step: "A/ul/li | A/ol/li" differ in one step before the last
        groups: dict[tuple[int, str, tuple[str, ...], tuple[str, ...]], list[int]] = {}
        for index, (_, steps) in enumerate(paths):
            m = _NAME_STEP.match(steps[position]) if position < len(steps) else None
            if m is not None:
                key = (len(steps), m.group("axis") or "", tuple(steps[:position]), tuple(steps[position + 1:]))
                groups.setdefault(key, []).append(index)
        merged: set[int] = set()
        for (_, axis, _, _), indexes in groups.items():
            if len(indexes) < 2:
                continue
            names = list(dict.fromkeys(name for i in indexes for name in _step_names(paths[i][1][position])))
            steps = list(paths[indexes[0]][1])
            steps[position] = f"{axis}{names[0]}" if len(names) == 1 else \
                f"{axis}*[{' or '.join(f'self::{name}' for name in names)}]"
            paths[indexes[0]] = ("/".join(steps), steps)
            merged.update(indexes[1:])
        if merged:  # merging may line up other steps: look again from the last one
            paths = [path for i, path in enumerate(paths) if i not in merged]
            position = max(len(steps) for _, steps in paths) - 1
        else:
            position -= 1
    return [branch for branch, _ in paths]


def _step_names(step: str) -> list[str]:
    """The element names a _NAME_STEP tests: "p" -> ["p"], "*[self::p or self::h2]" -> ["p", "h2"]."""
    m = _NAME_STEP.match(step)
    if m is None:
        return []
    return [m.group("name")] if m.group("name") else [n[len("self::"):] for n in m.group("names").split(" or ")]


def _top_steps(path: str) -> list[str] | None:
    """The location steps of a path, split at its top-level "/" ("A//p": "A", "", "p"); None for a union, or an
    XPath that is not read (see _split_top_level)."""
    return _split_top_level(path, "/", refuse="|")


@cache
def _first_step_xpath(source: str) -> etree.XPath:
    return etree.XPath(source, regexp=False, smart_strings=False)


@cache
def compile_query(query: str) -> SiteQuery:
    """A spider's selector (CSS with ``::text``/``::attr()``, or XPath) for lxml, cached per string."""
    return SiteQuery(query)


# Translated CSS tests an attribute on every element of a step ("descendant-or-self::*[@id = 'x']"): libxml2
# evaluates that predicate on each of the page's ~1,000 elements. Selecting the attribute and going back to its
# element ("descendant-or-self::*/@id[. = 'x']/..") tests only the elements that have the attribute, and
# gives the same elements in the same order. Only a step whose whole predicate is about one attribute is
# rewritten, never one followed by another predicate (a position). Hand-written XPath steps
# ("//div[@property='articleBody']") get the same treatment.
_QUOTED = r"(?:'[^']*'|\"[^\"]*\")"
_ATTR_STEP = re.compile(
    r"(?P<step>(?:descendant-or-self|descendant|child)::|//)(?P<name>\*|[\w-]+)"
    rf"\[\s*@(?P<attr>[\w-]+)\s*(?:=\s*(?P<value>{_QUOTED})|and (?P<test>(?:[^\[\]'\"]|{_QUOTED})*))\s*\](?!\[)")
_TOKENS_OUTSIDE_QUOTES = re.compile(rf"{_QUOTED}|[^'\"]+")


def _attribute_step(m: re.Match[str]) -> str:
    step, name, attr = m.group("step"), m.group("name"), m.group("attr")
    if m.group("value") is not None:
        return f"{step}{name}/@{attr}[. = {m.group('value')}]/.."
    own = re.compile(rf"@{re.escape(attr)}(?![\w-])")
    test = []
    for token in _TOKENS_OUTSIDE_QUOTES.findall(m.group("test")):
        if token[0] not in "'\"":
            token = own.sub(".", token)
            # only functions of this one attribute: no other attribute, path, axis, variable or parent
            if any(x in token for x in ("@", "/", "::", "$", "..")):
                return m.group(0)
        test.append(token)
    return f"{step}{name}/@{attr}[{''.join(test)}]/.."


# Hand-written XPath tests an attribute inside a function: the class-token idiom
# "contains(concat(' ', normalize-space(@class), ' '), ' name ')", and contains()/starts-with() of one attribute
# with a non-empty literal. Each is false on an element without the attribute, so the same rewrite applies; the
# idiom also gets the cheap substring test first (as cssselect writes it), which spares most attributes the
# normalize-space and concat.
_FUNCTION_STEP = re.compile(
    r"(?P<step>(?:descendant-or-self|descendant|child)::|//)(?P<name>\*|[\w-]+)\[\s*(?:"
    r"contains\(concat\(' ', normalize-space\(@(?P<token_attr>[\w-]+)\), ' '\), ' (?P<token>[^'\s]+) '\)"
    r"|(?P<function>contains|starts-with)\(\s*@(?P<attr>[\w-]+)\s*,\s*'(?P<literal>[^']+)'\s*\))\s*\](?!\[)")


def _function_step(m: re.Match[str]) -> str:
    step, name = m.group("step"), m.group("name")
    if m.group("token") is not None:
        token = m.group("token")
        return (f"{step}{name}/@{m.group('token_attr')}[contains(., '{token}') and "
                f"contains(concat(' ', normalize-space(.), ' '), ' {token} ')]/..")
    return f"{step}{name}/@{m.group('attr')}[{m.group('function')}(., '{m.group('literal')}')]/.."


def attribute_first(xpath: str) -> str:
    """The same XPath with single-attribute element tests rewritten to select the attribute first."""
    return _FUNCTION_STEP.sub(_function_step, _ATTR_STEP.sub(_attribute_step, xpath))


def _tree_needs(tree: Any) -> set[str]:
    """Literal attribute-value substrings a cssselect tree requires (negations and :has() contribute none)."""
    if isinstance(tree, css_parser.Class):
        return _tree_needs(tree.selector) | {tree.class_name}
    if isinstance(tree, css_parser.Hash):
        return _tree_needs(tree.selector) | {tree.id}
    if isinstance(tree, css_parser.Attrib):
        need = _tree_needs(tree.selector)
        value = tree.value.value if tree.value is not None else None
        if tree.operator in ("=", "~=", "|=", "^=", "$=", "*=") and value and tree.flag != "i":
            need.add(value)
        return need
    if isinstance(tree, css_parser.CombinedSelector):
        return _tree_needs(tree.selector) | _tree_needs(tree.subselector)
    selector = getattr(tree, "selector", None)
    return _tree_needs(selector) if selector is not None else set()


# Constructs under which an attribute test is no longer required for a match (negation, disjunction,
# counting, comparisons, variables): the literals of a predicate using any of them are not needs, and a query
# using one outside its predicates is always run.
_XPATH_UNSAFE = re.compile(r"not\(|!=|(?<![\w-])or(?![\w-])|\||count\(|sum\(|boolean\(|true\(|false\("
                           r"|string-length|lang\(|[<>$]|=\s*0")
_XPATH_ATTR_LITERAL = re.compile(
    r"""@[\w:.-]+\s*=\s*(?:'([^']*)'|"([^"]*)")"""
    r"""|(?:contains|starts-with)\(\s*@[\w:.-]+\s*,\s*(?:'([^']*)'|"([^"]*)")\s*\)"""
    # the class-token idiom: contains(concat(' ', normalize-space(@class), ' '), ' name ')
    r"""|contains\(concat\(' ', (?:normalize-space\()?@[\w:.-]+\)?, ' '\), ' ([^'\s]+) '\)""")


def _xpath_needs(branches: list[str]) -> tuple[frozenset[str], ...] | None:
    """Per union branch, the attribute literals its predicates require ("//p[@class='intro'] | //div[@id='x']/
    *[self::p or self::h2]" needs "intro", or "x": the disjunction is about tag names, its predicate is left out)."""
    out = []
    for branch in branches:
        split = _predicates(branch)
        if split is None:
            return None
        predicates, outside = split
        if _XPATH_UNSAFE.search(outside):
            return None
        out.append(frozenset(v for predicate in predicates if not _XPATH_UNSAFE.search(predicate)
                             for m in _XPATH_ATTR_LITERAL.finditer(predicate) for v in m.groups() if v))
    return tuple(out)


def _predicates(branch: str) -> tuple[list[str], str] | None:
    """The outermost predicates of an XPath ("[...]", nested ones inside them) and the text outside them."""
    chars = _unquoted(branch)
    if chars is None:
        return None
    predicates, outside, depth, start = [], [], 0, 0
    for i, ch in chars:
        if ch == "[":
            if depth == 0:
                outside.append(branch[start:i])
                start = i + 1
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                predicates.append(branch[start:i])
                start = i + 1
            elif depth < 0:
                return None
    if depth:
        return None
    outside.append(branch[start:])
    return predicates, " ".join(outside)


def _split_union(query: str) -> list[str] | None:
    """Top-level "|" alternatives of an XPath (outside brackets and string literals)."""
    return _split_top_level(query, "|")


def _split_top_level(xpath: str, separator: str, refuse: str = "") -> list[str] | None:
    """An XPath split at each ``separator`` outside brackets and string literals; None when brackets are
    unbalanced, a literal is left open, or a ``refuse`` character stands outside them."""
    chars = _unquoted(xpath)
    if chars is None:
        return None
    parts, depth, start = [], 0, 0
    for i, ch in chars:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == separator:
            parts.append(xpath[start:i])
            start = i + 1
        elif depth == 0 and ch in refuse:
            return None
    if depth:
        return None
    parts.append(xpath[start:])
    return parts


def _unquoted(xpath: str) -> list[tuple[int, str]] | None:
    """(position, character) of an XPath's characters outside its string literals; None when a literal is
    left open (the XPath is not read: its queries always run)."""
    out, quote = [], ""
    for i, ch in enumerate(xpath):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        else:
            out.append((i, ch))
    return None if quote else out


# A first step of one element name with one attribute test (attribute_first's form): its elements are those of the
# same test on any element that have the name. The test is a boolean (never a position): it starts with a
# comparison of the value, contains() or starts-with().
_NAMED_ATTRIBUTE_STEP = re.compile(
    r"^descendant-or-self::(?P<name>[A-Za-z_][\w-]*)(?P<test>/@[\w-]+\[(?:\. = |contains\(\.|starts-with\(\.)"
    r"(?:[^\[\]'\"]|'[^']*'|\"[^\"]*\")*\]/\.\.)$")
# Blocks a first step may find for its rest to be evaluated under each (more: the whole query runs once instead).
_MAX_BLOCKS = 16
# The union of node-sets passed as variables: libxml2 returns it without duplicates, in document order.
_DOCUMENT_ORDER = etree.XPath("$nodes | $none", regexp=False)


class PageQueries:
    """Runs compiled site queries on one parsed page, skipping those the page cannot match.

    The page's attribute values are read once, as one string, the first time a query's needs are checked.
    Nodes removed later only shrink the page, so that text stays a valid superset for every later query.
    """

    # EXSLT str:concat joins in C (no Python string per attribute). No separator: a literal can only be found
    # across two values by accident, which runs a query for nothing, never skips one that could match.
    _ATTRIBUTE_VALUES = etree.XPath("str:concat(//@*)", namespaces={"str": "http://exslt.org/strings"},
                                    regexp=False, smart_strings=False)

    def __init__(self, root: Any) -> None:
        self.root = root
        self._attribute_text: str | None = None
        self._present: dict[str, bool] = {}
        self._first_steps: dict[str, list[Any]] = {}
        self._results: dict[str, list[Any]] = {}
        self._is_root: bool | None = None

    def alive(self, q: SiteQuery) -> tuple[int, ...] | None:
        """The alternatives of ``q`` this page may match: None for all of them, () for none."""
        if not q.needs or not any(q.needs):  # nothing to look for ("article footer"): no need to read the page
            return None
        if self._attribute_text is None:
            try:
                self._attribute_text = self._ATTRIBUTE_VALUES(self.root)
            except (etree.XPathError, TypeError, ValueError):  # not an lxml tree: run every query
                return None
        text, present = self._attribute_text, self._present
        alive = []
        for i, alternative in enumerate(q.needs):
            for literal in alternative:
                found = present.get(literal)
                if found is None:  # queries share literals: each is looked for once a page
                    found = present[literal] = literal in text
                if not found:
                    break
            else:
                alive.append(i)
        return None if len(alive) == len(q.needs) else tuple(alive)

    def may_match(self, q: SiteQuery) -> bool:
        return self.alive(q) != ()

    def run(self, query: str, node: Any = None) -> list[Any]:
        """Results of one selector (lxml elements and strings) on the page or under ``node``."""
        q = compile_query(query)
        alive = self.alive(q)
        if alive == ():
            return []
        return q(self.root if node is None else node, alive)

    def _page_run(self, query: str) -> list[Any]:
        """run() on the whole page, each first step evaluated once a page for all the queries that start with it
        (an outlet's fields often start from the same block: "#bodyContent h1", "#bodyContent p.intro",
        "#bodyContent .picBox, aside .picBox" walk the tree once for #bodyContent, not three times)."""
        q = compile_query(query)
        alive = self.alive(q)
        if alive == ():
            return []
        plan = q.plan(alive) if self._at_root() else None
        found = self._planned(plan) if plan is not None else None
        return found if found is not None else q(self.root, alive)

    def _at_root(self) -> bool:
        if self._is_root is None:
            self._is_root = hasattr(self.root, "getroottree") and self.root.getroottree().getroot() is self.root
        return self._is_root

    def _planned(self, plan: tuple[tuple[str, etree.XPath | None], ...]) -> list[Any] | None:
        """A query's answer from its first steps (see SiteQuery.plan); None when the whole query runs instead:
        several first steps none of which was found before, a first step that found many nodes (each would be
        one more evaluation) or something not an element, or answers under several blocks that are not all
        elements (text and attribute values cannot be put in document order)."""
        if len(plan) > 1 and not any(first in self._first_steps for first, _ in plan):
            return None  # nothing found before to start from: the whole query walks no more, and merges in C
        parts = []
        for first, rest in plan:
            starts = self._first_steps.get(first)
            if starts is None:
                starts = self._first_steps[first] = self._first_step(first)
            if rest is None:
                parts.append(starts)
                continue
            if len(starts) > _MAX_BLOCKS:
                return None
            for start in starts:
                if not isinstance(getattr(start, "tag", None), str):
                    return None
                found = rest(start)
                parts.append(found if isinstance(found, list) else [found])
        parts = [part for part in parts if part]
        if len(parts) <= 1:
            return list(parts[0]) if parts else []
        nodes = [node for part in parts for node in part]
        if not all(isinstance(getattr(node, "tag", None), str) for node in nodes):
            return None
        return _DOCUMENT_ORDER(self.root, nodes=nodes, none=[])

    def _first_step(self, first: str) -> list[Any]:
        """A first step's nodes on the page: those of the same step for any element, when that was found before,
        of this step's element name ("div.intro" from ".intro"); else the step's own walk."""
        named = _NAMED_ATTRIBUTE_STEP.match(first)
        if named is not None:
            anywhere = self._first_steps.get(f"descendant-or-self::*{named.group('test')}")
            if anywhere is not None:
                return [el for el in anywhere if el.tag == named.group("name")]
        found = _first_step_xpath(first)(self.root)
        return found if isinstance(found, list) else [found]

    def tree_changed(self) -> None:
        """Forget what was read from the tree (drop_nodes removed elements)."""
        self._first_steps.clear()
        self._results.clear()

    def first(self, queries: tuple[str, ...] | None, node: Any = None) -> list[Any]:
        """Results of the first of ``queries`` that matches anything (a field's fallbacks, in order).

        Page-level results are kept for the page: outlets read one block for several fields (a byline for
        authors, dateline and wire source). Callers that change the tree use ``run``, which keeps nothing."""
        for query in queries or ():
            if node is None:
                found = self._results.get(query)
                if found is None:
                    found = self._results[query] = self._page_run(query)
            else:
                found = self.run(query, node)
            if found:
                return found
        return []


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


def node_text(node: Any) -> str:
    """Visible text of an element (or the string itself for ``::text`` / ``::attr`` results); a parsel
    Selector or what lxml returned."""
    if isinstance(node, Selector):
        node = node.root
    if isinstance(node, str):
        return node
    if not hasattr(node, "iter"):
        return "" if node is None else str(node)
    if not len(node):  # no child element: its own text (what element_text gives, less the block spaces)
        tag = node.tag
        return "" if not isinstance(tag, str) or tag in _SKIP_TAGS else (node.text or "")
    text = element_text(node)
    # without the two spaces a block element's rendering puts around it: a paragraph that is already clean
    # text then is its own clean_text (remembered as such), instead of one more string to clean and check
    return text[1:-1] if node.tag in _BLOCK_TAGS else text


def _root(sel: Any) -> Any:
    return sel.root if isinstance(sel, Selector) else sel


def site_values(sel: Any, rules: SiteRules, base_url: str, page: PageQueries | None = None) -> dict[str, Any]:
    """Raw field values from the outlet's selectors (hooks applied)."""
    page = page or PageQueries(_root(sel))
    out: dict[str, Any] = {}
    for fieldname, queries in rules.selectors.items():
        if fieldname in ("image_caption", "image_credit"):
            continue  # read per figure by figure_image
        found = page.first(queries)
        if not found:
            continue
        if fieldname == "body":
            value: Any = [t for t in (clean_text(node_text(n)) for n in found) if t]
        elif fieldname == "images":
            caption_q, credit_q = rules.selectors.get("image_caption"), rules.selectors.get("image_credit")
            value = [img for img in (figure_image(n, base_url, caption_q, credit_q, page=page) for n in found) if img]
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


_SRC_QUERIES = tuple(etree.XPath(q, regexp=False, smart_strings=False)
                     for q in ("./@src", "./@data-src", ".//img/@src", ".//img/@data-src"))
_SRCSET_QUERIES = tuple(etree.XPath(q, regexp=False, smart_strings=False) for q in (".//img/@srcset", ".//source/@srcset", "./@srcset"))
_FIGCAPTION = etree.XPath(".//figcaption", regexp=False)
_ALT = etree.XPath(".//img/@alt | ./@alt", regexp=False, smart_strings=False)
_CREDIT_TEXT = etree.XPath(".//*[contains(@class, 'credit') or contains(@class, 'copyright')]//text()",
                           regexp=False, smart_strings=False)


def _first_value(query: etree.XPath, el: Any) -> str | None:
    found = query(el)
    return found[0] if found else None


def figure_image(node: Any, base_url: str, caption_q: tuple[str, ...] | None = None,
                 credit_q: tuple[str, ...] | None = None, *, page: PageQueries | None = None) -> dict[str, Any] | None:
    """{url, caption, credit} from a <figure> (or an <img> itself). An outlet may name where the caption and
    the credit live inside its figures (``image_caption`` / ``image_credit`` selectors, relative to the figure),
    e.g. NPR's ``div.caption`` or BBC's bare credit ``<span>``."""
    el = _root(node)
    if not hasattr(el, "iter"):
        return None
    page = page or PageQueries(el)
    src = None
    for query in _SRC_QUERIES:
        src = _first_value(query, el)
        if src and not src.startswith("data:"):
            break
        src = None
    if not src:  # lazy-loaded pictures: only a srcset; take its widest image, not the first (a thumbnail)
        for query in _SRCSET_QUERIES:
            srcset = _first_value(query, el)
            src = widest_candidate(srcset) if srcset else None
            if src:
                break
    if not src:
        return None
    found = page.first(caption_q, el) if caption_q else None
    caption = clean_text(" ".join(node_text(n) for n in found)) if found else None
    figcaption = _FIGCAPTION(el)
    # only the first figcaption: some pages print the same caption twice (a visible one and a hidden one)
    caption = caption or (clean_text(element_text(figcaption[0])) if figcaption else None) \
        or clean_text(_first_value(_ALT, el))
    found = page.first(credit_q, el) if credit_q else None
    credit = clean_text(" ".join(node_text(n) for n in found)) if found else None
    credit = credit or clean_text(" ".join(_CREDIT_TEXT(el)))
    if caption and credit and caption.endswith(credit):
        caption = caption[: -len(credit)].rstrip() or None
    return {"url": src, "caption": caption, "credit": credit, "base": base_url}
