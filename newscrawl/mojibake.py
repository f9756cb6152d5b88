"""ftfy's mojibake detector (``ftfy.badness.is_bad``), same answers, a fraction of the cost.

``is_bad`` is one regex search with ~37 alternatives tried at every position of the text; on a paragraph of
non-ASCII text (any curly quote) it costs ~0.1 ms, and clean_text runs it on every paragraph. Every alternative
is a sequence of at most a few characters in which some position only accepts non-ASCII characters from a small
set (the alternative's *anchor*). Anchor characters are found with one character-class scan, which is fast in C.
An alternative that is a fixed sequence of one-character positions can only match starting exactly as many
characters before an anchor as its anchor position is from its start, so only that alternative is tried, only
there (``match``); the others (a bounded repeat, a "^") are searched in the window of the widest alternative
around their anchors. Either way a match is found exactly when searching the whole text finds one.

The plan is derived from ftfy's own pattern when this module is imported; if the pattern ever stops having
that shape (an unbounded or context-dependent alternative), ``is_bad`` falls back to ftfy's full search.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ftfy.badness import BADNESS_RE
from ftfy.badness import is_bad as _ftfy_is_bad

try:  # Python 3.11+
    from re import _compiler as sre_compile  # type: ignore[attr-defined]
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_compile  # type: ignore[no-redef]
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

__all__ = ["is_bad"]


def _class_chars(item: tuple[object, object]) -> frozenset[str] | None:
    """The characters one pattern position accepts, when it is a literal or a plain (non-negated) class."""
    op, arg = item
    if op == sre_constants.LITERAL:
        return frozenset(chr(arg))  # type: ignore[arg-type]
    if op != sre_constants.IN:
        return None
    chars: set[str] = set()
    for sub_op, sub_arg in arg:  # type: ignore[attr-defined]
        if sub_op == sre_constants.LITERAL:
            chars.add(chr(sub_arg))
        elif sub_op == sre_constants.RANGE:
            chars.update(chr(c) for c in range(sub_arg[0], sub_arg[1] + 1))
        else:  # NEGATE, CATEGORY (\w, \s): unbounded
            return None
    return frozenset(chars)


_ONE_CHAR = {sre_constants.LITERAL, sre_constants.IN, sre_constants.ANY}
# "^" only matches at the real start of the text, also when a search starts later, so a window search from 0
# sees it exactly as the full search does; "$", "\\b" and lookarounds would depend on text outside a window.
_START_ANCHORS = {sre_constants.AT_BEGINNING, sre_constants.AT_BEGINNING_STRING}


def _context_free(branch: list[tuple[object, object]]) -> bool:
    """Whether a match of this alternative depends only on the characters it covers."""
    for op, arg in branch:
        if op in _ONE_CHAR or (op == sre_constants.AT and arg in _START_ANCHORS):
            continue
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _, high, sub = arg  # type: ignore[misc]
            if high != sre_constants.MAXREPEAT and all(o in _ONE_CHAR for o, _ in sub):
                continue
        return False
    return True


@dataclass(frozen=True)
class _Plan:
    anchors: re.Pattern[str]  # every alternative's anchor characters
    width: int  # the widest alternative
    # per anchor character, the alternatives it anchors that are a fixed sequence of one-character positions:
    # (the anchor's offset in the alternative, the alternative alone, compiled); such an alternative can only
    # match starting exactly that many characters before an anchor it accepts there
    fixed: dict[str, tuple[tuple[int, re.Pattern[str]], ...]]
    other: frozenset[str]  # anchors of the other alternatives (a repeat, a "^"): searched in a window


def _anchor_plan(pattern: re.Pattern[str]) -> _Plan | None:
    """How to find a match of a top-level alternation of bounded-width sequences from its anchor characters."""
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    if len(tree) != 1 or tree[0][0] != sre_constants.BRANCH:
        return None
    anchors: set[str] = set()
    other: set[str] = set()
    fixed: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
    width = 0
    for branch in tree[0][1][1]:
        if not _context_free(branch):
            return None  # groups, unbounded repeats, lookarounds: no bounded window around an anchor
        width = max(width, branch.getwidth()[1])
        candidates = [(i, c) for i, c in enumerate(_class_chars(item) for item in branch)
                      if c and not any(x.isascii() for x in c)]
        if not candidates:
            return None
        # the rarest-looking position: fewest letters (letters are common in real text), then fewest characters
        offset, chars = min(candidates, key=lambda ic: (sum(x.isalpha() for x in ic[1]), len(ic[1])))
        anchors |= chars
        if all(op in _ONE_CHAR for op, _ in branch):
            compiled = sre_compile.compile(branch, pattern.flags)
            for c in chars:
                fixed.setdefault(c, []).append((offset, compiled))
        else:
            other |= chars
    if not width:
        return None
    return _Plan(re.compile("[" + "".join(re.escape(c) for c in sorted(anchors)) + "]"), width,
                 {c: tuple(alternatives) for c, alternatives in fixed.items()}, frozenset(other))


_PLAN = _anchor_plan(BADNESS_RE)


def is_bad(text: str) -> bool:
    """Whether ftfy's badness heuristic flags ``text`` as mojibake (``ftfy.badness.is_bad``, exactly)."""
    plan = _PLAN
    if plan is None:
        return _ftfy_is_bad(text)
    search, fixed, other, width = BADNESS_RE.search, plan.fixed, plan.other, plan.width
    for m in plan.anchors.finditer(text):
        at = m.start()
        anchor = text[at]
        for offset, alternative in fixed.get(anchor, ()):
            if at >= offset and alternative.match(text, at - offset):
                return True
        # a repeat or "^" alternative: any match around this anchor lies within a window of the widest one
        if anchor in other and search(text, max(at - width + 1, 0), at + width):
            return True
    return False


def check_equivalence(texts: Iterable[str]) -> list[str]:
    """Texts on which this is_bad and ftfy's disagree (for tests and bench scripts)."""
    return [t for t in texts if is_bad(t) != _ftfy_is_bad(t)]
