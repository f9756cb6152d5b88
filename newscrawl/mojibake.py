"""ftfy's mojibake detector (``ftfy.badness.is_bad``), same answers, a fraction of the cost.

``is_bad`` is one regex search with ~25 alternatives tried at every position of the text; on a paragraph of
non-ASCII text (any curly quote) it costs ~0.1 ms, and clean_text runs it on every paragraph. Every alternative
is a sequence of at most a few characters (``width``) in which some position only accepts non-ASCII
characters from a small set (the alternative's *anchor*). So a match can only start within ``width - 1``
characters before an anchor character, and searching those short windows finds a match exactly when searching
the whole text does. Anchor characters are found with one character-class scan, which is fast in C.

The windows are derived from ftfy's own pattern when this module is imported; if the pattern ever stops having
that shape (an unbounded or context-dependent alternative), ``is_bad`` falls back to ftfy's full search.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ftfy.badness import BADNESS_RE
from ftfy.badness import is_bad as _ftfy_is_bad

try:  # Python 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
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


def _anchor_plan(pattern: re.Pattern[str]) -> tuple[re.Pattern[str], int] | None:
    """(regex of anchor characters, widest alternative) for a top-level alternation of bounded-width sequences."""
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    if len(tree) != 1 or tree[0][0] != sre_constants.BRANCH:
        return None
    anchors: set[str] = set()
    width = 0
    for branch in tree[0][1][1]:
        if not _context_free(branch):
            return None  # groups, unbounded repeats, lookarounds: no bounded window around an anchor
        width = max(width, branch.getwidth()[1])
        candidates = [c for c in (_class_chars(item) for item in branch) if c and not any(x.isascii() for x in c)]
        if not candidates:
            return None
        # the rarest-looking position: fewest letters (letters are common in real text), then fewest characters
        anchors |= min(candidates, key=lambda c: (sum(x.isalpha() for x in c), len(c)))
    if not width:
        return None
    return re.compile("[" + "".join(re.escape(c) for c in sorted(anchors)) + "]"), width


_PLAN = _anchor_plan(BADNESS_RE)


def is_bad(text: str) -> bool:
    """Whether ftfy's badness heuristic flags ``text`` as mojibake (``ftfy.badness.is_bad``, exactly)."""
    if _PLAN is None:
        return _ftfy_is_bad(text)
    anchors, width = _PLAN
    search = BADNESS_RE.search
    checked_to = -1
    for m in anchors.finditer(text):
        start = max(m.start() - width + 1, checked_to)
        end = m.start() + width
        if search(text, start, end):
            return True
        checked_to = m.start() + 1  # match starts up to here were tried with the previous window
    return False


def check_equivalence(texts: Iterable[str]) -> list[str]:
    """Texts on which this is_bad and ftfy's disagree (for tests and bench scripts)."""
    return [t for t in texts if is_bad(t) != _ftfy_is_bad(t)]
