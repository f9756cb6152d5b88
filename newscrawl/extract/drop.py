"""Removing an outlet's boilerplate blocks (its ``drop_selectors``) from the parsed tree, in few walks.

Each selector run on its own walks the whole tree (~0.1-0.2 ms on a 1,000-2,000 element page), and an outlet
lists several: ".ad", "#sharing-bar", "[data-testid='Social']", "aside .promo". Most of them say nothing about
position or siblings, so the order they apply in does not change the tree left: whether an element is an
``aside .promo`` depends on its own attributes and its ancestors, which removing other elements never changes
(an element inside a removed block may be found too; removing it from its detached block changes nothing).
Such runs of selectors are applied together, and their one-attribute selectors (".ad", "#top",
"figure[data-type$='Newsletter']") in one walk per attribute name, the exact test made in Python.
Selectors that depend on position, siblings, text or descendants (``p:first-child``, ``:has()``, ``+``) and
XPath apply in their order, each on the tree left by the ones before.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from cssselect import parse as css_parse
from cssselect import parser as css_parser
from lxml import etree

from newscrawl.extract.site import PageQueries, _root, compile_query, is_xpath

# What XPath's normalize-space() (and so cssselect's class and ~= tests) treats as whitespace
_XML_SPACE = re.compile("[ \t\r\n]+")
_ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z_][\w.-]*$")

# The Python form of cssselect's translation of each attribute operator (value: the element's, wanted: the
# selector's); every one of them implies that ``wanted`` is a substring of ``value``, which the walk tests.
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "=": lambda value, wanted: value == wanted,
    "~=": lambda value, wanted: wanted in _XML_SPACE.split(value),
    "|=": lambda value, wanted: value == wanted or value.startswith(wanted + "-"),
    "^=": lambda value, wanted: value.startswith(wanted),
    "$=": lambda value, wanted: value.endswith(wanted),
    "*=": lambda value, wanted: wanted in value,
}


@dataclass(frozen=True)
class AttributeTest:
    """A selector that is one element with one attribute condition: ".ad" is (None, "class", "~=", "ad")."""

    query: str
    tag: str | None
    attribute: str
    operator: str
    value: str

    def matches(self, el: Any) -> bool:
        value = el.get(self.attribute)
        return value is not None and (self.tag is None or el.tag == self.tag) and \
            _OPERATORS[self.operator](value, self.value)


@cache
def attribute_test(query: str) -> AttributeTest | None:
    """The AttributeTest a CSS selector is, or None when it is anything else (cached per selector)."""
    tree = _parsed(query)
    if tree is None:
        return None
    if isinstance(tree, css_parser.Class):
        attribute, operator, value = "class", "~=", tree.class_name
    elif isinstance(tree, css_parser.Hash):
        attribute, operator, value = "id", "=", tree.id
    elif isinstance(tree, css_parser.Attrib) and tree.operator in _OPERATORS and tree.value is not None \
            and tree.namespace is None and getattr(tree, "flag", None) is None:
        attribute, operator, value = tree.attrib.lower(), tree.operator, tree.value.value
    else:
        return None
    element = tree.selector
    if not isinstance(element, css_parser.Element) or element.namespace is not None:
        return None
    # quotes would end the XPath literal; whitespace in a token test and empty values translate to odd XPath
    if not value or "'" in value or not _ATTRIBUTE_NAME.match(attribute) or \
            (operator == "~=" and _XML_SPACE.search(value)):
        return None
    tag = element.element.lower() if element.element not in (None, "*") else None
    return AttributeTest(query, tag, attribute, operator, value)


def order_free(query: str) -> bool:
    """Whether a selector matches by the element's own attributes and its ancestors only (no position, sibling,
    text, descendant or negation test): applying it before or after other removals leaves the same tree."""
    tree = _parsed(query)
    return tree is not None and _ancestry_only(tree)


def _parsed(query: str) -> Any:
    if is_xpath(query):
        return None
    try:
        groups = css_parse(query)
    except Exception:  # noqa: BLE001 - bad CSS is reported when the query itself runs
        return None
    if len(groups) != 1 or groups[0].pseudo_element is not None:
        return None
    return groups[0].parsed_tree


def _ancestry_only(tree: Any) -> bool:
    if isinstance(tree, css_parser.Element):
        return True
    if isinstance(tree, css_parser.CombinedSelector):
        return tree.combinator in (" ", ">") and _ancestry_only(tree.selector) and _ancestry_only(tree.subselector)
    if isinstance(tree, (css_parser.Class, css_parser.Hash, css_parser.Attrib)):
        return _ancestry_only(tree.selector)
    return False


@cache
def drop_plan(queries: tuple[str, ...]) -> tuple[tuple[str, ...] | str, ...]:
    """An outlet's drop_selectors as steps: a tuple of order-free selectors applied together, or one query."""
    steps: list[tuple[str, ...] | str] = []
    run: list[str] = []
    for q in queries:
        if order_free(q):
            run.append(q)
            continue
        if run:
            steps.append(tuple(run))
            run = []
        steps.append(q)
    if run:
        steps.append(tuple(run))
    return tuple(steps)


