"""Is this page an article? Section fronts, video hubs, live-blog indexes and soft 404s are not.

Conservative by design: a page is rejected only on a positive signal *and* a thin body, because a
real article wrongly dropped is lost for good while a stray index page is caught by validation.
"""
from __future__ import annotations

import re
from typing import Any

from newscrawl.processors import has_words

# "Page not found", "Error 404", "404 - Not Found"; a bare number is not enough ("Storm kills 404").
_SOFT_404 = re.compile(r"page not found|\berror 404\b|\b404\b\W*(?:error|not found|page)|could not be found"
                       r"|no longer available|page doesn.t exist|seite nicht gefunden|page introuvable", re.I)
_INDEX_PATH = re.compile(r"/(tag|tags|topic|topics|author|authors|category|section|search|live|video|videos)/?$",
                         re.I)
THIN_BODY_WORDS = 120


def classify_page(item: dict[str, Any], *, objs: list[dict[str, Any]], ld: dict[str, Any] | None,
                  meta: dict[str, list[str]], url: str, types: set[str]) -> tuple[str, str | None]:
    """-> (kind, reason); kind is "article", "empty", "not_found", "index" or "video"."""
    body = item.get("body") or ""
    thin = not has_words(body, THIN_BODY_WORDS)  # counts only as far as the threshold: a 5 kB body is not read
    if not item.get("headline") and not body:
        return "empty", "no headline and no body"
    headline = item.get("headline") or ""
    og_type = (meta.get("og:type") or [""])[0].lower()
    if thin:
        if _SOFT_404.search(headline) and ld is None:
            return "not_found", f"soft 404 title {headline[:60]!r}"
        if ld is None and types & {"collectionpage", "itemlist", "searchresultspage", "profilepage"}:
            return "index", "JSON-LD describes a collection page"
        if ld is None and "videoobject" in types and og_type.startswith("video"):
            return "video", "video page without article text"
        if ld is None and og_type == "website" and _INDEX_PATH.search(url.split("?")[0]):
            return "index", "og:type website on an index path"
    if thin and not has_words(body, 1):
        return "empty", "no body text"
    return "article", None
