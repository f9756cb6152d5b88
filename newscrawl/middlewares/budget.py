"""A per-host budget of discovery pages per run: calendar and pagination traps end, loudly.

An events calendar links to next month forever (``/calendar?month=2291-07``), a section's "next" link
keeps counting past the last page, a faceted search multiplies filters: a spider that follows such
links never runs dry, and plain Scrapy has no per-site bound (DEPTH_LIMIT is 0, and depth also cuts
legitimate deep pagination). NewsSpider itself only follows sitemaps, feeds and section pages, but an
outlet spider that paginates sections is one "next" link away from a trap.

This spider middleware counts, per origin (scheme://host:port), the requests a callback yields that
are *not* article requests (article requests carry ``meta["newscrawl_hint"]`` and are bounded by
``-a limit``): sitemaps, feeds, section and pagination pages. Past ``NEWSCRAWL_BUDGET_PER_HOST``
(default 1000) such requests per origin and run, further ones are dropped, with one WARNING per
origin and the stat ``newscrawl/budget/dropped``. Start requests are the operator's choice and are
never counted; a request with ``meta["newscrawl_budget_exempt"]`` is not either. 0 disables the bound.

Enable with::

    SPIDER_MIDDLEWARES = {"newscrawl.middlewares.budget.PageBudgetMiddleware": 900}

Why 900: process_spider_output runs in descending order; below the incremental skip (950), so a
request it drops never uses budget.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING

from scrapy.http import Request, Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

HINT_META = "newscrawl_hint"
EXEMPT_META = "newscrawl_budget_exempt"
STAT = "newscrawl/budget/"


class PageBudgetMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.stats = crawler.stats
        self.budget = crawler.settings.getint("NEWSCRAWL_BUDGET_PER_HOST", 1000)
        self.used: Counter[str] = Counter()
        self.exhausted: set[str] = set()

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        """The request, or None once its origin has used up the budget for this run."""
        if self.budget <= 0 or response is None or HINT_META in request.meta or request.meta.get(EXEMPT_META):
            return request
        parsed = urlparse_cached(request)
        origin = f"{parsed.scheme}://{parsed.netloc}".lower()
        if self.used[origin] < self.budget:
            self.used[origin] += 1
            return request
        self.stats.inc_value(STAT + "dropped")
        if origin not in self.exhausted:
            self.exhausted.add(origin)
            self.stats.inc_value(STAT + "exhausted_hosts")
            logger.warning("Page budget of %s used up (%d non-article pages, NEWSCRAWL_BUDGET_PER_HOST): "
                           "dropping further links such as %s (a calendar or pagination trap?)",
                           origin, self.budget, request.url[:300])
        return None