# Up to this many values, libxml2 tests them in the walk (a copy of the attribute value per contains() call);
# with more, reading every value into Python once is cheaper (measured on the corpus pages' drop selectors).
_TESTED_IN_THE_WALK = 2


class _AttributeMatcher:
    """Several AttributeTests of one attribute, checked on an element with one read (and one split) of its value.

    The elements to check come from one walk. Equality tests, and up to two values of other tests, are made by
    libxml2 in the walk ("@id[. = 'top' or . = 'ad']", "@class[contains(., 'ad') or contains(., 'promo')]");
    with more, each contains() copies the attribute value again (libxml2 casts the node to a string per call),
    and reading every value once into Python and testing the substrings there costs a half to a third as much
    on real pages (~580 class attributes, 6 names: 1.2 -> 0.5 ms)."""

    def __init__(self, attribute: str, tests: tuple[AttributeTest, ...]) -> None:
        self.attribute = attribute
        self.values = tuple(dict.fromkeys(t.value for t in tests))
        equality = all(t.operator == "=" for t in tests)
        self.in_walk = equality or len(self.values) <= _TESTED_IN_THE_WALK
        if self.in_walk:
            # ". = 'x'" compares a hash of the value's first characters before it copies anything: cheap for any
            # number of values; contains() copies every value. (Values hold no quote: attribute_test.)
            test = " or ".join(f". = '{v}'" if equality else f"contains(., '{v}')" for v in self.values)
            self.walk = etree.XPath(f"descendant-or-self::*/@{attribute}[{test}]/..", regexp=False, smart_strings=False)
        else:  # the attribute values themselves, each knowing its element (smart strings)
            self.walk = etree.XPath(f"descendant-or-self::*/@{attribute}", regexp=False)
        self.equal: dict[str, set[str | None]] = {}
        self.token: dict[str, set[str | None]] = {}
        self.other = [t for t in tests if t.operator not in ("=", "~=")]
        for t in tests:
            if t.operator in ("=", "~="):
                (self.equal if t.operator == "=" else self.token).setdefault(t.value, set()).add(t.tag)

    def matches(self, el: Any, value: str | None = None) -> bool:
        """Whether the element passes one of the tests (``value``: its attribute's value, when already read)."""
        value = el.get(self.attribute) if value is None else value
        if value is None:
            return False
        tag = el.tag
        tags = self.equal.get(value)
        if tags and (None in tags or tag in tags):
            return True
        if self.token:
            for name in _XML_SPACE.split(value):
                tags = self.token.get(name)
                if tags and (None in tags or tag in tags):
                    return True
        return any(t.matches(el) for t in self.other)

    def __call__(self, root: Any) -> list[Any]:
        if self.in_walk:
            return [el for el in self.walk(root) if self.matches(el)]
        found = []
        for value in self.walk(root):
            for wanted in self.values:
                if wanted in value:  # what every operator implies, before the exact test
                    el = value.getparent()
                    if self.matches(el, value):
                        found.append(el)
                    break
        return found


@cache
def _matcher(attribute: str, tests: tuple[AttributeTest, ...]) -> _AttributeMatcher:
    return _AttributeMatcher(attribute, tests)


def _apply_together(page: PageQueries, queries: tuple[str, ...]) -> int:
    by_attribute: dict[str, list[AttributeTest]] = {}
    removed = 0
    for q in queries:
        if not page.may_match(compile_query(q)):
            continue
        test = attribute_test(q)
        if test is None:
            removed += remove(page.run(q))
        else:
            by_attribute.setdefault(test.attribute, []).append(test)
    for attribute, tests in by_attribute.items():
        removed += remove(_matcher(attribute, tuple(tests))(page.root))
    return removed


def remove(elements: list[Any]) -> int:
    """Take elements out of their tree, keeping their tail text (it belongs to the parent)."""
    removed = 0
    for el in elements:
        parent = el.getparent() if hasattr(el, "getparent") else None
        if parent is not None:
            if el.tail:
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + el.tail
                else:
                    parent.text = (parent.text or "") + el.tail
            parent.remove(el)
            removed += 1
    return removed


def drop_nodes(sel: Any, queries: tuple[str, ...], page: PageQueries | None = None) -> int:
    """Remove boilerplate blocks from the parsed tree, in place, before any layer reads it; the number of
    elements removed (an element inside a removed block may count too)."""
    page = page or PageQueries(_root(sel))
    removed = 0
    for step in drop_plan(tuple(queries)):
        if isinstance(step, tuple):
            removed += _apply_together(page, step)
        else:
            removed += remove(page.run(step))
    if removed:
        page.tree_changed()
    return removed
